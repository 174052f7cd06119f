/**
 * The client for Node: the same as ./index.ts, with the `ws` package as the WebSocket when Node has no global one
 * (Node 20). Browsers import ./index.ts (package.json `exports["./client"].browser`).
 */
import WebSocket from 'ws';
import { Trainyard as BrowserTrainyard, type TrainyardOptions, type WebSocketConstructor } from './index.js';

export class Trainyard extends BrowserTrainyard {
  constructor(options: TrainyardOptions = {}) {
    const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    super({ ...options, WebSocket: options.WebSocket ?? global ?? WebSocket });
  }
}

export * from './index.js';
