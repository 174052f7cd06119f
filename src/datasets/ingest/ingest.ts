/**
 * The streaming path of a dataset: table events (from a CSV or JSON reader) → validated rows → chunks in Postgres.
 *
 * Memory stays at about one chunk (≤ 1 MiB of features) whatever the upload's size. The first chunk is filled before
 * the database is touched, so a small upload is validated whole first and a bad one never opens a transaction. Past
 * that, everything is written in ONE transaction: chunks are inserted as they fill, the targets are rewritten into
 * their final encoding at the end (targets.ts says why), and the Dataset row is completed. Any problem, a client that
 * goes away or a crash rolls it all back, so a rejected upload leaves nothing behind. The cost: a large upload holds
 * one connection of the upload pool while it streams (upload-pool.ts). The tenant's storage limit is checked before
 * anything is read (a full tenant is refused at once) and, race-free, right before the row is completed
 * (../storage-quota.ts).
 */
import type { Db } from '../../db/client.js';
import { apiError } from '../../errors.js';
import { contentHasher, storedBytes } from '../codec.js';
import type { DatasetHeader } from '../dataset-rows.js';
import { toMeta } from '../meta.js';
import type { TableEvent } from '../readers/events.js';
import { pgRunner, prismaRunner, refuseWhenFull, reserveDatasetBytes } from '../storage-quota.js';
import type { DatasetMeta } from '../types.js';
import { mediansOf, planEncoding, rewriteChunks } from './finalize.js';
import { completeRow, insertChunk, insertPlaceholder, rewriteTargets } from './pg-writes.js';
import { TableBuilder, type FinishedTable, type IngestLimits, type PendingChunk, type TableOptions } from './table-builder.js';
import { inTransaction, type UploadPool } from './upload-pool.js';

export type IngestHeader = Omit<DatasetHeader, 'featureNames' | 'targetName'>;

export interface IngestHooks {
  /** Runs after the last row, inside the transaction, before anything is final: throw to refuse the upload. */
  beforeCommit?: () => Promise<void>;
}

/**
 * @param pool  writes: the upload pool (upload-pool.ts)
 * @param db    reads the stored dataset back once committed
 */
export async function ingestTable(
  pool: UploadPool,
  db: Db,
  header: IngestHeader,
  events: AsyncIterable<TableEvent[]>,
  options: TableOptions,
  limits: IngestLimits,
  hooks: IngestHooks = {},
): Promise<DatasetMeta> {
  const input = new EventQueue(events[Symbol.asyncIterator]());
  const table = new TableBuilder(options, limits);
  try {
    if (limits.tenantBytes !== undefined) await refuseWhenFull(prismaRunner(db), header.tenantId, limits.tenantBytes);
    let ended = await input.fill(table);
    let finished: FinishedTable | null = ended ? table.finish() : null;
    const id = await inTransaction(pool, async (connection) => {
      const layout = table.currentLayout!;
      const id = await insertPlaceholder(connection, { ...header, featureNames: layout.featureNames, targetName: layout.targetName });
      const hash = contentHasher();
      let chunkCount = 0;
      const write = async (chunk: PendingChunk | null) => {
        if (!chunk) return;
        hash.update(chunk.features);
        await insertChunk(connection, id, chunkCount++, chunk);
      };
      await write(table.take());
      while (!ended) {
        ended = await input.fill(table);
        await write(table.take());
      }
      finished ??= table.finish();
      await hooks.beforeCommit?.();
      const { decision, columns } = finished;
      const strategy = options.missing ?? 'error';
      let final = { features: layout.featureNames.length, featureNames: layout.featureNames, stats: finished.stats, chunkCount };
      let finalHash = hash;
      const medians = strategy === 'median' ? await mediansOf(connection, id, chunkCount, layout.featureNames.length, columns) : new Map<number, number>();
      const { encoding, fills, remaps } = planEncoding(layout, columns, strategy, medians);
      if (columns.needsRewrite) {
        finalHash = contentHasher();
        final = await rewriteChunks(connection, id, chunkCount, layout, encoding, fills, remaps, decision, finalHash);
      } else {
        await rewriteTargets(connection, id, chunkCount, decision.encode, hash);
      }
      if (final.features > limits.features) {
        throw apiError('DATASET_TOO_MANY_FEATURES', `One-hot encoding gives ${final.features} features; the limit is ${limits.features}`, { features: final.features, limit: limits.features });
      }
      if (limits.tenantBytes !== undefined) {
        await reserveDatasetBytes(pgRunner(connection), header.tenantId, id, storedBytes(finished.rows, final.features), limits.tenantBytes);
      }
      await completeRow(connection, id, final.features, {
        task: decision.task,
        rows: finished.rows,
        classNames: decision.classNames,
        classCounts: decision.classCounts,
        stats: { features: final.stats, target: decision.targetStats },
        contentHash: finalHash.digest('hex'),
        chunkCount: final.chunkCount,
      }, { featureNames: final.featureNames, encoding });
      return id;
    });
    return toMeta(await db.dataset.findUniqueOrThrow({ where: { id } }));
  } finally {
    await input.close();
  }
}

/** Batches of events, handed to the table one at a time however the batches fall across chunks. */
class EventQueue {
  private batch: TableEvent[] = [];
  private at = 0;

  constructor(private readonly batches: AsyncIterator<TableEvent[]>) {}

  /** Feeds events until the current chunk is full (false) or the input ends (true). */
  async fill(table: TableBuilder): Promise<boolean> {
    while (!table.full) {
      if (this.at === this.batch.length) {
        const next = await this.batches.next();
        if (next.done) return true;
        this.batch = next.value;
        this.at = 0;
        continue;
      }
      table.accept(this.batch[this.at++]!);
    }
    return false;
  }

  /** Releases the source (its parser and the request) early when ingestion stopped before the end. */
  async close(): Promise<void> {
    await this.batches.return?.();
  }
}
