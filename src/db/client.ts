/** The Prisma client factory: Prisma 7's Rust-free client over node-postgres (@prisma/adapter-pg). */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client.js';
export type { Tenant, ApiKey, Dataset, DatasetChunk, Job, Metric, Checkpoint, Model, JobStatus, DatasetTask } from '../generated/prisma/client.js';

export interface DbOptions {
  /** Connections in the pool. Default 10. */
  poolSize?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
