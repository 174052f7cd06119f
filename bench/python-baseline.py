"""Baselines for bench/engine.ts: numpy (its BLAS) and torch on the same work, at one thread count.

Usage: python3 bench/python-baseline.py '<json request>'
  request: {"threads": n, "budget_s": seconds per measurement, "gemm": [[M, K, N], ...],
            "mlp_batches": [32, 128], "spiral": true, "libraries": ["numpy", "torch"]}
Prints one JSON object. A library that is not installed is reported as null, never as an error.
The caller sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (they must be set before numpy loads).
Every number is the best of 5 timed batches, each batch repeated until it lasts budget_s / 5.
"""
import json
import sys
import time


def best_rate(fn, budget_s, work):
    """work / (seconds per call), best of 5 batches; fn is warmed up first."""
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = time.perf_counter() - t0
        if dt >= budget_s / 25 or reps >= 1 << 20:
            break
        reps *= 2
    batch_reps = max(1, int(reps * (budget_s / 5) / max(dt, 1e-9)))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(batch_reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / batch_reps)
    return work / best


def loaded_blas():
    """Which BLAS library this process has mapped (Debian switches libblas.so.3 between implementations)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return "unknown"
    if any("openblas" in p for p in paths):
        return "openblas"
    if any("mkl" in p for p in paths):
        return "mkl"
    if any("blis" in p for p in paths):
        return "blis"
    if any("atlas" in p for p in paths):
        return "atlas"
    if any("blas" in p for p in paths):
        return "reference-blas"
    return "unknown"


def numpy_gemm(request):
    try:
        import numpy as np
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    rates = []
    for m, k, n in request["gemm"]:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        rates.append(best_rate(lambda: np.matmul(a, b, out=c), request["budget_s"], 2 * m * k * n) / 1e9)
    return {"version": np.__version__, "blas": loaded_blas(), "gflops": rates}


def torch_all(request):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(request["threads"])
    torch.manual_seed(0)
    budget = request["budget_s"]
    out = {"version": torch.__version__, "gflops": [], "mlp": [], "spiral": None}
    with torch.no_grad():
        for m, k, n in request["gemm"]:
            a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
            out["gflops"].append(best_rate(lambda: torch.mm(a, b, out=c), budget, 2 * m * k * n) / 1e9)

    def trainer(sizes, batch):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        x = torch.randn(batch, sizes[0])
        y = torch.randint(0, sizes[-1], (batch,))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()

        return step

    for batch in request.get("mlp_batches", []):
        out["mlp"].append({"batch": batch, "samples_per_s": best_rate(trainer([784, 256, 256, 10], batch), budget, batch)})
    if request.get("spiral"):
        out["spiral"] = {"steps_per_s": best_rate(trainer([2, 100, 3], 300), budget, 1)}
    return out


def main():
    request = json.loads(sys.argv[1])
    libraries = request.get("libraries", ["numpy", "torch"])
    print(json.dumps({
        "threads": request["threads"],
        "numpy": numpy_gemm(request) if "numpy" in libraries else None,
        "torch": torch_all(request) if "torch" in libraries else None,
    }))


if __name__ == "__main__":
    main()
