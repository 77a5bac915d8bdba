'use strict';
// A test process of scripts/run-tests.js. Starting node and loading zod,
// Arrow, SQLite and the tokenizer again for every test file cost more CPU
// than many files' tests, so a worker runs file after file in one process,
// sharing its module cache: it asks the runner (over IPC) for its next file
// when the last one ends, until the runner has none left for it.
//
// Each file becomes a top-level suite named after it, so its top-level hooks
// stay its own and reports name the file above each test. A file in a shared
// worker must leave the process as it found it (working directory,
// environment, exit code, process listeners): that is checked after the
// file's load and after its last hook, and a file that changed any of it
// fails with what it changed. Files that must change such state carry a
// `// test-process: own (why)` line and get a worker of their own (the
// runner sends them with `own`, and no other file follows them there).
const { AsyncResource } = require('node:async_hooks');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, before, after } = require('node:test');

/** CPU seconds of this process and of the child processes it has waited
 * for (/proc on Linux; elsewhere this process only). */
function cpuSeconds() {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'latin1').replace(/^.*\) /, '').split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the command name.
    return fields.slice(11, 15).reduce((s, x) => s + Number(x), 0) / 100;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

/** Seconds the main thread spent ready to run but waiting for a core
 * (/proc/self/schedstat; 0 elsewhere): wall time that says nothing about
 * the file, only about how busy the machine was. */
function runQueueSeconds() {
  try {
    return Number(fs.readFileSync('/proc/self/schedstat', 'latin1').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}

const EVENTS = ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'warning', 'SIGINT', 'SIGTERM', 'SIGHUP'];

/** What a file in a shared worker must not change for the files after it. */
function processState() {
  return {
    cwd: process.cwd(),
    env: { ...process.env },
    exitCode: process.exitCode,
    listeners: Object.fromEntries(EVENTS.map((e) => [e, process.listeners(e)])),
  };
}

/** How `now` differs from `then`, in words; [] when it does not. */
function stateChanges(then, now) {
  const out = [];
  if (now.cwd !== then.cwd) out.push(`process.cwd() ${then.cwd} -> ${now.cwd}`);
  for (const k of new Set([...Object.keys(then.env), ...Object.keys(now.env)])) {
    if (then.env[k] !== now.env[k]) out.push(`process.env.${k}`);
  }
  // node:test itself sets 1 when a test fails.
  if (now.exitCode !== then.exitCode && now.exitCode !== 1) out.push(`process.exitCode ${then.exitCode} -> ${now.exitCode}`);
  for (const e of EVENTS) {
    const added = now.listeners[e].filter((f) => !then.listeners[e].includes(f)).length;
    const removed = then.listeners[e].filter((f) => !now.listeners[e].includes(f)).length;
    if (added || removed) out.push(`process.on('${e}') listeners (+${added} -${removed})`);
  }
  return out;
}

function isolationError(name, changes) {
  return new Error(`${name} changed process-wide state: ${changes.join(', ')}. Test files share a process: `
    + 'restore it, or give the file a process of its own with a `// test-process: own (why)` line (scripts/run-tests.js).');
}

// New files must be top-level suites, not children of the file that just ended.
const topLevel = new AsyncResource('tce-test-worker');

/** Asks the runner for the next file, reporting the last one's cost. The
 * IPC channel keeps the process alive only while a question is open: once
 * the runner has no file left, the worker's last suite ends and so does the
 * process, with node:test's report. */
function next(stats) {
  return new Promise((resolve) => {
    process.channel.ref();
    process.once('message', (m) => {
      process.channel.unref();
      resolve(m);
    });
    process.send({ type: 'next', stats });
  });
}

function runFile({ file, own }) {
  const name = path.basename(file);
  topLevel.runInAsyncScope(() => describe(name, () => {
    let started;
    before(() => {
      started = { wall: Date.now(), cpu: cpuSeconds(), queued: runQueueSeconds(), load: os.loadavg()[0] };
    });
    const load = { wall: Date.now(), cpu: cpuSeconds(), queued: runQueueSeconds(), state: processState() };
    try {
      require(path.resolve(file));
    } finally {
      const loaded = { wall: Date.now() - load.wall, cpu: cpuSeconds() - load.cpu, queued: runQueueSeconds() - load.queued };
      // Registered after the file's own hooks, so it runs after them.
      after(async () => {
        const ran = started ?? { wall: Date.now(), cpu: cpuSeconds(), queued: runQueueSeconds(), load: 0 };
        const ms = (s) => Math.round(s * 1000);
        const stats = {
          file: name,
          wallMs: loaded.wall + Date.now() - ran.wall,
          cpuMs: ms(loaded.cpu + cpuSeconds() - ran.cpu),
          queuedMs: ms(loaded.queued + runQueueSeconds() - ran.queued),
          // The machine's load (1-minute average, the higher of start and end).
          load: Math.max(ran.load, os.loadavg()[0]),
        };
        // Checked before the next file loads, so each file answers for its own changes.
        const changes = own ? [] : stateChanges(load.state, processState());
        // The next file is registered before this one ends: once the last
        // suite has ended, the run is over.
        const reply = await next(stats);
        if (reply.file) runFile(reply);
        if (changes.length > 0) throw isolationError(name, changes);
      });
    }
  }));
}

next(null).then((m) => {
  if (m.file) runFile(m);
});
