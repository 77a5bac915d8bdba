#!/usr/bin/env node
'use strict';
// CPU of a command's threads over time (Linux): which thread keeps which
// core busy in each second of a run, and in all. A CPU profile shows one
// thread's functions; this shows whether both cores were busy at all, and
// with what: the driver, the simulator, the load, the writer, V8's garbage
// collection and compile threads.
//
//   node scripts/thread-cpu.js [--interval S] [--json FILE] -- COMMAND [ARGS...]
//   node scripts/thread-cpu.js -- node bin/tce.js start --quiet
//
// Node threads are named by scripts/thread-name.js, preloaded through
// NODE_OPTIONS ("main", or the worker's script file); any other thread by
// its kernel name ("tce-io" for the addon's I/O thread; "v8/libuv" stands
// for the kernel's "node": V8's GC and compiler threads, libuv's pool). Read from /proc/PID/task/TID/stat
// every interval (utime + stime, minor faults): a thread that ends between
// two reads loses at most one interval of its CPU. Threads of a process the
// command started (a replay server, a spawned `vllm serve`) are named with
// the process's rank, "c1/main", so they are not merged with the command's;
// the totals give each name's system time too (syscalls, the kernel's TCP
// work in softirqs run on that thread).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const TICK = 100; // USER_HZ: /proc's clock ticks are 1/100 s on Linux
const UNNAMED_NODE = 'v8/libuv';

function usage(msg) {
  if (msg) console.error(`thread-cpu: ${msg}`);
  console.error('usage: node scripts/thread-cpu.js [--interval S] [--json FILE] -- COMMAND [ARGS...]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { interval: 1, json: null, cmd: [] };
  const dd = argv.indexOf('--');
  if (dd < 0 || dd === argv.length - 1) usage('no command after --');
  const own = argv.slice(0, dd);
  o.cmd = argv.slice(dd + 1);
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--interval') {
      o.interval = Number(own[++i]);
      if (!(o.interval >= 0.1 && o.interval <= 60)) usage('--interval: seconds between 0.1 and 60');
    } else if (own[i] === '--json') {
      o.json = own[++i];
      if (!o.json) usage('--json: a file name');
    } else usage(`unknown option ${own[i]}`);
  }
  return o;
}

/** utime + stime and stime (s) and minor faults of one thread, or null if it is gone. */
function threadStat(pid, tid) {
  let s;
  try {
    s = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The name (field 2) is in parentheses and may hold spaces or ')'.
  const close = s.lastIndexOf(')');
  const comm = s.slice(s.indexOf('(') + 1, close);
  const f = s.slice(close + 2).split(' ');
  return { comm, cpu: (Number(f[11]) + Number(f[12])) / TICK, sys: Number(f[12]) / TICK, faults: Number(f[7]) };
}

/** The process and every process below it. */
function family(root) {
  const parentOf = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      parentOf.set(Number(e), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Ended meanwhile.
    }
  }
  const out = [root];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of parentOf) if (!out.includes(p) && out.includes(pp)) { out.push(p); grew = true; }
  }
  return out;
}

function names(logFile) {
  const m = new Map();
  let text = '';
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return m;
  }
  for (const line of text.split('\n')) {
    const [pid, tid, ...rest] = line.split(' ');
    if (pid && tid && rest.length) m.set(`${pid}/${tid}`, rest.join(' '));
  }
  return m;
}

/** One poll: every thread's cumulative CPU and faults, by "pid/tid".
 * `ranks`: each child process's rank, in the order first seen (kept across polls). */
function poll(root, logFile, ranks) {
  const named = names(logFile);
  const seen = new Map();
  for (const pid of family(root)) {
    if (pid !== root && !ranks.has(pid)) ranks.set(pid, ranks.size + 1);
    const prefix = pid === root ? '' : `c${ranks.get(pid)}/`;
    let tids;
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const st = threadStat(pid, tid);
      if (!st) continue;
      const key = `${pid}/${tid}`;
      // An unnamed "node" thread is one of V8's (GC, compiler) or libuv's pool.
      seen.set(key, { group: prefix + (named.get(key) ?? (st.comm === 'node' ? UNNAMED_NODE : st.comm)), cpu: st.cpu, sys: st.sys, faults: st.faults });
    }
  }
  return seen;
}

function pct(x, dt) {
  return String(Math.round((100 * x) / dt)).padStart(6);
}

function report(rows, last, wall) {
  const total = new Map();
  const sys = new Map();
  const faults = new Map();
  for (const t of last.values()) {
    total.set(t.group, (total.get(t.group) ?? 0) + t.cpu);
    sys.set(t.group, (sys.get(t.group) ?? 0) + t.sys);
    faults.set(t.group, (faults.get(t.group) ?? 0) + t.faults);
  }
  const groups = [...total].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const shown = groups.slice(0, 8);
  const label = (g) => g.replace(/\.js$/, '').slice(0, 6).padStart(6);
  const lines = [];
  lines.push(`CPU % of one core per interval (${os.cpus().length} cores), by thread:`);
  lines.push(`     t  total ${shown.map(label).join(' ')}${groups.length > shown.length ? '  other' : ''}`);
  for (const r of rows) {
    const other = groups.slice(shown.length).reduce((s, g) => s + (r.by.get(g) ?? 0), 0);
    const sum = [...r.by.values()].reduce((s, x) => s + x, 0);
    lines.push(`${r.t.toFixed(1).padStart(6)} ${pct(sum, r.dt)} ${shown.map((g) => pct(r.by.get(g) ?? 0, r.dt)).join(' ')}${groups.length > shown.length ? ` ${pct(other, r.dt)}` : ''}`);
  }
  lines.push('');
  lines.push(`Totals over ${wall.toFixed(1)} s wall (CPU s, of it system s, share of the wall time, minor page faults):`);
  let all = 0;
  let allSys = 0;
  for (const g of groups) {
    all += total.get(g);
    allSys += sys.get(g);
    lines.push(`  ${total.get(g).toFixed(2).padStart(8)} s ${sys.get(g).toFixed(2).padStart(8)} s ${String(Math.round((100 * total.get(g)) / wall)).padStart(4)}%  ${String(faults.get(g)).padStart(9)}  ${g}`);
  }
  lines.push(`  ${all.toFixed(2).padStart(8)} s ${allSys.toFixed(2).padStart(8)} s ${String(Math.round((100 * all) / wall)).padStart(4)}%             all threads seen`);
  return { text: lines.join('\n'), total, sys, faults, groups };
}

function main() {
  if (process.platform !== 'linux') usage('reads /proc: Linux only');
  const o = parseArgs(process.argv.slice(2));
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tce-threads-')), 'names');
  fs.writeFileSync(logFile, '');
  const preload = path.join(__dirname, 'thread-name.js');
  const env = { ...process.env, TCE_THREAD_LOG: logFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${preload}"`.trim() };
  const t0 = process.hrtime.bigint();
  const child = spawn(o.cmd[0], o.cmd.slice(1), { stdio: 'inherit', env });
  const rows = [];
  const last = new Map();
  const ranks = new Map();
  let prevT = 0;
  const tick = () => {
    const now = Number(process.hrtime.bigint() - t0) / 1e9;
    const cur = poll(child.pid, logFile, ranks);
    const by = new Map();
    for (const [k, t] of cur) {
      const before = last.get(k);
      const d = t.cpu - (before ? before.cpu : 0);
      if (d > 0) by.set(t.group, (by.get(t.group) ?? 0) + d);
      last.set(k, t);
    }
    rows.push({ t: now, dt: now - prevT, by });
    prevT = now;
  };
  const timer = setInterval(tick, o.interval * 1000);
  // Ctrl-C reaches the command too (same process group): its end, not
  // ours, ends the watch, so an interrupted run still gets its report. A
  // SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (e) => usage(`${o.cmd[0]}: ${e.message}`));
  child.on('exit', (code, signal) => {
    clearInterval(timer);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = report(rows, last, wall);
    process.stdout.write(`\n${r.text}\n`);
    if (o.json) {
      fs.writeFileSync(o.json, JSON.stringify({
        command: o.cmd, wallS: wall, intervalS: o.interval,
        totals: Object.fromEntries(r.groups.map((g) => [g, { cpuS: r.total.get(g), sysS: r.sys.get(g), faults: r.faults.get(g) }])),
        intervals: rows.map((x) => ({ t: x.t, dt: x.dt, cpuS: Object.fromEntries(x.by) })),
      }, null, 1) + '\n');
    }
    fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
    process.exitCode = signal ? 1 : code ?? 1;
  });
}

main();
