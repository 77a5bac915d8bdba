'use strict';
// Preloaded by scripts/thread-cpu.js (NODE_OPTIONS=--require) into every
// Node thread of the command it watches: appends "TID NAME" to
// $TCE_THREAD_LOG, NAME being "main" or the worker's script file name. The
// kernel calls every Node thread "node", so without this a worker's CPU
// could not be told from V8's own threads.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { isMainThread } = require('node:worker_threads');

const log = process.env.TCE_THREAD_LOG;

function record(name) {
  try {
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop();
    fs.appendFileSync(log, `${process.pid} ${tid} ${name}\n`);
  } catch {
    // Not Linux, or the log is gone: the thread stays unnamed.
  }
}

if (log) {
  if (isMainThread) record('main');
  else {
    // A worker's script is not known yet when this runs; it is the first
    // module loaded as main. Named before it runs: a worker that then
    // computes for seconds without returning to its event loop is named too.
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
      if (isMain) {
        Module._load = load;
        record(path.basename(String(request)));
      }
      return load.apply(this, arguments);
    };
  }
}
