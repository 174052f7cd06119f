/**
 * A worker's decoded datasets, kept between jobs so that a sweep's trials and repeated jobs on one dataset do not read
 * it from Postgres again. Keyed by the dataset's content hash (SHA-256 of its stored bytes), so two datasets with the
 * same content share one entry, and an entry can never be stale: different bytes have a different key.
 *
 * Least recently used entries are evicted once the cached bytes pass `maxBytes`; a dataset larger than `maxBytes` is
 * loaded but not kept. The arrays live in SharedArrayBuffers: a trainer thread reads them in place (it never writes
 * its input; training gathers rows into arrays of its own), so a hit costs no copy. Concurrent loads of one key share
 * one read.
 */

export interface CachedMatrix {
  /** R×F, row-major, over a SharedArrayBuffer. Read only. */
  readonly x: Float32Array;
  /** R targets over a SharedArrayBuffer. Read only. */
  readonly y: Int32Array | Float32Array;
}

export interface DatasetCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

export class DatasetCache {
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, CachedMatrix>();
  private readonly loading = new Map<string, Promise<CachedMatrix>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`the dataset cache's size must be ≥ 0 bytes, got ${maxBytes}`);
  }

  /** The cached matrix of `key`, or the one `load` produces (then cached when it fits). */
  async get(key: string, load: () => Promise<CachedMatrix>): Promise<CachedMatrix> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const pending = this.loading.get(key);
    if (pending) {
      this.hits++;
      return pending;
    }
    this.misses++;
    const loaded = load().then((matrix) => {
      this.put(key, matrix);
      return matrix;
    }).finally(() => this.loading.delete(key));
    this.loading.set(key, loaded);
    return loaded;
  }

  stats(): DatasetCacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, entries: this.entries.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }

  private put(key: string, matrix: CachedMatrix): void {
    const size = sizeOf(matrix);
    if (size > this.maxBytes || this.entries.has(key)) return;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes + size <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(entry);
      this.evictions++;
    }
    this.entries.set(key, matrix);
    this.bytes += size;
  }
}

function sizeOf(matrix: CachedMatrix): number {
  return matrix.x.byteLength + matrix.y.byteLength;
}
