"""The PyTorch side of bench/service-jobs.ts: trains `jobs` CS231n spiral networks (2-100-3, ReLU, softmax, SGD with
learning rate 1.0 and L2 1e-3, full batch) for `steps` steps each, one after another, in one Python process: what a
user's own loop would do. Prints one JSON line with the wall time (model building included; data generation not)."""
import json
import sys
import time

import numpy as np
import torch


def spiral(n, classes, seed):
    rng = np.random.default_rng(seed)
    x = np.zeros((n * classes, 2), dtype=np.float32)
    y = np.zeros(n * classes, dtype=np.int64)
    for j in range(classes):
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + rng.standard_normal(n) * 0.2
        x[j * n:(j + 1) * n] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[j * n:(j + 1) * n] = j
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    request = json.loads(sys.argv[1])
    torch.set_num_threads(request["threads"])
    x, y = spiral(100, 3, 1)
    start = time.perf_counter()
    final_losses = []
    for job in range(request["jobs"]):
        torch.manual_seed(job)
        net = torch.nn.Sequential(torch.nn.Linear(2, 100), torch.nn.ReLU(), torch.nn.Linear(100, 3))
        opt = torch.optim.SGD(net.parameters(), lr=1.0, weight_decay=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(request["steps"]):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        final_losses.append(float(loss))
    wall = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "threads": request["threads"], "jobs": request["jobs"], "steps": request["steps"],
                      "wall_s": wall, "mean_final_loss": sum(final_losses) / len(final_losses)}))


if __name__ == "__main__":
    main()
