/**
 * The storage codec of a dataset, which the training worker and every writer rely on:
 *
 *   DatasetChunk i holds rows [rowStart, rowStart + rowCount):
 *     features  rowCount×F float32, little-endian, row-major (row r's F values, then row r+1's)
 *     targets   rowCount int32 class indices (classification) or rowCount float32 values (regression), little-endian
 *   Chunks are numbered 0, 1, … in row order; every chunk but the last holds exactly rowsPerChunk(F) rows, so a chunk's
 *   features never exceed CHUNK_FEATURE_BYTES (a single row wider than that gets a chunk of its own).
 *
 *   contentHash = hex SHA-256 of every chunk's features bytes in chunk order, followed by every chunk's targets bytes in
 *   chunk order. Equivalently: SHA-256(bytes of x as Float32Array ‖ bytes of y), with x and y as load.ts returns them.
 *
 * Typed arrays are used directly as the byte encoding, which is little-endian only on little-endian hosts; the module
 * refuses to load elsewhere rather than store byte-swapped data.
 */
import { createHash, type Hash } from 'node:crypto';
import os from 'node:os';

if (os.endianness() !== 'LE') throw new Error('Trainyard stores datasets as little-endian typed arrays and needs a little-endian host');

/** Upper bound of one chunk's features bytes (1 MiB). */
export const CHUNK_FEATURE_BYTES = 1024 * 1024;

/** Rows per chunk for F features: as many as fit in CHUNK_FEATURE_BYTES, at least one. */
export function rowsPerChunk(features: number): number {
  return Math.max(1, Math.floor(CHUNK_FEATURE_BYTES / (4 * features)));
}

/** Bytes stored for R rows of F features (features plus targets). */
export function storedBytes(rows: number, features: number): number {
  return rows * features * 4 + rows * 4;
}

/** A copy of a typed array's bytes, in the form Prisma's Bytes fields take (a Uint8Array over its own ArrayBuffer). */
export function bytesOf(view: Float32Array | Int32Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return copy;
}

/** Copies stored bytes into `target` starting at element `at` (the bytes may sit at any alignment). */
export function copyBytesInto(target: Float32Array | Int32Array, at: number, bytes: Uint8Array): void {
  if (bytes.byteLength % 4 !== 0) throw new Error(`a stored array has ${bytes.byteLength} bytes, not a multiple of 4`);
  new Uint8Array(target.buffer, target.byteOffset + at * 4, bytes.byteLength).set(bytes);
}

/** A view of a typed array's bytes (no copy), for hashing. */
export function bytesView(view: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** A SHA-256 to feed in the order stated above: all features bytes first, then all targets bytes. */
export function contentHasher(): Hash {
  return createHash('sha256');
}
