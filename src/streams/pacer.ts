/**
 * Shares the event loop between the replays of all streams of the process. A replay page is read once for every
 * subscriber (./stream-reads.ts), so a thousand streams waiting on the same read resume in the same microtask
 * checkpoint; sending their pages at once would hold the loop for seconds (a thousand times hundreds of frames) while
 * requests wait. Instead a replay sends its messages in slices of SLICE, each after `turn()`: every loop turn lets at
 * most `slicesPerTurn` slices through (round robin, in arrival order), so requests and live events get the loop back
 * after at most a few dozen frames whatever the number of replays. (Measured with 1,000 replaying streams, bench/
 * stream-load.ts: 4 slices of 64 per turn gave GET /v1/jobs/:id a p50 of 107 ms, 1 slice of 32 gave 18 ms, and the
 * replays finished no later.)
 */

/** Messages a replay sends per turn it is given. */
export const SLICE = 32;

export class ReplayPacer {
  private waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly slicesPerTurn = 1) {}

  /** Resolves when the caller may send one slice. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.scheduled = false;
    for (let i = 0; i < this.slicesPerTurn && this.head < this.waiting.length; i++) this.waiting[this.head++]!();
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.schedule();
    }
  }

  /** Replays waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.length - this.head;
  }
}
