/**
 * What WebSocket upgrade requests (GET /v1/jobs/:id/stream) need before the auth hook runs; register this plugin
 * first in the /v1 scope. For upgrade requests only:
 *   - `?access_token=<key>` (RFC 6750 §2.3): browsers cannot set headers on a WebSocket, so the key may come in the
 *     query. Every `access_token` parameter (its name percent-decoded: `access%5Ftoken` is one too) is removed from the
 *     URL, and the key they carry moves into the Authorization header (a header, when present, wins); parameters that
 *     disagree carry no key (401). Plain HTTP requests must use the header: keys in URLs end up in proxies' and
 *     browsers' histories. (Log lines never show a key in any case: src/logger.ts redacts URLs.)
 *   - a refused upgrade (401, 404, …) closes the connection once the answer is sent. Node hands upgrade sockets to the
 *     application; left open by a client that does not hang up, they would keep the server from shutting down.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/** The URL without its access_token parameters, and the token they agree on (null: none, or they disagree). */
export function takeAccessToken(url: string): { url: string; token: string | null; found: boolean } {
  const at = url.indexOf('?');
  if (at < 0) return { url, token: null, found: false };
  const kept: string[] = [];
  const tokens = new Set<string | null>();
  for (const part of url.slice(at + 1).split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (decodeName(name) !== 'access_token') {
      kept.push(part);
      continue;
    }
    let token: string | null = null;
    try {
      token = eq < 0 ? null : decodeURIComponent(part.slice(eq + 1).replaceAll('+', ' '));
    } catch {
      token = null; // not a key; the auth hook answers 401
    }
    tokens.add(token);
  }
  if (tokens.size === 0) return { url, token: null, found: false };
  const query = kept.filter((p) => p !== '').join('&');
  const token = tokens.size === 1 ? [...tokens][0]! : null;
  return { url: url.slice(0, at) + (query ? `?${query}` : ''), token, found: true };
}

export function isUpgradeRequest(request: FastifyRequest): boolean {
  return request.raw.headers.upgrade?.toLowerCase() === 'websocket';
}

async function upgradeRequestsPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    if (isUpgradeRequest(request)) takeUpgradeCredentials(request, reply);
    done();
  });
}

/** On an upgrade request: the socket is closed after a refusal, and an ?access_token= becomes the Authorization header. */
function takeUpgradeCredentials(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  // A refused upgrade is an ordinary response on the upgrade socket; an accepted one hijacks the reply and never finishes.
  reply.raw.once('finish', () => raw.socket.destroySoon());
  if (!raw.url?.includes('=')) return;
  const { url, token, found } = takeAccessToken(raw.url);
  if (!found) return;
  raw.url = url;
  // Fastify parsed the query before this hook: the parameters go from it too (repeated ones would fail validation).
  if (request.query && typeof request.query === 'object') delete (request.query as Record<string, unknown>).access_token;
  if (token !== null && !request.headers.authorization) request.headers.authorization = `Bearer ${token}`;
}

export const websocketUpgrades = fp(upgradeRequestsPlugin, { name: 'trainyard-websocket-upgrades' });
