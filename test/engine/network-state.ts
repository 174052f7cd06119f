/**
 * Bit-level snapshots of everything that decides how a network trains on — parameters, gradients, optimizer moments
 * (optimizer.buffers), step counter and RNG state — and their comparison, for the invariant tests
 * (./invariants.test.ts) and the differential fuzzer (../fuzz/). Float arrays are compared as raw bits (NaN-safe,
 * −0 ≠ +0): "unchanged" means unchanged to the bit.
 */
import type { Network } from '../../src/engine/network.js';
import type { Real } from '../../src/engine/backend.js';
import type { RngState } from '../../src/engine/rng.js';

export interface NetworkState {
  params: Uint8Array;
  grads: Uint8Array;
  buffers: Uint8Array[];
  step: number;
  rng: RngState;
}

/** A copy of the bytes of a float array. */
export function bytesOf(a: Real): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

export function snapshot(net: Network<Real>): NetworkState {
  return {
    params: bytesOf(net.params),
    grads: bytesOf(net.grads),
    buffers: net.optimizer.buffers.map(bytesOf),
    step: net.step,
    rng: net.rng.state(),
  };
}

/** The first difference between two equal-length byte strings of floats of `width` bytes, as an element index; −1 if none. */
export function firstDifference(a: Uint8Array, b: Uint8Array, width = 4): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return Math.floor(i / width);
  return -1;
}

/** How many elements differ (floats of `width` bytes). */
export function countDifferences(a: Uint8Array, b: Uint8Array, width = 4): number {
  if (a.length !== b.length) return Math.max(a.length, b.length) / width;
  let count = 0;
  for (let i = 0; i < a.length; i += width) {
    for (let j = 0; j < width; j++) {
      if (a[i + j] !== b[i + j]) {
        count++;
        break;
      }
    }
  }
  return count;
}

function floatAt(bytes: Uint8Array, index: number, width: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return width === 8 ? view.getFloat64(index * 8, true) : view.getFloat32(index * 4, true);
}

/**
 * Differences between two snapshots, as human-readable lines (empty when bit-identical). `width` is the element size
 * of the networks' buffers (4 for Float32Array, 8 for Float64Array).
 */
export function diffStates(before: NetworkState, after: NetworkState, width = 4): string[] {
  const out: string[] = [];
  const arrays: [string, Uint8Array, Uint8Array][] = [
    ['params', before.params, after.params],
    ['grads', before.grads, after.grads],
    ...before.buffers.map((b, i): [string, Uint8Array, Uint8Array] => [`optimizer.buffers[${i}]`, b, after.buffers[i] ?? new Uint8Array(0)]),
  ];
  if (before.buffers.length !== after.buffers.length) out.push(`optimizer buffers: ${before.buffers.length} vs ${after.buffers.length}`);
  for (const [name, a, b] of arrays) {
    const first = firstDifference(a, b, width);
    if (first < 0) continue;
    if (a.length !== b.length) {
      out.push(`${name}: length ${a.length / width} vs ${b.length / width}`);
      continue;
    }
    out.push(`${name}: ${countDifferences(a, b, width)} of ${a.length / width} elements differ, first at [${first}]: ${floatAt(a, first, width)} vs ${floatAt(b, first, width)}`);
  }
  if (before.step !== after.step) out.push(`step: ${before.step} vs ${after.step}`);
  if (before.rng.some((w, i) => w !== after.rng[i])) out.push(`rng state: [${before.rng.join(', ')}] vs [${after.rng.join(', ')}]`);
  return out;
}
