/**
 * Log lines are JSON for collectors, and human-readable on a terminal (pino-pretty), with the same redaction: no API
 * key, bearer credential or token parameter reaches either.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { logDestination, loggerOptions } from '../../src/logger.js';
import { startProcess } from '../helpers/processes.js';

const KEY = `ty_abcdefghij_${'S'.repeat(43)}`;

function collect(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({ write(chunk, _encoding, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

describe('log format', () => {
  it('is JSON (pino\'s stdout) unless stdout is a terminal', () => {
    assert.equal(logDestination(false), undefined);
  });

  it('on a terminal: one readable line per request and per message, redacted as in JSON', () => {
    const out = collect();
    const logger = pino(loggerOptions('info', 'api'), logDestination(true, out.stream));
    logger.info({ method: 'GET', url: `/v1/jobs?access_token=${KEY}`, statusCode: 200, durationMs: 3.25, tenant: 'acme', reqId: 'r-1' }, 'request');
    logger.warn({ jobId: 'j-1', authorization: `Bearer ${KEY}` }, `retrying with Bearer ${KEY}`);
    logger.error({ err: new Error(`failed for ${KEY}`) }, 'it failed');
    const text = out.text();
    assert.ok(!text.includes('S'.repeat(43)), text);
    assert.doesNotMatch(text, /"level":/, 'not JSON');
    const lines = text.split('\n');
    assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(api\): GET \/v1\/jobs\?access_token=\[redacted\] 200 3\.25 ms \(acme\) \{"reqId":"r-1"\}$/);
    assert.match(lines[1]!, /WARN \(api\): retrying with Bearer \[redacted\] \{"jobId":"j-1","authorization":"\[redacted\]"\}$/);
    assert.match(text, /ERROR \(api\): it failed/);
    assert.match(text, /failed for ty_abcdefghij_\[redacted\]/);
  });

  it('a real API process writing to a pipe logs JSON lines', async () => {
    const api = startProcess('src/server.ts', { PORT: '0', LOG_LEVEL: 'info' });
    try {
      await api.waitFor(/Trainyard API listening on/);
      const url = api.output().match(/listening on (http:\/\/\S+)/)![1]!;
      await fetch(`${url}/health`);
      const line = await api.waitFor(/^\{.*"msg":"request".*\}$/m);
      const parsed = JSON.parse(line[0]) as { url: string; statusCode: number; name: string };
      assert.deepEqual([parsed.name, parsed.url, parsed.statusCode], ['api', '/health', 200]);
    } finally {
      await api.stop('SIGTERM');
    }
  });
});
