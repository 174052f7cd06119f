/**
 * Reads a dataset's chunks with `COPY … TO STDOUT (FORMAT binary)` on one connection of the Prisma client's own
 * node-postgres pool (no connection of its own): the bytea values arrive as raw bytes (half the wire bytes of hex text,
 * no decoding) and are written from the protocol buffers straight into the matrix (../db/copy-binary-out.ts). Chunks
 * are copied a batch of CHUNKS_PER_COPY at a time, so that one statement stays well inside the statement timeout.
 */
import pg from 'pg';
import { CopyConnectionError, copyBinaryOut, type CopyTupleSink } from '../db/copy-binary-out.js';
import type { MatrixAssembly } from './matrix-assembly.js';
import type { DatasetMeta } from './types.js';

/** Chunks per COPY statement: about 256 MiB, a second or two at the speed this reader reaches. */
export const CHUNKS_PER_COPY = 256;

/** The columns copied, in order; the first three are int4. */
const COLUMNS = ['index', 'rowStart', 'rowCount', 'features', 'targets'] as const;

/** Every chunk of `meta`'s dataset into `assembly`, `chunksPerCopy` per statement. */
export async function readChunksWithCopy(pool: pg.Pool, meta: DatasetMeta, assembly: MatrixAssembly, chunksPerCopy = CHUNKS_PER_COPY): Promise<void> {
  const connection = await pool.connect();
  let broken: Error | undefined;
  try {
    for (let first = 0; first < meta.chunkCount; first += chunksPerCopy) {
      const end = first + chunksPerCopy < meta.chunkCount ? first + chunksPerCopy : null;
      await copyBinaryOut(connection, chunksSql(meta.id, first, end), new ChunkSink(assembly));
    }
  } catch (error) {
    if (error instanceof CopyConnectionError) broken = error;
    throw error;
  } finally {
    connection.release(broken);
  }
}

/**
 * Chunks [first, end) of a dataset; with no `end`, every chunk from `first` on, so that a chunk beyond the declared
 * count is seen (and refused by the assembly) rather than ignored. COPY takes no parameters: the id goes in as an
 * escaped literal (and is a uuid, checked by load.ts).
 */
function chunksSql(datasetId: string, first: number, end: number | null): string {
  const columns = COLUMNS.map((column) => pg.escapeIdentifier(column)).join(', ');
  const upTo = end === null ? '' : ` AND "index" < ${end}`;
  return `COPY (SELECT ${columns} FROM "DatasetChunk" WHERE "datasetId" = ${pg.escapeLiteral(datasetId)}::uuid`
    + ` AND "index" >= ${first}${upTo} ORDER BY "index") TO STDOUT (FORMAT binary)`;
}

/** One tuple per chunk: three int4 read into a scratch, then the two bytea written into the matrix in place. */
class ChunkSink implements CopyTupleSink {
  private readonly ints = new Uint8Array(12);
  private readonly view = new DataView(this.ints.buffer);

  constructor(private readonly assembly: MatrixAssembly) {}

  target(column: number, length: number): Uint8Array {
    if (column >= COLUMNS.length || length < 0) throw new Error(`unexpected COPY field ${column} of ${length} bytes for a dataset chunk`);
    if (column < 3) {
      if (length !== 4) throw new Error(`the chunk column ${COLUMNS[column]} has ${length} bytes, not an int4's 4`);
      return this.ints.subarray(column * 4, column * 4 + 4);
    }
    if (column === 3) {
      const [index, rowStart, rowCount] = [this.view.getInt32(0), this.view.getInt32(4), this.view.getInt32(8)];
      return this.assembly.chunk({ index, rowStart, rowCount, featureBytes: length });
    }
    return this.assembly.targets(length);
  }

  tupleEnd(): void {
    this.assembly.chunkDone();
  }
}
