/** Builds the real app against the test database and Redis, with fresh, uniquely named tenants per test. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { build } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createKey } from '../../src/db/repositories/tenants.js';
import { createServices, type Services } from '../../src/services.js';

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Settings that measure the test process rather than the server: the overload guard (503 OVERLOADED when the event
 * loop lags) would answer requests according to what the test itself computes in the same event loop, and to how
 * busy the machine is. Off unless a test asks for it (its own tests set MAX_EVENT_LOOP_DELAY_MS).
 */
const TEST_DEFAULTS: Record<string, string> = { MAX_EVENT_LOOP_DELAY_MS: '0' };

/** The test run's config (scripts/test.ts sets DATABASE_URL and QUEUE_PREFIX), with overrides as env variables. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_DEFAULTS, ...process.env, ...overrides });
}

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  config: Config;
  close(): Promise<void>;
}

export async function buildTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const services = createServices(config);
  const app = await build(services, { logger: false });
  await app.ready();
  return { app, services, config, close: () => app.close() };
}

export interface TestTenant {
  id: string;
  name: string;
  key: string;
  /** Headers for an authenticated request. */
  auth: { authorization: string };
}

export async function createTenant(services: Services, prefix = 'tenant'): Promise<TestTenant> {
  const created = await createKey(services.db, uniqueName(prefix));
  return { ...created.tenant, key: created.key, auth: { authorization: `Bearer ${created.key}` } };
}
