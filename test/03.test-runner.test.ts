// The test runner (scripts/run-tests.js): files share long-lived worker
// processes, so the rule for sharing is checked here, on small suites of
// its own: a file that changes process-wide state fails and says what it
// changed, unless it asks for a process of its own; failures name their
// file and test; a worker that dies fails its file and the run goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tmpDir } from './helpers/cli';

interface PlannedFile { name: string; own: boolean; waits: boolean; est: number }
interface Runner {
  runTests(o: { distDir: string; srcDir: string; filters: string[]; durations?: string; committed?: string; write?: (s: string) => void; cpuLanes?: number }): Promise<number>;
  planFiles(o: { distDir: string; srcDir: string; filters: string[]; known: Record<string, unknown> }): PlannedFile[];
  mergeKnown(committed: Record<string, unknown>, cache: Record<string, unknown>): Record<string, { wallMs?: number; queuedMs?: number; waits?: boolean }>;
  durationRecord(stats: { wallMs: number; cpuMs: number; queuedMs: number; load: number }, old: unknown, cores: number): { waits?: boolean };
  ownProcessReason(source: string): string | null;
}
const runner = require(path.join(ROOT, 'scripts', 'run-tests.js')) as Runner;

/** A suite of compiled test files (`dist/`) with their sources (`src/`, where the markers are). */
function suite(files: Record<string, { js: string; own?: string }>): { dir: string; distDir: string; srcDir: string } {
  const dir = tmpDir('tce-runner-');
  const distDir = path.join(dir, 'dist');
  const srcDir = path.join(dir, 'src');
  fs.mkdirSync(distDir);
  fs.mkdirSync(srcDir);
  for (const [name, f] of Object.entries(files)) {
    fs.writeFileSync(path.join(distDir, `${name}.test.js`), `const { test } = require('node:test');\nconst assert = require('node:assert');\n${f.js}\n`);
    fs.writeFileSync(path.join(srcDir, `${name}.test.ts`), f.own ? `// test-process: own (${f.own})\n` : '// a test\n');
  }
  return { dir, distDir, srcDir };
}

async function run(s: ReturnType<typeof suite>, filters: string[] = [], cpuLanes = 2): Promise<{ code: number; out: string; durations: Record<string, { wallMs: number; cpuMs: number }> }> {
  const out: string[] = [];
  const durations = path.join(s.dir, 'durations.json');
  const code = await runner.runTests({ distDir: s.distDir, srcDir: s.srcDir, filters, durations, write: (x) => out.push(x), cpuLanes });
  const d = fs.existsSync(durations) ? JSON.parse(fs.readFileSync(durations, 'utf8')) as Record<string, { wallMs: number; cpuMs: number }> : {};
  return { code, out: out.join(''), durations: d };
}

test('every `test-process: own` line in test/ gives its reason', () => {
  const dir = path.join(ROOT, 'test');
  const own = fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts')).flatMap((f) => {
    const reason = runner.ownProcessReason(fs.readFileSync(path.join(dir, f), 'utf8'));
    return reason === null ? [] : [[f, reason] as const];
  });
  for (const [f, reason] of own) assert.match(reason, /^\(.{10,}\)$/, `${f}: // test-process: own (why)`);
});

test('a file that leaves changed process state behind fails and names the change; one with its own process may change it', async () => {
  const s = suite({
    a: { js: "test('sets an env var', () => { process.env.TCE_RUNNER_LEAK = '1'; });" },
    b: { js: "test('changes the cwd', () => { process.chdir('/'); });", own: 'changes the working directory' },
    c: { js: "test('adds a listener', () => { process.on('SIGHUP', () => {}); });" },
    d: { js: "test('restores what it changes', () => { process.env.TCE_RUNNER_X = '1'; delete process.env.TCE_RUNNER_X; });" },
  });
  const r = await run(s, [], 1);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /a\.test\.js > \(file\): a\.test\.js changed process-wide state: process\.env\.TCE_RUNNER_LEAK/);
  assert.match(r.out, /c\.test\.js changed process-wide state: process\.on\('SIGHUP'\) listeners \(\+1 -0\)/);
  assert.doesNotMatch(r.out, /[bd]\.test\.js changed/);
  assert.match(r.out, /ℹ pass 4\n/);
});

test('a failing test fails the run with its file and name; filters pick files; every file that ran is timed', async () => {
  const s = suite({
    good: { js: "test('passes', () => {});\ntest('skipped', { skip: 'not here' }, () => {});" },
    bad: { js: "test('outer', async (t) => { await t.test('inner fails', () => { assert.equal(1, 2); }); });" },
  });
  const all = await run(s);
  assert.equal(all.code, 1);
  assert.match(all.out, /✖ bad\.test\.js > outer > inner fails: 1 == 2/);
  // Counted as node:test counts: `outer` fails with its subtest.
  assert.match(all.out, /ℹ tests 4\nℹ pass 1\nℹ fail 2\nℹ skipped 1\n/);
  assert.deepEqual(Object.keys(all.durations).sort(), ['bad.test.js', 'good.test.js']);
  assert.ok(all.durations['good.test.js']!.wallMs >= 0 && all.durations['good.test.js']!.cpuMs >= 0);

  const one = await run(s, ['good']);
  assert.equal(one.code, 0, one.out);
  assert.doesNotMatch(one.out, /bad\.test\.js/);
  assert.equal(await runner.runTests({ distDir: s.distDir, srcDir: s.srcDir, filters: ['nothing-matches'], write: () => {} }), 1);
});

test('a test process that exits in the middle of a file fails that file; the files after it still run', async () => {
  const s = suite({
    a1: { js: "test('first', () => {});" },
    a2: { js: "test('exits', () => { process.exit(0); });" },
    a3: { js: "test('after', () => {});" },
  });
  // One lane, files in name order (none timed yet): a2 ends the worker a1 ran in.
  const r = await run(s, [], 1);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /✖ a2\.test\.js: its test process exited \(code 0\) before the file ended/);
  assert.match(r.out, /✔ a3\.test\.js/);
});

test('plan: files that waited in a quiet run get the waiting lane; longest first (less time queued for a core), untimed files before all', () => {
  const s = suite({ cpu: { js: '' }, sleepy: { js: '' }, busy: { js: '' }, fresh: { js: '' }, mine: { js: '', own: 'installs a signal handler' } });
  fs.writeFileSync(path.join(s.distDir, 'stale.test.js'), ''); // no source: a deleted test's leftover output
  const plan = runner.planFiles({
    distDir: s.distDir, srcDir: s.srcDir, filters: [], known: {
      'cpu.test.js': { wallMs: 2000, cpuMs: 1900, queuedMs: 0, waits: false },
      'sleepy.test.js': { wallMs: 3000, cpuMs: 300, queuedMs: 100, waits: true },
      'busy.test.js': { wallMs: 4000, cpuMs: 1500, queuedMs: 2500 },
      'mine.test.js': 500,
    },
  });
  assert.deepEqual(plan.map((p) => [p.name, p.waits, p.own]), [
    ['fresh.test.js', false, false],
    ['sleepy.test.js', true, false],
    ['cpu.test.js', false, false],
    ['busy.test.js', false, false],
    ['mine.test.js', false, true],
  ]);
});

test('durations: a quiet run decides whether a file waits; a busy one (mostly queued for a core, or a loaded machine) keeps the last verdict', () => {
  const rec = (st: { wallMs: number; cpuMs: number; queuedMs: number; load: number }, old: unknown) => runner.durationRecord(st, old, 2).waits;
  const waited = { wallMs: 900, cpuMs: 300, queuedMs: 0, waits: true };
  assert.equal(rec({ wallMs: 3000, cpuMs: 300, queuedMs: 200, load: 2.5 }, undefined), true);
  assert.equal(rec({ wallMs: 3000, cpuMs: 2500, queuedMs: 200, load: 2.5 }, waited), false);
  // 1,000 ms of CPU in 4,000 ms, but 3,000 of them queued: busy, no verdict of its own.
  assert.equal(rec({ wallMs: 4000, cpuMs: 1000, queuedMs: 3000, load: 2.5 }, waited), true);
  assert.equal(rec({ wallMs: 4000, cpuMs: 1000, queuedMs: 3000, load: 2.5 }, 1200), undefined);
  // Little queued, but others load the machine: its children and threads were queued too.
  assert.equal(rec({ wallMs: 3000, cpuMs: 2500, queuedMs: 200, load: 9 }, waited), true);
});

test('durations: the times of the last run win over the committed ones; a file it could not judge keeps the committed verdict on waiting', () => {
  const known = runner.mergeKnown(
    { 'a.test.js': { wallMs: 5000, cpuMs: 500, queuedMs: 900, waits: true }, 'b.test.js': 700, 'c.test.js': { wallMs: 100, cpuMs: 90, queuedMs: 0, waits: false } },
    { 'a.test.js': { wallMs: 9000, cpuMs: 800, queuedMs: 6000 }, 'b.test.js': 800, 'c.test.js': { wallMs: 300, cpuMs: 10, queuedMs: 0, waits: true } },
  );
  assert.deepEqual(known['a.test.js'], { wallMs: 9000, cpuMs: 800, queuedMs: 6000, waits: true });
  assert.deepEqual(known['b.test.js'], { wallMs: 800 });
  assert.equal(known['c.test.js']!.waits, true);
});
