/** An upload source → a stored dataset: the options' defaults filled in, the reader chosen, the limits applied. */
import path from 'node:path';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { UploadPool } from '../../datasets/ingest/upload-pool.js';
import { readTable } from '../../datasets/readers/index.js';
import { ingestTable } from '../../datasets/store.js';
import type { DatasetMeta } from '../../datasets/types.js';
import type { UploadSource } from './upload-source.js';

export async function ingestUpload(pool: UploadPool, db: Db, tenantId: string, source: UploadSource, limits: Config['limits']): Promise<DatasetMeta> {
  const { format, options, filename } = source;
  const csv = { header: options.header ?? true, delimiter: options.delimiter ?? ',' };
  return ingestTable(
    pool,
    db,
    {
      tenantId,
      name: options.name ?? (filename ? path.parse(filename).name || filename : `upload ${new Date().toISOString()}`),
      source: format,
      sourceParams: {
        format,
        ...(filename && { filename }),
        ...(format === 'csv' && csv),
        ...(options.target !== undefined && { target: options.target }),
        ...(options.task !== undefined && { task: options.task }),
        ...(options.missing !== undefined && { missing: options.missing }),
      },
    },
    readTable(format, source.bytes, csv),
    { target: options.target, task: options.task, missing: options.missing },
    { rows: limits.datasetRows, features: limits.datasetFeatures, classes: limits.classes, tenantBytes: limits.tenantDatasetBytes },
    source.beforeCommit ? { beforeCommit: source.beforeCommit } : {},
  );
}
