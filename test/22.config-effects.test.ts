// The config hash (what --resume must match) comes from the marks in the
// schema: every leaf is classified, timing-only settings never change it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { configHash, configJsonSchema, loadConfig, parseConfig } from '../src/config/load';
import { ConfigSchema } from '../src/config/schema';
import { fieldEffects, operational, results } from '../src/config/effects';
import { resultsConfig } from '../src/run/suite';
import { TceError } from '../src/util/errors';

const hashWith = (overrides: Record<string, unknown>, run = { livePredict: false }): string =>
  configHash(resultsConfig(loadConfig({ file: undefined, overrides }).config, run));

interface Js { properties?: Record<string, Js>; items?: Js; type?: string }

function jsonLeaves(s: Js, prefix: string, out: string[]): string[] {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v.properties) jsonLeaves(v, p, out);
    else if (v.type === 'array' && v.items?.properties) jsonLeaves(v.items, `${p}[]`, out);
    else out.push(p);
  }
  return out;
}

test('every config leaf is marked results or operational', () => {
  const effects = fieldEffects(ConfigSchema);
  assert.deepEqual([...effects.keys()].sort(), jsonLeaves(configJsonSchema() as Js, '', []).sort());
  assert.equal(effects.get('backend.simulator.latency'), 'operational');
  // infrastructure faults: a request fails or gets the healthy answer, so
  // --resume without them reruns what failed (issue 14 acceptance, test 85)
  assert.equal(effects.get('backend.simulator.faults'), 'operational');
  assert.equal(effects.get('run.maxTurns'), 'results');
  assert.equal(effects.get('backend.endpoints[].url'), 'results');
  assert.equal(effects.get('backend.endpoints[].apiKey'), 'operational');
});

test('an unmarked field, or a mark on a whole object, is refused by name', () => {
  const unmarked = z.strictObject({ a: results(z.int().default(1)), inner: z.strictObject({ b: z.string().optional() }) });
  assert.throws(() => fieldEffects(unmarked), (e: unknown) => e instanceof TceError && /inner\.b is not marked/.test(e.message));
  const wholesale = z.strictObject({ inner: operational(z.strictObject({ b: results(z.string()) })) });
  assert.throws(() => fieldEffects(wholesale), /inner is an object; mark its fields/);
});

test('timing-only settings keep the config hash; result-affecting ones change it', () => {
  const base = hashWith({});
  for (const timing of [{ 'backend.simulator.latency': true }, { 'backend.streamInterval': 16 }, { 'backend.streamInterval': 1 }, { 'concurrency.initial': 8 }, { 'run.clientMode': 'openai' }, { 'paths.runsDir': '/tmp/elsewhere' }, { 'retries.max': 9 }, { 'backend.simulator.faults': 'die-after=300' }, { 'backend.simulator.faults': '429=0.1,drop=0.05,stall=0.1,garbage=0.1,mid-error=0.1' }]) {
    assert.equal(hashWith(timing), base, `${JSON.stringify(timing)} must not break --resume`);
  }
  for (const result of [{ seed: 7 }, { 'run.maxTurns': 2 }, { 'run.temperatureVerify': 0.5 }, { 'models.verifier_8b.path': '/other' }, { 'tools.crossFit': 5 }]) {
    assert.notEqual(hashWith(result), base, `${JSON.stringify(result)} changes results`);
  }
  assert.notEqual(hashWith({}, { livePredict: true }), base);
  // The view the hash is computed from leaves operational fields out.
  const view = resultsConfig(loadConfig({ file: undefined }).config, { livePredict: false }) as { backend: { simulator?: Record<string, unknown>; kind?: string } };
  assert.equal(view.backend.kind, 'simulator');
  assert.equal(view.backend.simulator, undefined, 'latency, deltas and faults change no answer');
});

test('fault specs are parsed with the config; a bad item names the field', () => {
  const c = parseConfig({ backend: { simulator: { faults: '429=0.5,drop=0.1,die-after=3' } } }, 'f.json');
  assert.deepEqual(c.backend.simulator.faults, { statusRates: { 429: 0.5 }, dropRate: 0.1, dieAfter: 3 });
  assert.deepEqual(parseConfig({}, 'f.json').backend.simulator.faults, {});
  assert.deepEqual(parseConfig({ backend: { simulator: { faults: { dropRate: 0.2 } } } }, 'f.json').backend.simulator.faults, { dropRate: 0.2 });
  assert.throws(() => parseConfig({ backend: { simulator: { faults: '429=0.1,boom' } } }, 'f.json'), /f\.json: backend\.simulator\.faults: bad fault item 'boom'/);
  assert.throws(() => parseConfig({ backend: { simulator: { faults: { dropRate: 2 } } } }, 'f.json'), /f\.json: backend\.simulator\.faults\.dropRate/);
  // A flag override re-validates the parsed plan.
  const o = loadConfig({ file: undefined, overrides: { 'backend.simulator.faults': 'stall=0.2', 'run.maxTurns': 3 } }).config;
  assert.deepEqual(o.backend.simulator.faults, { stallRate: 0.2 });
});
