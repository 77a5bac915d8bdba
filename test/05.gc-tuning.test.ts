// V8's parallel scavenge off on two cores (src/cli/gc-tuning.ts): the
// decision, the refusal of a bad TCE_PARALLEL_SCAVENGE before any command
// runs, and that the flag set after start really stops the helper threads
// (V8's own --trace-gc-nvp counts their time per scavenge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers/cli';
import { serialScavenge } from '../src/cli/gc-tuning';

const BIN = path.join(ROOT, 'bin', 'tce.js');
const TUNING = path.join(ROOT, 'dist', 'src', 'cli', 'gc-tuning.js');

test('the parallel scavenge goes off on two cores or fewer, unless TCE_PARALLEL_SCAVENGE says otherwise', () => {
  assert.equal(serialScavenge({}, 1), true);
  assert.equal(serialScavenge({}, 2), true);
  assert.equal(serialScavenge({}, 3), false);
  assert.equal(serialScavenge({ TCE_PARALLEL_SCAVENGE: '' }, 2), true);
  assert.equal(serialScavenge({ TCE_PARALLEL_SCAVENGE: '1' }, 2), false);
  assert.equal(serialScavenge({ TCE_PARALLEL_SCAVENGE: '0' }, 16), true);
  assert.throws(() => serialScavenge({ TCE_PARALLEL_SCAVENGE: 'yes' }, 2), /TCE_PARALLEL_SCAVENGE: expected 0 or 1, got "yes"/);
});

test('a bad TCE_PARALLEL_SCAVENGE stops the CLI before the command', () => {
  const r = spawnSync(process.execPath, [BIN, 'config', 'show'], { encoding: 'utf8', env: { ...process.env, TCE_PARALLEL_SCAVENGE: 'on' } });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /tce: error: TCE_PARALLEL_SCAVENGE: expected 0 or 1, got "on"/);
});

/** Helper-thread time (ms) of each scavenge of a program that keeps a
 * quarter of what it allocates alive for a while, after tuneScavenge(env). */
function helperMsPerScavenge(value: string): number[] {
  const program = `
require(${JSON.stringify(TUNING)}).tuneScavenge({ TCE_PARALLEL_SCAVENGE: ${JSON.stringify(value)} });
const keep = new Array(200000);
for (let i = 0; i < 4e6; i++) { const o = { i, s: 'x' + i, a: [i, i] }; if (i % 4 === 0) keep[(i / 4) % keep.length] = o; }
`;
  const r = spawnSync(process.execPath, ['--max-semi-space-size=16', '--trace-gc-nvp', '-e', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ms = [...r.stdout.matchAll(/gc=s .*?background\.scavenge\.parallel=([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(ms.length >= 5, `${ms.length} scavenges traced`);
  return ms;
}

test('tuneScavenge takes effect in a running process: no helper time once off', () => {
  assert.deepEqual(helperMsPerScavenge('0').filter((x) => x > 0), []);
  // V8's default, for contrast: the same program's scavenges use the helpers.
  assert.ok(helperMsPerScavenge('1').some((x) => x > 0), 'the helpers never ran with the parallel scavenge on');
});
