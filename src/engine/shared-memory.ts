/**
 * One shared WebAssembly.Memory and THE allocator over it: every byte a kernel touches — parameters, gradients,
 * activations, optimizer state, the kernels' argument blocks and partial sums, and each thread's scratch — is a named
 * allocation made here, and nothing else hands out addresses. Nothing is ever freed: an allocation lives as long as the
 * memory. Fresh bytes are zero (WebAssembly memory starts and grows zero-filled).
 *
 * Bound: allocations together may not exceed `maxMemoryMiB` (the memory grows on demand up to it, in whole 64 KiB pages);
 * past it alloc throws a RangeError. WebAssembly 32-bit memories stop at 4 GiB.
 *
 * Checking mode (`checks: true`; ENGINE_CHECKS=1 turns it on for every context, and the tests run with it): the first
 * NULL_GUARD_BYTES of the memory and GUARD_BYTES after every allocation hold a canary pattern, and {@link verify} —
 * called by the context after every kernel call and element-wise pass — names the operation and the allocation whose
 * guard was overwritten. The null guard catches a kernel that writes through an absent (0) pointer. {@link locate}
 * checks that an operand lies inside one allocation, so a kernel is never handed a range that spans two buffers.
 */

const PAGE = 65536;
const MIB = 1 << 20;
/** Largest 32-bit WebAssembly memory, in MiB. */
export const MAX_MEMORY_MIB = 4096;
/** Checking mode: bytes of canary after each allocation. */
export const GUARD_BYTES = 64;
/** Checking mode: bytes of canary at address 0, where writes through a null pointer land. */
export const NULL_GUARD_BYTES = 4096;
/** The canary word (a quiet-NaN bit pattern no kernel computes). */
const CANARY = 0x7fa5a5a5;

export interface SharedMemoryOptions {
  /** Size the memory starts with, in MiB. Default 16. */
  initialMiB?: number;
  /** Size the memory may grow to, in MiB (≤ 4096). Default 1024. */
  maxMiB?: number;
  /** Guard words between allocations, checked by {@link SharedMemory.verify}. Default false. */
  checks?: boolean;
}

/** One allocation: its name (for messages), its first byte and its length in bytes. */
export interface Allocation {
  readonly name: string;
  readonly at: number;
  readonly bytes: number;
}

/** A kernel wrote outside the allocation it was given (checking mode), or an operand does not lie in one allocation. */
export class EngineMemoryError extends Error {
  override name = 'EngineMemoryError';
}

function checkMiB(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_MEMORY_MIB) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_MEMORY_MIB}, got ${value}`);
  }
  return value;
}

/** A point in the allocator's history (see SharedMemory.mark). */
export interface MemoryMark {
  readonly top: number;
  readonly allocations: number;
}

export class SharedMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  readonly checks: boolean;
  /** Every allocation, in address order (the allocator only bumps). */
  private readonly allocations: Allocation[] = [];
  /** Every SharedArrayBuffer object a view was built on (a new one after each grow; older views stay valid). */
  private readonly buffers = new Set<ArrayBufferLike>();
  private top: number;
  private words: Int32Array | null = null;

  constructor(options: SharedMemoryOptions = {}) {
    const initialMiB = checkMiB('initialMemoryMiB', options.initialMiB ?? 16);
    const maxMiB = checkMiB('maxMemoryMiB', options.maxMiB ?? 1024);
    if (initialMiB > maxMiB) throw new RangeError(`initialMemoryMiB (${initialMiB}) exceeds maxMemoryMiB (${maxMiB})`);
    this.maxBytes = maxMiB * MIB;
    this.checks = options.checks ?? false;
    this.memory = new WebAssembly.Memory({ initial: (initialMiB * MIB) / PAGE, maximum: this.maxBytes / PAGE, shared: true });
    // Bytes 0..15 stay unused, so no buffer starts at address 0 (0 means "absent" to the kernels).
    this.top = this.checks ? NULL_GUARD_BYTES : 16;
    if (this.checks) this.fillCanary(0, NULL_GUARD_BYTES);
  }

  /** Bytes handed out so far (including alignment padding and guards). */
  get used(): number {
    return this.top;
  }

  /** The allocations so far, in address order. */
  get list(): readonly Allocation[] {
    return this.allocations;
  }

  /** Reserves `bytes` bytes, 16-byte aligned, under `name`, and returns their address. */
  reserve(bytes: number, name: string): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`engine memory: ${name}: byte count must be a non-negative integer, got ${bytes}`);
    const at = this.top;
    const end = at + Math.ceil(bytes / 16) * 16;
    const next = end + (this.checks ? GUARD_BYTES : 0);
    if (next > this.maxBytes) {
      throw new RangeError(`engine memory exhausted: ${bytes} more bytes requested for ${name}, ${this.top} of ${this.maxBytes} in use (maxMemoryMiB)`);
    }
    const size = this.memory.buffer.byteLength;
    if (next > size) {
      // Grow by at least half the current size, so a run of small allocations grows O(log) times.
      const wanted = Math.min(this.maxBytes, Math.max(next, size + size / 2));
      this.memory.grow(Math.ceil((wanted - size) / PAGE));
    }
    this.top = next;
    this.allocations.push({ name, at, bytes });
    if (this.checks) this.fillCanary(end, GUARD_BYTES);
    return at;
  }

  /** A zero-filled, 16-byte aligned Float32Array of `length` elements, allocated under `name`. */
  allocFloat32(length: number, name: string): Float32Array {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc length must be a non-negative integer, got ${length}`);
    const at = this.reserve(length * 4, name);
    // V8 may hand out a new SharedArrayBuffer object for the same memory at any time after a grow (it refreshes the
    // buffer when the grow is broadcast to every thread), so record the one this view is built on.
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return new Float32Array(buffer, at, length);
  }

  /** Whether `view` lies in this memory. */
  owns(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  /**
   * The allocation that holds all of `view` (checking mode); throws an EngineMemoryError naming `what` if the view is
   * not this memory's or spans past the end of its allocation. Outside checking mode only ownership is checked (null).
   */
  locate(view: ArrayBufferView, what: string): Allocation | null {
    if (!this.owns(view)) throw new TypeError(`${what} was not allocated by this context (use ctx.alloc)`);
    if (!this.checks) return null;
    const start = view.byteOffset, end = start + view.byteLength;
    const list = this.allocations;
    let lo = 0, hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].at <= start) lo = mid;
      else hi = mid - 1;
    }
    const a = list[lo];
    if (!a || start < a.at || end > a.at + a.bytes) {
      throw new EngineMemoryError(`${what}: bytes [${start}, ${end}) do not lie inside one allocation${a ? ` (nearest: ${a.name} at [${a.at}, ${a.at + a.bytes}))` : ''}`);
    }
    return a;
  }

  /**
   * Checking mode: throws an EngineMemoryError naming `operation` and the allocation if any guard was overwritten (and
   * restores the guards, so that one fault is reported once). A no-op outside checking mode.
   */
  verify(operation: string): void {
    if (!this.checks) return;
    const words = this.view();
    const hit = (from: number, bytes: number): number => {
      for (let w = from >> 2, e = (from + bytes) >> 2; w < e; w++) if (words[w] !== CANARY) return w << 2;
      return -1;
    };
    const problems: string[] = [];
    const nullHit = hit(0, NULL_GUARD_BYTES);
    if (nullHit >= 0) {
      problems.push(`wrote to byte ${nullHit} of the null guard (a null pointer used as a buffer)`);
      this.fillCanary(0, NULL_GUARD_BYTES);
    }
    for (const a of this.allocations) {
      const guard = a.at + Math.ceil(a.bytes / 16) * 16;
      const at = hit(guard, GUARD_BYTES);
      if (at >= 0) {
        problems.push(`wrote past the end of ${a.name} (${a.bytes} bytes at ${a.at}; guard byte ${at - guard} overwritten)`);
        this.fillCanary(guard, GUARD_BYTES);
      }
      if (problems.length >= 8) break;
    }
    if (problems.length) throw new EngineMemoryError(`engine memory check after ${operation}: ${problems.join('; ')}`);
  }

  /** Where the allocator stands now: give it to {@link rewind} to release everything allocated after this point. */
  mark(): MemoryMark {
    return { top: this.top, allocations: this.allocations.length };
  }

  /**
   * Releases every allocation made after `mark` and zero-fills their bytes, so the next allocations start zeroed as on
   * a fresh memory (what a context reused for another job relies on). Views into the released bytes must not be used
   * again. The memory keeps its size.
   */
  rewind(mark: MemoryMark): void {
    if (mark.top > this.top || mark.allocations > this.allocations.length) throw new RangeError('engine memory: rewind to a mark past the current top');
    new Uint8Array(this.memory.buffer, mark.top, this.top - mark.top).fill(0);
    this.allocations.length = mark.allocations;
    this.top = mark.top;
  }

  private view(): Int32Array {
    if (!this.words || this.words.buffer.byteLength !== this.memory.buffer.byteLength) this.words = new Int32Array(this.memory.buffer);
    return this.words;
  }

  private fillCanary(at: number, bytes: number): void {
    this.view().fill(CANARY, at >> 2, (at + bytes) >> 2);
  }
}
