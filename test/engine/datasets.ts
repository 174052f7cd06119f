/** Small synthetic datasets for the engine tests, generated from the seeded RNG. */
import { Rng } from '../../src/engine/rng.js';

export interface Dataset<Y extends Int32Array | Float32Array> {
  x: Float32Array;
  y: Y;
  n: number;
  inputs: number;
}

/**
 * The CS231n spiral (cs231n.github.io/neural-networks-case-study): K arms of N points each in 2-D,
 *   r = linspace(0, 1, N), t = linspace(4j, 4(j+1), N) + 0.2·randn, x = (r·sin t, r·cos t), label j.
 */
export function spiral(seed = 0, N = 100, K = 3): Dataset<Int32Array> {
  const rng = new Rng(seed);
  const x = new Float32Array(N * K * 2), y = new Int32Array(N * K);
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < N; i++) {
      const r = i / (N - 1);
      const t = 4 * j + (4 * i) / (N - 1) + rng.normal() * 0.2;
      const o = j * N + i;
      x[2 * o] = r * Math.sin(t);
      x[2 * o + 1] = r * Math.cos(t);
      y[o] = j;
    }
  }
  return { x, y, n: N * K, inputs: 2 };
}

/** XOR of two bits, inputs at ±1. */
export function xor(): Dataset<Int32Array> {
  return { x: Float32Array.from([-1, -1, -1, 1, 1, -1, 1, 1]), y: Int32Array.from([0, 1, 1, 0]), n: 4, inputs: 2 };
}

/** y = sin(x) on n evenly spaced points of [−π, π]. */
export function sine(n = 200): Dataset<Float32Array> {
  const x = Float32Array.from({ length: n }, (_, i) => -Math.PI + (2 * Math.PI * i) / (n - 1));
  return { x, y: x.map(Math.sin), n, inputs: 1 };
}
