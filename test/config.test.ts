import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('works with no variables on a machine with local Postgres and Redis', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, 'postgresql://postgres@127.0.0.1:5432/trainyard');
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(config.port, 3000);
    assert.equal(config.limits.uploadBytes, 256 * 1024 * 1024);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.limits));
  });

  const bad: [string, string][] = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://localhost'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_UPLOAD_BYTES', '0'],
    ['ENGINE_THREADS', '1.5'],
    ['WARN_DEAD_RELU_FRACTION', '2'],
    ['WARN_UPDATE_RATIO_LOW', '0.5'],
    ['WARN_SUSTAIN_RECORDS', '0'],
    ['DECISION_GRID_RESOLUTION', '1'],
    ['QUEUE_PREFIX', 'has space'],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}=${value} naming the variable`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (error: unknown) => error instanceof ConfigError && error.message.startsWith(name));
    });
  }

  it('reads overrides', () => {
    const config = loadConfig({ PORT: '8080', HOST: '0.0.0.0', MAX_CLASSES: '10', LOG_LEVEL: 'debug' });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.limits.classes, 10);
    assert.equal(config.logLevel, 'debug');
  });

  it('reads the health-warning and decision-grid settings', () => {
    assert.deepEqual(loadConfig({}).decisionGrid, { resolution: 40, everyEpochs: 5 });
    const config = loadConfig({ WARN_SUSTAIN_RECORDS: '5', WARN_OVERFITTING_MIN_RISE: '0.25', DECISION_GRID_EVERY_EPOCHS: '0' });
    assert.equal(config.health.sustainRecords, 5);
    assert.equal(config.health.overfittingMinRise, 0.25);
    assert.equal(config.decisionGrid.everyEpochs, 0, '0 turns grids off');
  });
});
