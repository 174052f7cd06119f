/**
 * How busy a Prisma client's Postgres pool is, for the metrics (src/metrics/api-metrics.ts). Prisma's pg adapter opens
 * its node-postgres pool itself, on the first query (and anew after `$disconnect()`); {@link ObservedPrismaPg} is that
 * adapter factory, keeping a reference to the pool it opened last.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';

export interface PoolStats {
  /** Connections the pool may open. */
  max: number;
  /** Connections open now (idle or in use). */
  total: number;
  /** Open connections not in use. */
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

export class ObservedPrismaPg extends PrismaPg {
  private pool: pg.Pool | null = null;

  constructor(private readonly poolConfig: pg.PoolConfig, options?: ConstructorParameters<typeof PrismaPg>[1]) {
    super(poolConfig, options);
  }

  override async connect(): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect();
    this.pool = adapter.underlyingDriver();
    return adapter;
  }

  /** The node-postgres pool opened last, for reads Prisma is slow at (dataset chunks); null before the first query or once it is ending. */
  driver(): pg.Pool | null {
    return this.pool && !this.pool.ending ? this.pool : null;
  }

  /** The pool's state now; zeros before the first query opened it. */
  stats(): PoolStats {
    const pool = this.pool;
    return { max: this.poolConfig.max ?? 10, total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
  }
}

const observed = new WeakMap<object, ObservedPrismaPg>();

/** Remembers which adapter a client was created with (src/db/client.ts). */
export function observePool(client: object, adapter: ObservedPrismaPg): void {
  observed.set(client, adapter);
}

/** The node-postgres pool under a client made by createDb while it is open (a query opens it); null otherwise. */
export function underlyingPool(client: object): pg.Pool | null {
  return observed.get(client)?.driver() ?? null;
}

/** The Postgres pool state of a client made by createDb; null for another client. */
export function poolStats(client: object): PoolStats | null {
  return observed.get(client)?.stats() ?? null;
}
