/**
 * How a parallel gemm cuts C(M,N) into chunks that threads claim one at a time: a grid of rowChunks × colChunks blocks,
 * each chunkRows × chunkCols (the last row/column of blocks may be smaller). Any cut gives the same bits, because the
 * kernel reduces every element of C the same way wherever its block starts; the cut only balances the work.
 *
 * Column chunks come first: they cost nothing extra (each packs only its own columns of B). Rows are cut only when C has
 * too few columns to give every thread several chunks, since every row chunk packs its columns of B again.
 */
import { MAX_CHUNKS } from './pool-protocol.js';

export interface ChunkPlan {
  readonly chunkRows: number;
  readonly chunkCols: number;
  readonly rowChunks: number;
  readonly colChunks: number;
  readonly chunks: number;
}

/**
 * Chunks wanted per thread. One: each thread then packs A once and walks longer runs of each row of B, which measured
 * best on 2 cores (2 threads, GFLOPS, best of 2 × 5 batches: (64,784,256) 95 vs 88 with two chunks per thread,
 * (128,784,256) 97 vs 91, (784,32,256) 'tn' 109 vs 106, (1024,1024,1024) 105 vs 102; MLP 784-256-256-10 training
 * +4% at batch 32 and 128). The price: a thread held up by the OS has no second chunk to leave to the others.
 */
const CHUNKS_PER_THREAD = 1;
/** Column chunks are multiples of the kernel's 8-column panel, at least this wide and (unless N is huge) at most this wide. */
const MIN_CHUNK_COLS = 16;
const MAX_CHUNK_COLS = 256;
/** Row chunks are multiples of the kernel's 4-row tile, at least this tall (packing B is repeated per row chunk). */
const MIN_CHUNK_ROWS = 16;

const roundUp = (x: number, multiple: number): number => Math.ceil(x / multiple) * multiple;

export function planChunks(M: number, N: number, threads: number): ChunkPlan {
  const wanted = CHUNKS_PER_THREAD * threads;
  // Wider than MAX_CHUNK_COLS per thread: a whole multiple of `wanted` chunks of equal width, so that every thread gets
  // the same work (784 columns on 2 threads: 200, 200, 200, 184 rather than 256, 256, 256, 16).
  const colGroups = Math.max(1, Math.ceil(N / (wanted * MAX_CHUNK_COLS)));
  const chunkCols = Math.max(
    Math.min(MAX_CHUNK_COLS, Math.max(MIN_CHUNK_COLS, roundUp(Math.ceil(N / (wanted * colGroups)), 8))),
    roundUp(Math.ceil(N / MAX_CHUNKS), 8),
  );
  const colChunks = Math.ceil(N / chunkCols);
  let chunkRows = M;
  if (colChunks < wanted) {
    const rowsWanted = Math.ceil(wanted / colChunks);
    chunkRows = Math.max(MIN_CHUNK_ROWS, roundUp(Math.ceil(M / rowsWanted), 4));
  }
  // Keep within the ticket's chunk index range (only reached by very large M with few columns).
  const rowChunksMax = Math.max(1, Math.floor(MAX_CHUNKS / colChunks));
  if (Math.ceil(M / chunkRows) > rowChunksMax) chunkRows = roundUp(Math.ceil(M / rowChunksMax), 4);
  const rowChunks = Math.max(1, Math.ceil(M / chunkRows));
  return { chunkRows, chunkCols, rowChunks, colChunks, chunks: rowChunks * colChunks };
}
