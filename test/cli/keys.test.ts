import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildTestApp, uniqueName, type TestApp } from '../helpers/app.js';
import { runProcess } from '../helpers/processes.js';

describe('npm run keys', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  it('creates a key (alone on the last line), lists it by prefix only, and revokes it', async () => {
    const tenant = uniqueName('cli');
    const created = await runProcess('src/cli/keys.ts', ['create', '--tenant', tenant]);
    assert.equal(created.code, 0, created.output);
    const key = created.stdout.trimEnd().split('\n').at(-1)!;
    assert.match(key, /^ty_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    const me = await request(t.app.server).get('/v1/me').set('authorization', `Bearer ${key}`).expect(200);
    assert.equal(me.body.tenant.name, tenant);

    const prefix = key.split('_')[1]!;
    const listed = await runProcess('src/cli/keys.ts', ['list']);
    assert.equal(listed.code, 0);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(prefix));
    assert.ok(line?.includes(tenant) && line.includes('active'), listed.stdout);
    assert.ok(!listed.stdout.includes(key.slice(`ty_${prefix}_`.length)), 'list never shows secrets');

    const revoked = await runProcess('src/cli/keys.ts', ['revoke', prefix]);
    assert.equal(revoked.code, 0, revoked.output);
    await request(t.app.server).get('/v1/me').set('authorization', `Bearer ${key}`).expect(401);
    const again = await runProcess('src/cli/keys.ts', ['revoke', prefix]);
    assert.equal(again.code, 1);
  });

  it('prints usage and exits 2 on a bad command', async () => {
    const result = await runProcess('src/cli/keys.ts', ['create']);
    assert.equal(result.code, 2);
    assert.match(result.output, /usage: npm run keys/);
  });
});
