/** ASHA's rungs and promotion rule (src/sweeps/asha.ts), and the trial expansion (src/sweeps/expand.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ashaRungs, decideRung } from '../../src/sweeps/asha.js';
import { expandTrials } from '../../src/sweeps/expand.js';
import { setAtPath } from '../../src/sweeps/spec-paths.js';

describe('ASHA', () => {
  it('puts rungs at minEpochs·η^k below maxEpochs', () => {
    assert.deepEqual(ashaRungs(1, 27, 3), [1, 3, 9]);
    assert.deepEqual(ashaRungs(2, 18, 3), [2, 6]);
    assert.deepEqual(ashaRungs(1, 16, 2), [1, 2, 4, 8]);
    assert.deepEqual(ashaRungs(5, 6, 4), [5]);
  });

  it('promotes the top ⌊n/η⌋ of the trials that reached a rung, the best one while fewer than η did', () => {
    // The first trial at a rung is the best of one: it goes on.
    assert.equal(decideRung(0.9, [0.9], 3, 'min').promote, true);
    // Two trials, η 3: only the best goes on.
    assert.equal(decideRung(1.2, [0.9, 1.2], 3, 'min').promote, false);
    assert.equal(decideRung(0.5, [0.9, 0.5], 3, 'min').promote, true);
    // Six trials, η 3: the top 2.
    const six = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    assert.deepEqual(six.map((v) => decideRung(v, six, 3, 'min').promote), [true, true, false, false, false, false]);
    assert.deepEqual(six.map((v) => decideRung(v, six, 3, 'max').promote), [false, false, false, false, true, true]);
    const d = decideRung(0.4, six, 3, 'min');
    assert.deepEqual([d.reached, d.kept, d.cutoff], [6, 2, 0.2]);
  });
});

describe('trial expansion', () => {
  it('grids every combination, the first parameter slowest', () => {
    const { trials, issues } = expandTrials({ a: { values: [1, 2] }, b: { values: ['x', 'y', 'z'] } }, 'grid', { seed: 0 });
    assert.deepEqual(issues, []);
    assert.deepEqual(trials.map((t) => `${t.a}${t.b}`), ['1x', '1y', '1z', '2x', '2y', '2z']);
  });

  it('samples uniform and log-uniform values within their ranges, the same for the same seed', () => {
    const domains = { lr: { logUniform: [1e-4, 1e-1] }, l2: { uniform: [0, 0.5] } };
    const a = expandTrials(domains, 'random', { trials: 200, seed: 9 }), b = expandTrials(domains, 'random', { trials: 200, seed: 9 });
    assert.deepEqual(a.trials, b.trials);
    const lr = a.trials.map((t) => t.lr as number);
    assert.ok(lr.every((v) => v >= 1e-4 && v <= 1e-1));
    // Log-uniform: about a third of the draws in each decade.
    const decade = lr.filter((v) => v < 1e-3).length;
    assert.ok(decade > 40 && decade < 100, `${decade} of 200 draws below 1e-3`);
    assert.ok(a.trials.every((t) => (t.l2 as number) >= 0 && (t.l2 as number) <= 0.5));
  });

  it('sets values at spec paths, refusing a layer the spec does not have', () => {
    const body: Record<string, unknown> = { network: { layers: [{ units: 5 }] } };
    setAtPath(body, 'network.layers[0].units', 50);
    setAtPath(body, 'optimizer.learningRate', 0.1);
    assert.deepEqual(body, { network: { layers: [{ units: 50 }] }, optimizer: { learningRate: 0.1 } });
    assert.throws(() => setAtPath(body, 'network.layers[1].units', 3), /1 item/);
  });
});
