/**
 * The fan-out bench's subscribers, in a worker thread of their own (as if on other machines: their parsing does not
 * share the server's event loop). Opens `subscribers` streams of one job, reports 'ready' when every stream has its
 * status message, records each metrics message's arrival time (performance.timeOrigin + now, comparable across
 * threads), and on 'finish' answers with the arrival times: arrivals[client][step - 1], NaN where nothing arrived.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface ClientsData {
  url: string;
  key: string;
  subscribers: number;
  messages: number;
}

export type ClientsReply = { type: 'ready'; connectMs: number } | { type: 'arrivals'; arrivals: Float64Array[] };

const { url, key, subscribers, messages } = workerData as ClientsData;
const port = parentPort!;
const now = () => performance.timeOrigin + performance.now();
const STEP = /"step":(\d+)/; // the event's own step comes first in its text (src/queue/job-events.ts)

const arrivals = Array.from({ length: subscribers }, () => new Float64Array(messages).fill(NaN));
const sockets: WebSocket[] = [];

function open(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    sockets.push(ws);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.includes('"type":"status"')) return resolve();
      const step = Number(STEP.exec(text)?.[1]);
      if (step >= 1 && step <= messages) arrivals[i]![step - 1] = now();
    });
    ws.once('error', reject);
  });
}

const t0 = performance.now();
for (let i = 0; i < subscribers; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, subscribers - i) }, (_, j) => open(i + j)));
}
port.postMessage({ type: 'ready', connectMs: performance.now() - t0 } satisfies ClientsReply);

port.once('message', () => {
  for (const ws of sockets) ws.terminate();
  port.postMessage({ type: 'arrivals', arrivals } satisfies ClientsReply);
});
