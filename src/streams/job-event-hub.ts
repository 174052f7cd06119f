/**
 * In-process fan-out of job events: any number of local listeners (WebSocket streams) per job share one Redis channel
 * subscription, taken by the first listener and dropped with the last (reference counting). Each message is parsed once
 * per process and handed to every listener with its original text and that text's UTF-8 bytes, so streams forward it
 * without re-encoding it per client.
 */
import { jobEventsChannel, parseJobEvent, type JobEvent } from '../queue/job-events.js';
import type { RedisSubscriber } from '../queue/redis-subscriber.js';

/** Receives a job's live events, in publishing order, with their text and its UTF-8 bytes. Must not throw. */
export type JobEventListener = (event: JobEvent, text: string, bytes: Buffer) => void;

interface Topic {
  listeners: Set<JobEventListener>;
  /** Settles when the channel subscription is confirmed (or failed). */
  subscribed: Promise<void>;
}

export class JobEventHub {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly subscriber: RedisSubscriber,
    private readonly queuePrefix: string,
  ) {}

  /**
   * Adds a listener of the job's events. Resolves, with the function that removes it, once Redis confirmed the
   * subscription: every event published from then on reaches the listener.
   */
  async subscribe(jobId: string, listener: JobEventListener): Promise<() => void> {
    let topic = this.topics.get(jobId);
    if (!topic) {
      const listeners = new Set<JobEventListener>();
      const channel = jobEventsChannel(this.queuePrefix, jobId);
      const subscribed = this.subscriber.listen(channel, (text) => {
        const event = parseJobEvent(text);
        if (!event || event.jobId !== jobId) return;
        const bytes = Buffer.from(text, 'utf8');
        for (const l of listeners) l(event, text, bytes);
      });
      topic = { listeners, subscribed };
      this.topics.set(jobId, topic);
    }
    const current = topic;
    current.listeners.add(listener);
    try {
      await current.subscribed;
    } catch (error) {
      this.remove(jobId, current, listener);
      throw error;
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.remove(jobId, current, listener);
    };
  }

  private remove(jobId: string, topic: Topic, listener: JobEventListener): void {
    topic.listeners.delete(listener);
    if (topic.listeners.size > 0 || this.topics.get(jobId) !== topic) return;
    this.topics.delete(jobId);
    void this.subscriber.unlisten(jobEventsChannel(this.queuePrefix, jobId));
  }

  /** Runs `listener` after the subscriber reconnected (events may have been missed); returns its remover. */
  onReconnect(listener: () => void): () => void {
    return this.subscriber.onReconnect(listener);
  }

  /** Jobs with at least one local listener, and listeners in all. */
  get stats(): { jobs: number; listeners: number } {
    let listeners = 0;
    for (const t of this.topics.values()) listeners += t.listeners.size;
    return { jobs: this.topics.size, listeners };
  }
}
