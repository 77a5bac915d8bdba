'use strict';
// Preloaded by scripts/thread-cpu.js (NODE_OPTIONS=--require) into every
// Node thread of the command it watches: appends "PID TID NAME" to
// $TCE_THREAD_LOG, NAME being "main" or the worker's script file name
// (thread-label.js). The kernel calls every Node thread "node", so without
// this a worker's CPU could not be told from V8's own threads.
const fs = require('node:fs');
const { onThreadName } = require('./thread-label');

const log = process.env.TCE_THREAD_LOG;

function record(name) {
  try {
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop();
    fs.appendFileSync(log, `${process.pid} ${tid} ${name}\n`);
  } catch {
    // Not Linux, or the log is gone: the thread stays unnamed.
  }
}

if (log) onThreadName(record);
