/**
 * A dataset's matrix put together from its stored chunks, whichever way they are read (./chunk-reader-*.ts), with the
 * checks that keep a worker from training on torn data: chunks must continue each other's rows (rowStart), have the
 * declared shape (features rowCount×F×4 bytes, targets rowCount×4) and stay inside the dataset, together hold exactly
 * `meta.rows` rows, and hash to `meta.contentHash` (see ./codec.ts).
 *
 * A reader announces each chunk with `chunk(…)` and writes its features into the view it gets back, then its targets
 * into the view `targets(…)` gives (in place: no copy of its own), then calls `chunkDone()`; `finish()` checks the
 * totals and the hash. The features of a finished chunk are hashed then, while the next chunk may be on the wire.
 */
import type { Hash } from 'node:crypto';
import { bytesView, contentHasher } from './codec.js';
import type { CachedMatrix } from './dataset-cache.js';
import type { DatasetMeta } from './types.js';

export interface ChunkHeader {
  index: number;
  rowStart: number;
  rowCount: number;
  /** Stored length of the chunk's features, in bytes. */
  featureBytes: number;
}

export class MatrixAssembly {
  readonly x: Float32Array;
  readonly y: Int32Array | Float32Array;
  private readonly hasher: Hash = contentHasher();
  private expectedRow = 0;
  private open: { index: number; rowStart: number; rowCount: number; targets: boolean } | null = null;

  /** New arrays for `meta`'s dataset, over SharedArrayBuffers when `memory` is 'shared'. */
  constructor(private readonly meta: DatasetMeta, memory: 'own' | 'shared') {
    const buffer = (bytes: number) => (memory === 'shared' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.x = new Float32Array(buffer(meta.rows * meta.features * 4));
    this.y = meta.task === 'classification' ? new Int32Array(buffer(meta.rows * 4)) : new Float32Array(buffer(meta.rows * 4));
  }

  /**
   * The next chunk (in index order) begins: its rows and its features' length are checked, and the view to write its
   * features into returned.
   */
  chunk(header: ChunkHeader): Uint8Array {
    const { id, rows, features } = this.meta;
    const { index, rowStart, rowCount } = header;
    if (this.open) throw new Error(`dataset ${id}: chunk ${index} began before chunk ${this.open.index} was complete`);
    const torn = rowStart !== this.expectedRow || rowStart + rowCount > rows || header.featureBytes !== rowCount * features * 4;
    if (torn) throw this.torn(index);
    this.open = { index, rowStart, rowCount, targets: false };
    return new Uint8Array(this.x.buffer, rowStart * features * 4, header.featureBytes);
  }

  /** The open chunk's targets are `targetBytes` long: checked, and the view to write them into returned. */
  targets(targetBytes: number): Uint8Array {
    const open = this.open;
    if (!open || open.targets) throw new Error(`dataset ${this.meta.id}: chunk targets out of order`);
    if (targetBytes !== open.rowCount * 4) throw this.torn(open.index);
    open.targets = true;
    return new Uint8Array(this.y.buffer, open.rowStart * 4, targetBytes);
  }

  /** The bytes of the chunk begun last (features and targets) have all been written. */
  chunkDone(): void {
    const open = this.open;
    if (!open?.targets) throw new Error(`dataset ${this.meta.id}: a chunk was completed before its targets began`);
    const { features } = this.meta;
    this.hasher.update(new Uint8Array(this.x.buffer, open.rowStart * features * 4, open.rowCount * features * 4));
    this.expectedRow += open.rowCount;
    this.open = null;
  }

  private torn(index: number): Error {
    return new Error(`dataset ${this.meta.id}: chunk ${index} does not continue row ${this.expectedRow} with the declared shape`);
  }

  /** The matrix, once every row arrived and the content hash matches. */
  finish(): CachedMatrix {
    const { id, rows, contentHash } = this.meta;
    if (this.open) throw new Error(`dataset ${id}: the last chunk is incomplete`);
    if (this.expectedRow !== rows) throw new Error(`dataset ${id}: chunks hold ${this.expectedRow} rows, metadata says ${rows}`);
    const hash = this.hasher.update(bytesView(this.y)).digest('hex');
    if (hash !== contentHash) throw new Error(`dataset ${id}: content hash mismatch (stored ${contentHash}, read ${hash})`);
    return { x: this.x, y: this.y };
  }
}
