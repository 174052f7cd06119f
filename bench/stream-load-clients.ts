/**
 * The subscribers of the stream-load measurement (./stream-load.ts), in a worker thread of their own (as if on other
 * machines: their parsing does not share the server's event loop). Opens `subscribers` streams of one job with
 * ?since=-1, `batch` at a time, and reports to the parent: 'opened' after every batch, 'ready' once every stream has
 * received the job's status after its replay, 'finished' once every stream has received the final status and closed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface StreamLoadClientsData {
  url: string;
  key: string;
  subscribers: number;
  batch: number;
  /** The final status the streams end with. */
  finalStatus: string;
}

export type StreamLoadClientsReply =
  | { type: 'opened'; opened: number }
  | { type: 'ready'; connectMs: number; readyMs: number; replayed: number }
  | { type: 'finished'; closeCodes: Record<number, number>; finalStatuses: number; refused: number; messages: number };

const { url, key, subscribers, batch, finalStatus } = workerData as StreamLoadClientsData;
const port = parentPort!;
const t0 = performance.now();
let ready = 0;
let final = 0;
let closed = 0;
let refused = 0;
let messages = 0;
let replayed = 0;
const closeCodes: Record<number, number> = {};

let connectMs = -1;
let readySent = false;
function readyIfDone(): void {
  if (readySent || connectMs < 0 || ready < subscribers) return;
  readySent = true;
  port.postMessage({ type: 'ready', connectMs, readyMs: performance.now() - t0, replayed } satisfies StreamLoadClientsReply);
}

function finishIfDone(): void {
  if (closed === subscribers) port.postMessage({ type: 'finished', closeCodes, finalStatuses: final, refused, messages } satisfies StreamLoadClientsReply);
}

function open(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?since=-1`, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
    let sawStatus = false;
    ws.on('message', (data) => {
      messages++;
      const text = String(data);
      if (!text.includes('"type":"status"')) {
        if (text.includes('"replayed":true')) replayed++;
        return;
      }
      if (!sawStatus) {
        sawStatus = true;
        ready++;
        readyIfDone();
      }
      if (text.includes(`"status":"${finalStatus}"`)) final++;
    });
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      refused++;
      res.resume();
      ws.terminate();
      resolve();
    });
    ws.once('error', () => resolve());
    ws.once('close', (code) => {
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      closed++;
      finishIfDone();
    });
  });
}

for (let i = 0; i < subscribers; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, subscribers - i) }, () => open()));
  port.postMessage({ type: 'opened', opened: Math.min(subscribers, i + batch) } satisfies StreamLoadClientsReply);
}
connectMs = performance.now() - t0;
readyIfDone();
