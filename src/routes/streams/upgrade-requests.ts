/**
 * What WebSocket upgrade requests (GET /v1/jobs/:id/stream) need before the auth hook runs; register this plugin
 * first in the /v1 scope. For upgrade requests only:
 *   - `?access_token=<key>` (RFC 6750 §2.3): browsers cannot set headers on a WebSocket, so the key may come in the
 *     query. It is moved into the Authorization header (a header, when present, wins) and removed from the URL, so it
 *     never reaches a log line. Plain HTTP requests must use the header: keys in URLs end up in proxies' and browsers'
 *     histories.
 *   - a refused upgrade (401, 404, …) closes the connection once the answer is sent. Node hands upgrade sockets to the
 *     application; left open by a client that does not hang up, they would keep the server from shutting down.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const TOKEN = /([?&])access_token=([^&]*)&?/;

function takeToken(url: string): { url: string; token: string | null } {
  const match = TOKEN.exec(url);
  if (!match) return { url, token: null };
  let token: string | null;
  try {
    token = decodeURIComponent(match[2]!);
  } catch {
    token = null; // not a key; the auth hook answers 401
  }
  return { url: url.replace(TOKEN, '$1').replace(/[?&]$/, ''), token };
}

async function upgradeRequestsPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    if (raw.headers.upgrade?.toLowerCase() !== 'websocket') return;
    // A refused upgrade is an ordinary response on the upgrade socket; an accepted one hijacks the reply and never finishes.
    reply.raw.once('finish', () => raw.socket.destroySoon());
    if (!raw.url?.includes('access_token=')) return;
    const { url, token } = takeToken(raw.url);
    raw.url = url;
    if (token !== null && !request.headers.authorization) request.headers.authorization = `Bearer ${token}`;
  });
}

export const websocketUpgrades = fp(upgradeRequestsPlugin, { name: 'trainyard-websocket-upgrades' });
