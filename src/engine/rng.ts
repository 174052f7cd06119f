/**
 * The engine's seeded random number generator: xoshiro128** (Blackman & Vigna), 128 bits of state, period 2^128 − 1,
 * seeded through SplitMix32. Everything random in a network (initialization, dropout masks, input noise) and in the
 * training loop (shuffling) draws from one of these, so a run is reproducible from its seed, and its full state is four
 * 32-bit words that can be saved and restored exactly ({@link Rng.state} / {@link Rng.restore}).
 *
 * Normal samples use Box–Muller on 53-bit uniforms; no spare sample is cached, so the state stays the four words.
 */

/** The complete state of an {@link Rng}: four unsigned 32-bit words, never all zero. JSON-safe. */
export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let t = x ^ (x >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

function checkState(state: RngState): void {
  if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
    throw new RangeError('rng state must be four unsigned 32-bit integers');
  }
  if (state.every((w) => w === 0)) throw new RangeError('rng state must not be all zero');
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** A generator seeded from a non-negative integer below 2^53 (the same seed always gives the same stream). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9 + i) >>> 0;
      words.push(splitmix32(x ^ Math.imul(hi, i + 1)));
    }
    if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0) words[0] = 1;
    this.restore([words[0], words[1], words[2], words[3]]);
  }

  /** A generator continuing exactly from a saved state. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.restore(state);
    return rng;
  }

  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  restore(state: RngState): void {
    checkState(state);
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** The next raw output, an unsigned 32-bit integer. */
  nextUint32(): number {
    const s0 = this.s0, s1 = this.s1;
    const r = Math.imul(s1, 5);
    const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    let s2 = this.s2 ^ s0;
    let s3 = this.s3 ^ s1;
    this.s1 = (s1 ^ s2) >>> 0;
    this.s0 = (s0 ^ s3) >>> 0;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits (two raw outputs). */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** A uniform integer in [0, n), unbiased (rejection sampling); n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`int(n) needs an integer n in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal sample (Box–Muller; the second sample of the pair is discarded). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fills out[offset .. offset+length) with mean + std·N(0,1), using both samples of each Box–Muller pair. */
  fillNormal(out: Float32Array | Float64Array, offset: number, length: number, mean = 0, std = 1): void {
    const end = offset + length;
    let i = offset;
    for (; i + 1 < end; i += 2) {
      const u1 = 1 - this.uniform();
      const u2 = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      out[i] = mean + std * r * Math.cos(theta);
      out[i + 1] = mean + std * r * Math.sin(theta);
    }
    if (i < end) out[i] = mean + std * this.normal();
  }

  /** Shuffles `a` in place (Fisher–Yates). */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
