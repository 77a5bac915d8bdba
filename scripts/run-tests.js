#!/usr/bin/env node
'use strict';
// Runs the compiled test files (dist/test/NN.*.test.js) with node:test.
// Extra arguments filter by substring: `npm test -- 20.config`.
//
// Processes: a fresh node loading zod, Arrow, SQLite and the tokenizer cost
// more CPU than most files' tests, so files share long-lived test workers
// (scripts/test-worker.js), one file after another, each file a top-level
// suite named after it. The rule for sharing: a file must leave the process
// as it found it (cwd, environment, exit code, process listeners); the
// worker checks that after every file and fails a file that does not. A file
// that must change such state (or install a signal handler for good)
// carries a line `// test-process: own (why)` in its .ts source and runs in
// a worker of its own (test 03 checks these lines and the check itself).
//
// Scheduling: one lane per core runs files longest first; a file that
// mostly waits (on servers, timers, sleeping children: its CPU time, its
// child processes' included, under half its wall time less the time it was
// queued for a core) goes to one more lane of its own, so waiting never
// holds a core. Whether a file waits is decided by runs quiet enough to
// tell (durationRecord). Durations of the last run are in
// .cache/test/durations.json; on a fresh clone those of the committed
// scripts/test-durations.json. Files never timed start first.
//
// Output: each file's spec report, whole, when it ends; then a recap of the
// failing tests (file > test: message) and the totals. Exit code 1 when a
// test or a file failed or a worker died.
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OWN = /^\s*\/\/\s*test-process:\s*own\b(.*)$/m;
/** A file waits when its CPU time is under this share of its wall time. */
const WAITS_BELOW = 0.5;
/** A file's time is measured on a busy machine when it spent more than
 * this share of its wall time queued for a core, or the machine's load was
 * above its cores plus BUSY_LOAD (this run's own lanes and their children):
 * too noisy to tell whether it waits, since the time its threads and
 * children were queued counts as waiting (the last quiet verdict is kept). */
const BUSY_ABOVE = 0.5;
const BUSY_LOAD = 2;

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** The records of the last run over the committed ones, file by file: a
 * record without a verdict on waiting keeps the committed verdict. */
function mergeKnown(committed, cache) {
  const asRecord = (v) => (typeof v === 'number' ? { wallMs: v } : v && typeof v === 'object' ? v : {});
  const out = {};
  for (const name of new Set([...Object.keys(committed), ...Object.keys(cache)])) {
    const c = asRecord(committed[name]);
    const r = name in cache ? { ...asRecord(cache[name]) } : c;
    if (r.waits === undefined && c.waits !== undefined) r.waits = c.waits;
    out[name] = r;
  }
  return out;
}

/** Last run's cost of a file: { est, waits }, est its wall time less the
 * time it spent queued for a core (older records hold the wall ms alone). */
function costOf(known, name) {
  const k = known[name];
  if (typeof k === 'number') return { est: k, waits: false };
  if (!k || typeof k.wallMs !== 'number') return null;
  return { est: Math.max(k.wallMs - (k.queuedMs ?? 0), 1), waits: k.waits === true };
}

/** The record to keep for a file: this run's times, and whether it waits
 * when this run was quiet enough to tell, else the last verdict. */
function durationRecord(stats, old, cores = os.availableParallelism()) {
  const { wallMs, cpuMs, queuedMs } = stats;
  const quiet = queuedMs <= BUSY_ABOVE * wallMs && !(stats.load > cores + BUSY_LOAD);
  const waits = quiet ? cpuMs < WAITS_BELOW * (wallMs - queuedMs) : old?.waits;
  const load = Math.round(stats.load * 10) / 10;
  return waits === undefined ? { wallMs, cpuMs, queuedMs, load } : { wallMs, cpuMs, queuedMs, load, waits };
}

/** The `// test-process: own (why)` line of a test source, or null. */
function ownProcessReason(source) {
  const m = OWN.exec(source);
  return m ? m[1].trim() : null;
}

/** The files to run, each with its cost and needs, in the order to start them. */
function planFiles({ distDir, srcDir, filters, known }) {
  const out = [];
  for (const name of fs.readdirSync(distDir).filter((f) => f.endsWith('.test.js')).sort()) {
    if (filters.length > 0 && !filters.some((s) => name.includes(s))) continue;
    // Only files whose source still exists: tsc never removes the output
    // of a renamed or deleted test, which must not run twice.
    let source;
    try {
      source = fs.readFileSync(path.join(srcDir, name.replace(/\.js$/, '.ts')), 'utf8');
    } catch {
      continue;
    }
    const cost = costOf(known, name);
    out.push({ name, file: path.resolve(distDir, name), own: ownProcessReason(source) !== null, waits: cost?.waits ?? false, est: cost?.est ?? Infinity });
  }
  return out.sort((a, b) => b.est - a.est);
}

/** One node process running test files; `run(item)` resolves when the file
 * has ended (its stats) or the process has died ({ died }). */
class Worker {
  constructor(hooks) {
    this.files = [];
    this.answer = null; // answers the worker's open question "next file?"
    this.pending = null; // what to answer once it asks
    this.done = null;
    this.child = fork(path.join(__dirname, 'test-worker.js'), [], {
      cwd: ROOT,
      execArgv: ['--test-reporter', path.join(__dirname, 'test-reporter.js'), '--test-reporter-destination', 'stdout'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (d) => hooks.write(d));
    }
    // 'close': the process has ended and all its output has been passed on.
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    this.child.on('error', (e) => hooks.write(`test worker: ${e.message}\n`));
    this.child.on('message', (m) => {
      if (m.type === 'report') return hooks.report(m);
      if (m.type !== 'next') return;
      this.answer = (a) => {
        this.answer = null;
        if (this.child.connected) this.child.send(a);
      };
      // The first question carries no stats: no file has run yet.
      if (m.stats) {
        hooks.stats(m.stats);
        this.settle(m.stats);
      }
      if (this.pending) {
        const p = this.pending;
        this.pending = null;
        this.answer(p);
      }
    });
    void this.exited.then((e) => {
      this.answer = null;
      this.settle({ died: e });
    });
  }

  settle(result) {
    const done = this.done;
    this.done = null;
    done?.(result);
  }

  run(item) {
    this.files.push(item.name);
    return new Promise((resolve) => {
      this.done = resolve;
      const m = { file: item.file, own: item.own };
      if (this.answer) this.answer(m);
      else this.pending = m;
    });
  }

  /** No more files: the process ends once its last file has. */
  close() {
    if (this.answer) this.answer({});
    else this.pending = {};
    return this.exited;
  }
}

/**
 * Runs test files; resolves with the exit code. Options (all but filters
 * for test 03): distDir, srcDir, durations (cache file), committed
 * durations, filters, write (output), cpuLanes.
 */
async function runTests(o) {
  const t0 = Date.now();
  const write = o.write ?? ((s) => process.stdout.write(s));
  const known = mergeKnown(readJson(o.committed), readJson(o.durations));
  const items = planFiles({ distDir: o.distDir, srcDir: o.srcDir, filters: o.filters, known });
  if (items.length === 0) {
    write(`no test files match ${o.filters.join(' ')}\n`);
    return 1;
  }
  const state = { reports: new Map(), stats: {}, problems: [], processes: 0 };
  const hooks = {
    write,
    report: (m) => {
      state.reports.set(m.file, m);
      write(m.text);
    },
    stats: (s) => { state.stats[s.file] = { wallMs: s.wallMs, cpuMs: s.cpuMs, queuedMs: s.queuedMs, load: s.load }; },
  };
  const queues = { cpu: items.filter((i) => !i.waits), waits: items.filter((i) => i.waits) };
  const lane = async (kind) => {
    let shared = null;
    const take = () => (kind === 'cpu' ? queues.cpu.shift() ?? queues.waits.shift() : queues.waits.shift());
    for (let item = take(); item; item = take()) {
      const own = item.own ? new Worker(hooks) : null;
      if (!own && !shared) {
        shared = new Worker(hooks);
        state.processes++;
      }
      if (own) state.processes++;
      const w = own ?? shared;
      const r = await w.run(item);
      if (r.died) {
        state.problems.push(`${item.name}: its test process exited (${r.died.signal ?? `code ${r.died.code}`}) before the file ended`);
        if (!own) shared = null;
      }
      if (own) await endWorker(own, state);
    }
    if (shared) await endWorker(shared, state);
  };
  const cpuLanes = o.cpuLanes ?? Math.max(1, os.availableParallelism());
  await Promise.all([...Array.from({ length: cpuLanes }, () => lane('cpu')), lane('waits')]);
  if (o.durations) saveDurations(o.durations, state.stats, known);
  return recap(items, state, write, Date.now() - t0);
}

async function endWorker(w, state) {
  const e = await w.close();
  const reported = w.files.filter((f) => state.reports.has(f));
  const failed = reported.some((f) => !state.reports.get(f).ok);
  if ((e.code !== 0 || e.signal) && !failed) {
    state.problems.push(`a test process (files ${w.files.join(', ')}) exited with ${e.signal ?? `code ${e.code}`}`);
  }
}

function saveDurations(file, stats, prior) {
  const known = readJson(file);
  for (const [name, st] of Object.entries(stats)) known[name] = durationRecord(st, prior[name]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp-${process.pid}`, `${JSON.stringify(known, null, 2)}\n`);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
}

function recap(items, state, write, wallMs) {
  const totals = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
  const failures = [...state.problems];
  for (const item of items) {
    const r = state.reports.get(item.name);
    if (!r) {
      if (!state.problems.some((p) => p.startsWith(`${item.name}:`))) failures.push(`${item.name}: no report (its test process ended early)`);
      continue;
    }
    for (const k of Object.keys(totals)) totals[k] += r.counts[k];
    for (const f of r.failures) failures.push(`${item.name} > ${f.test}: ${f.message}`);
    if (!r.ok && r.failures.length === 0) failures.push(`${item.name}: failed`);
  }
  const lines = [''];
  if (failures.length > 0) lines.push(`✖ failing (${failures.length}):`, ...failures.map((f) => `  ✖ ${f}`), '');
  lines.push(`ℹ files ${items.length} in ${state.processes} processes`, `ℹ tests ${Object.values(totals).reduce((a, b) => a + b, 0)}`, ...Object.entries(totals).map(([k, v]) => `ℹ ${k} ${v}`), `ℹ duration_ms ${wallMs}`, '');
  write(lines.join('\n'));
  return failures.length > 0 ? 1 : 0;
}

module.exports = { runTests, planFiles, ownProcessReason, durationRecord, mergeKnown };

if (require.main === module) {
  const distDir = path.join(ROOT, 'dist', 'test');
  if (!fs.existsSync(distDir)) {
    console.error('no compiled tests in dist/test: run `npm run build:ts`');
    process.exit(1);
  }
  runTests({
    distDir,
    srcDir: path.join(ROOT, 'test'),
    durations: path.join(ROOT, '.cache', 'test', 'durations.json'),
    committed: path.join(__dirname, 'test-durations.json'),
    filters: process.argv.slice(2),
  }).then((code) => { process.exitCode = code; });
}
