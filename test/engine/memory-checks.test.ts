/**
 * The engine's memory safety: one allocator hands out every buffer (thread scratch included), operands must lie inside
 * one allocation, and in checking mode a write past any allocation — or through a null pointer — is reported after the
 * kernel call that made it, naming the operation and the buffer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFloat64Backend, type Backend, type Real } from '../../src/engine/backend.js';
import { createFastContext } from '../../src/engine/fast-context.js';
import { createNetwork } from '../../src/engine/network.js';
import { Optimizer } from '../../src/engine/optimizers.js';
import { Rng } from '../../src/engine/rng.js';
import { EngineMemoryError, GUARD_BYTES, SharedMemory } from '../../src/engine/shared-memory.js';

/** A raw view of the whole memory: what a faulty kernel could write through. */
function rawWords(view: Float32Array): Int32Array {
  return new Int32Array(view.buffer);
}

describe('memory checks', () => {
  test('ENGINE_CHECKS=1 (as the test runner sets) turns checking on by default', async () => {
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1 });
    try {
      assert.equal(ctx.checks, process.env.ENGINE_CHECKS === '1');
    } finally {
      await ctx.close();
    }
  });

  test('a write past a buffer is reported after the next kernel call, naming the operation and the buffer', async () => {
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1, checks: true });
    try {
      const a = ctx.alloc(8 * 8, 'matrix a'), b = ctx.alloc(8 * 8, 'matrix b'), c = ctx.alloc(8 * 8, 'matrix c');
      ctx.gemm('nn', 8, 8, 8, a, b, c, false); // clean
      rawWords(b)[(b.byteOffset + b.byteLength) / 4 + 3] = 123; // one word into b's guard
      assert.throws(() => ctx.gemm('nn', 8, 8, 8, a, b, c, false), (error: unknown) => {
        assert.ok(error instanceof EngineMemoryError);
        assert.match(error.message, /after gemm nn \(M=8, K=8, N=8\)/);
        assert.match(error.message, /past the end of matrix b/);
        return true;
      });
      ctx.gemm('nn', 8, 8, 8, a, b, c, false); // reported once, guards restored
    } finally {
      await ctx.close();
    }
  });

  test('a write through a null pointer is reported by the element-wise pass that made it', async () => {
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1, checks: true });
    try {
      const w = ctx.alloc(64, 'weights');
      rawWords(w)[40] = 7; // byte 160: inside the null guard
      assert.throws(() => ctx.ops.sumSquares(w), /after ops\.sumSquares: wrote to byte 160 of the null guard/);
    } finally {
      await ctx.close();
    }
  });

  test('an operand must lie inside one allocation (no range spanning two buffers)', async () => {
    const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 1, checks: true });
    try {
      const a = ctx.alloc(16, 'first');
      ctx.alloc(16, 'second');
      const spanning = new Float32Array(a.buffer, a.byteOffset, 16 + GUARD_BYTES / 4 + 4);
      assert.throws(() => ctx.ops.sumSquares(spanning), /do not lie inside one allocation \(nearest: first/);
    } finally {
      await ctx.close();
    }
  });

  test('the allocator names every allocation, refuses bad sizes and keeps a guard after each one', () => {
    const memory = new SharedMemory({ initialMiB: 1, checks: true });
    const x = memory.allocFloat32(10, 'x'), y = memory.allocFloat32(3, 'y');
    assert.deepEqual(memory.list.map((a) => a.name), ['x', 'y']);
    assert.ok(y.byteOffset >= x.byteOffset + x.byteLength + GUARD_BYTES);
    assert.throws(() => memory.reserve(-1, 'bad'), /bad: byte count/);
    memory.verify('nothing');
  });
});

describe('inference never touches the training workspace (PReLU, maxout)', () => {
  for (const activation of ['prelu', 'maxout'] as const) {
    test(`${activation}: evaluate between a forward and a backward pass leaves the gradient unchanged`, async () => {
      const ctx = await createFastContext({ threads: 1, initialMemoryMiB: 4, checks: true });
      try {
        const rng = new Rng(3);
        const n = 16, D = 6;
        const x = new Float32Array(n * D);
        rng.fillNormal(x, 0, x.length);
        const other = new Float32Array(n * D);
        rng.fillNormal(other, 0, other.length, 5, 3);
        const y = Int32Array.from({ length: n }, () => rng.int(3));
        const make = () => createNetwork({ inputs: D, outputs: 3, loss: 'softmax', layers: [{ units: 7, activation }] },
          { ctx, maxBatch: n, seed: 9, optimizer: { type: 'sgd', learningRate: 0.1 } });
        const plain = make(), probed = make();
        plain.computeGradients(x, y, n, { training: false });
        probed.computeGradients(x, y, n, { training: false });
        probed.evaluate(other, y, n); // different rows through the same layers
        probed.predict(other, n);
        // backward again from the training workspace the forward pass left
        const again = (net: typeof plain) => (net as unknown as { backward(n: number): void }).backward(n);
        again(plain);
        again(probed);
        assert.deepEqual(new Uint8Array(probed.grads.buffer, probed.grads.byteOffset, probed.grads.byteLength),
          new Uint8Array(plain.grads.buffer, plain.grads.byteOffset, plain.grads.byteLength));
      } finally {
        await ctx.close();
      }
    });
  }
});

describe('adaptive optimizers: moments are not flushed (issue 9, 6d)', () => {
  // g = 1e-17 and ε = 1e-20: Adam's first step is lr·ĝ/(|ĝ| + ε) ≈ lr. With the moments flushed below 1e-30,
  // v = 1e-3·g² = 1e-37 became 0 and the step became lr·g/ε = 1000·lr.
  for (const where of ['float64 reference', 'fast kernel'] as const) {
    test(`${where}: a tiny gradient with a tiny ε still moves Adam by ≈ lr`, async () => {
      const lr = 0.01;
      const step = <T extends Real>(backend: Backend<T>): T => {
        const w = backend.alloc(8, 'w'), g = backend.alloc(8, 'g');
        w.fill(0.5);
        g.fill(1e-17);
        new Optimizer<T>({ type: 'adam', learningRate: lr, epsilon: 1e-20 }, backend, 8).update(w, g, null);
        return w;
      };
      const ctx = where === 'fast kernel' ? await createFastContext({ threads: 1, initialMemoryMiB: 1, checks: true }) : null;
      try {
        const w = ctx ? step(ctx) : step(createFloat64Backend());
        for (const wi of w) assert.ok(Math.abs(0.5 - wi - lr) < 0.02 * lr, `step ${0.5 - wi}, expected ≈ ${lr}`);
      } finally {
        await ctx?.close();
      }
    });
  }

  test('ε below 1e-30 (zero in float32) is refused', () => {
    assert.throws(() => new Optimizer({ type: 'adam', learningRate: 0.1, epsilon: 1e-40 }, createFloat64Backend(), 4), /epsilon/);
  });
});
