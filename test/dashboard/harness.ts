/**
 * What the dashboard's browser tests share: a real API process and a real worker process on an installation of their
 * own, Debian's chromium driven by playwright-core, a page that records every script error, CSP violation and failed
 * request, and screenshots in test-artifacts/dashboard/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDb } from '../../src/db/client.js';
import { createKey } from '../../src/db/repositories/tenants.js';
import { testConfig, uniqueName } from '../helpers/app.js';
import { ownInstallation, type Installation } from '../helpers/installation.js';
import { ROOT, startProcess, type Running } from '../helpers/processes.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'dashboard');
/** A failure after this long, never a pass sooner (a loaded 2-core machine runs a browser, the API and a worker). */
export const LONG = 180_000;
const WORKER_ENV = {
  ENGINE_THREADS: '1', JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '60000', LOG_LEVEL: 'info',
  // A decision grid every other epoch: the regions change often while a test watches.
  DECISION_GRID_EVERY_EPOCHS: '2', DECISION_GRID_RESOLUTION: '50',
};

export interface Dashboard {
  url: string;
  /** A key of a tenant of its own ({@link Dashboard.tenant}). */
  key: string;
  tenant: string;
  api: Running;
  worker: Running;
  browser: Browser;
  page: Page;
  /** Script errors, CSP violations and HTTP errors the page met (expected ones are removed by the test). */
  problems: string[];
  shot(name: string): Promise<void>;
  /** Signs in through the form. */
  signIn(): Promise<void>;
  close(): Promise<void>;
}

export async function startDashboard(name: string): Promise<Dashboard> {
  await mkdir(ARTIFACTS, { recursive: true });
  const own: Installation = await ownInstallation(name);
  const api = startProcess('src/server.ts', { ...own.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' });
  const worker = startProcess('workers/training-worker.ts', { ...WORKER_ENV, ...own.env });
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.close();
    await worker.stop('SIGTERM');
    await api.stop('SIGTERM');
    await own.drop();
  };
  try {
    const url = (await api.waitFor(/Trainyard API listening on (http:\/\/\S+)/, LONG))[1]!;
    const db = createDb(testConfig(own.env));
    const created = await createKey(db, uniqueName('dashboard')).finally(() => db.$disconnect());
    const { key } = created;
    const tenant = created.tenant.name;
    await worker.waitFor(/worker ready/, LONG);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(LONG);
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url().replace(/access_token=[^&]+/, 'access_token=…')}`);
    });
    return {
      url, key, tenant, api, worker, browser, page, problems, close,
      shot: async (shotName) => {
        await page.screenshot({ path: path.join(ARTIFACTS, `${shotName}.png`) });
      },
      signIn: async () => {
        await page.goto(url);
        await page.fill('#api-key', key);
        await page.click('#sign-in button[type=submit]');
        await page.waitForSelector('#nav:not([hidden])');
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
