'use strict';
// The name the profiling preloads (thread-name.js, alloc-profile.js) give a
// Node thread: "main", or the worker's script file name. A worker's script
// is not known yet when a preload runs; it is the first module loaded as
// main, so the name is reported from there, before that script runs: a
// worker that then computes for seconds without returning to its event
// loop is named too.
const path = require('node:path');
const Module = require('node:module');
const { isMainThread } = require('node:worker_threads');

/** Calls `named(name)` once this thread's name is known. */
function onThreadName(named) {
  if (isMainThread) {
    named('main');
    return;
  }
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (isMain) {
      Module._load = load;
      named(path.basename(String(request)));
    }
    return load.apply(this, arguments);
  };
}

module.exports = { onThreadName };
