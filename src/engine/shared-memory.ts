/**
 * One shared WebAssembly.Memory and a bump allocator over it. Every engine thread sees the same bytes, so buffers
 * allocated here (parameters, gradients, activations) reach the kernels without copies. Nothing is ever freed:
 * a buffer lives as long as the memory. Fresh bytes are zero (WebAssembly memory starts and grows zero-filled).
 *
 * Bound: allocations together may not exceed `maxMemoryMiB` (the memory grows on demand up to it, in whole 64 KiB pages);
 * past it alloc throws a RangeError. WebAssembly 32-bit memories stop at 4 GiB.
 */

const PAGE = 65536;
const MIB = 1 << 20;
/** Largest 32-bit WebAssembly memory, in MiB. */
export const MAX_MEMORY_MIB = 4096;

export interface SharedMemoryOptions {
  /** Size the memory starts with, in MiB. Default 16. */
  initialMiB?: number;
  /** Size the memory may grow to, in MiB (≤ 4096). Default 1024. */
  maxMiB?: number;
}

function checkMiB(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_MEMORY_MIB) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_MEMORY_MIB}, got ${value}`);
  }
  return value;
}

export class SharedMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  /** Every SharedArrayBuffer object a view was built on (a new one after each grow; older views stay valid). */
  private readonly buffers = new Set<ArrayBufferLike>();
  private top = 16; // byte 0..15 stay unused, so no buffer starts at address 0

  constructor(options: SharedMemoryOptions = {}) {
    const initialMiB = checkMiB('initialMemoryMiB', options.initialMiB ?? 16);
    const maxMiB = checkMiB('maxMemoryMiB', options.maxMiB ?? 1024);
    if (initialMiB > maxMiB) throw new RangeError(`initialMemoryMiB (${initialMiB}) exceeds maxMemoryMiB (${maxMiB})`);
    this.maxBytes = maxMiB * MIB;
    this.memory = new WebAssembly.Memory({ initial: (initialMiB * MIB) / PAGE, maximum: this.maxBytes / PAGE, shared: true });
  }

  /** Bytes handed out so far (including alignment padding). */
  get used(): number {
    return this.top;
  }

  /** Reserves `bytes` bytes, 16-byte aligned, and returns their address. */
  reserve(bytes: number): number {
    const at = this.top;
    const end = at + Math.ceil(bytes / 16) * 16;
    if (end > this.maxBytes) {
      throw new RangeError(`engine memory exhausted: ${bytes} more bytes requested, ${this.top} of ${this.maxBytes} in use (maxMemoryMiB)`);
    }
    const size = this.memory.buffer.byteLength;
    if (end > size) {
      // Grow by at least half the current size, so a run of small allocations grows O(log) times.
      const wanted = Math.min(this.maxBytes, Math.max(end, size + size / 2));
      this.memory.grow(Math.ceil((wanted - size) / PAGE));
    }
    this.top = end;
    return at;
  }

  /** A zero-filled, 16-byte aligned Float32Array of `length` elements. */
  allocFloat32(length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc length must be a non-negative integer, got ${length}`);
    const at = this.reserve(length * 4);
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
}
