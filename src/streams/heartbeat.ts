/**
 * Dead-connection detection for every stream socket of the process, on one timer: each beat, a socket that has not
 * answered the previous ping with a pong is terminated (its close handlers then clean up), the others are pinged.
 * So a client that stops answering is dropped after one to two intervals.
 */
import type { WebSocket } from 'ws';

export class Heartbeat {
  private readonly alive = new Map<WebSocket, boolean>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  track(socket: WebSocket): void {
    this.alive.set(socket, true);
    socket.on('pong', () => {
      if (this.alive.has(socket)) this.alive.set(socket, true);
    });
    socket.once('close', () => this.alive.delete(socket));
  }

  private beat(): void {
    for (const [socket, alive] of this.alive) {
      if (!alive) {
        this.alive.delete(socket);
        socket.terminate();
        continue;
      }
      this.alive.set(socket, false);
      socket.ping();
    }
  }

  get tracked(): number {
    return this.alive.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.alive.clear();
  }
}
