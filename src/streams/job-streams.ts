/**
 * Every job stream of an API process: the shared event hub (one Redis subscriber), the shared and bounded Postgres
 * reads (at most STREAM_DB_CONCURRENCY queries at once for all streams), one heartbeat timer, and the set of open
 * streams (for stats and shutdown). Created once per process with the services.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Db } from '../db/client.js';
import { Heartbeat } from './heartbeat.js';
import type { JobEventHub } from './job-event-hub.js';
import { CLOSE, JobStream, type JobStreamStats, type JobStreamTarget } from './job-stream.js';
import { ReplayPacer } from './pacer.js';
import { StreamReads, type StreamReadsStats } from './stream-reads.js';

export interface JobStreamsOptions {
  db: Db;
  hub: JobEventHub;
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** Postgres queries the streams run at once. */
  dbConcurrency: number;
}

export class JobStreams {
  private readonly streams = new Set<JobStream>();
  private readonly heartbeat: Heartbeat;
  /** The streams' Postgres reads; also the upgrade's existence check (src/routes/streams/job-stream.ts). */
  readonly reads: StreamReads;
  private readonly pacer = new ReplayPacer();

  constructor(private readonly options: JobStreamsOptions) {
    this.heartbeat = new Heartbeat(options.heartbeatMs);
    this.reads = new StreamReads(options.db, options.dbConcurrency);
  }

  /** Serves one client; resolves once its stream is live (or closed). */
  async open(socket: WebSocket, target: JobStreamTarget, log: FastifyBaseLogger): Promise<void> {
    const { hub, maxBufferedBytes } = this.options;
    const stream = new JobStream(socket, target, { reads: this.reads, pacer: this.pacer, hub, maxBufferedBytes, log });
    this.streams.add(stream);
    socket.once('close', () => this.streams.delete(stream));
    this.heartbeat.track(socket);
    await stream.start();
  }

  /** Streams open now (the metrics' trainyard_websocket_connections). */
  get openCount(): number {
    return this.streams.size;
  }

  /** The shared event hub (also serves the sweep streams, src/sweeps/stream.ts). */
  get hub(): JobEventHub {
    return this.options.hub;
  }

  get stats(): { streams: JobStreamStats[]; hub: JobEventHub['stats']; reads: StreamReadsStats } {
    return { streams: [...this.streams].map((s) => s.stats), hub: this.options.hub.stats, reads: this.reads.stats };
  }

  /** Closes every stream with 1001 (the server is going away) and stops the heartbeat. */
  close(): void {
    for (const stream of this.streams) stream.close(CLOSE.goingAway, 'server shutting down', false);
    this.heartbeat.stop();
  }
}
