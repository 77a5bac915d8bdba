'use strict';
// Preloaded into every Node thread of a command (NODE_OPTIONS=--require):
// a sampling heap profile of what each thread allocated, garbage included
// (HeapProfiler.startSampling with includeObjectsCollectedByMinorGC and
// ...ByMajorGC). `node --heap-prof` keeps only the samples still alive when
// the thread ends, so the short-lived objects that make the young
// generation's collections never show there. Each thread writes
// $TCE_ALLOC_DIR/NAME.PID.THREADID.heapprofile when it exits (NAME: "main"
// or the worker's script, thread-label.js); DevTools opens the files
// (Memory, Load), and scripts/cpu-profile-top.js lists bytes per function:
//
//   TCE_ALLOC_DIR=/tmp/alloc NODE_OPTIONS="--require $PWD/scripts/alloc-profile.js" \
//     node bin/tce.js run --limit 1000 --quiet --no-report
//   node scripts/cpu-profile-top.js /tmp/alloc/main.*.heapprofile 30
//
// TCE_ALLOC_INTERVAL: the mean bytes between samples (V8's default 32768).
// A worker ended by terminate() (the simulator's, the writer's) runs no exit
// handler: every thread also rewrites its file every 5 s, so such a worker
// leaves the profile of its run up to its last 5 s.
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');
const { isMainThread, threadId } = require('node:worker_threads');
const { onThreadName } = require('./thread-label');

const dir = process.env.TCE_ALLOC_DIR;
const interval = Number(process.env.TCE_ALLOC_INTERVAL || 32768);

function start(name) {
  const session = new inspector.Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  const file = path.join(dir, `${name}.${process.pid}.${threadId}.heapprofile`);
  const save = (method) => {
    session.post(method, (err, r) => {
      if (err) {
        process.stderr.write(`alloc-profile: ${name}: ${err.message}\n`);
        return;
      }
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(file, JSON.stringify(r.profile));
    });
  };
  setInterval(() => save('HeapProfiler.getSamplingProfile'), 5000).unref();
  // An in-process session answers at once, so the profile is taken within
  // the exit handler, where nothing asynchronous runs any more.
  process.on('exit', () => save('HeapProfiler.stopSampling'));
}

if (!dir) {
  if (isMainThread) process.stderr.write('alloc-profile: TCE_ALLOC_DIR is not set: no profiles are written\n');
} else if (!(interval >= 1)) {
  if (isMainThread) process.stderr.write(`alloc-profile: TCE_ALLOC_INTERVAL must be a positive number of bytes (got ${process.env.TCE_ALLOC_INTERVAL})\n`);
} else {
  onThreadName(start);
}
