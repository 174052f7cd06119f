/**
 * The methods each registered path answers, for 405 Method Not Allowed (with `Allow`) and OPTIONS. Fastify's router
 * answers an unknown method on a known path with 404; the not-found handler asks this table instead. Patterns are
 * Fastify's: static segments, `:param` segments (any non-empty segment) and a trailing `*`.
 */
import type { FastifyInstance } from 'fastify';

interface Route {
  segments: string[];
  wildcard: boolean;
  methods: Set<string>;
}

export class RouteTable {
  private readonly routes = new Map<string, Route>();

  /** Records every route registered from now on (call before registering them). */
  watch(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      this.add(route.url ?? route.path, methods);
    });
  }

  add(url: string, methods: readonly string[]): void {
    if (url === '*' || url === '/*') return; // catch-alls (the CORS preflight route) say nothing about a path
    const key = url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
    let route = this.routes.get(key);
    if (!route) {
      const segments = key.split('/');
      const wildcard = segments.at(-1) === '*';
      if (wildcard) segments.pop();
      route = { segments, wildcard, methods: new Set() };
      this.routes.set(key, route);
    }
    for (const m of methods) if (m !== 'OPTIONS') route.methods.add(m.toUpperCase());
  }

  /** The methods some route answers on `path` (no query), sorted; empty when no route matches it. */
  methodsFor(path: string): string[] {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const segments = trimmed.split('/');
    const found = new Set<string>();
    for (const route of this.routes.values()) {
      if (matches(route, segments)) for (const m of route.methods) found.add(m);
    }
    if (found.has('GET')) found.add('HEAD');
    return [...found].sort();
  }
}

function matches(route: Route, segments: string[]): boolean {
  const pattern = route.segments;
  if (route.wildcard ? segments.length < pattern.length : segments.length !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.includes(':')) {
      if (s === '') return false;
    } else if (p !== s) {
      return false;
    }
  }
  return true;
}
