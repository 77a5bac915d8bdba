'use strict';
// The node:test reporter of a test worker (scripts/test-worker.js): each test
// file is a top-level suite there, and when one ends its events are rendered
// by node's spec reporter and sent whole to scripts/run-tests.js, with its
// test counts and its failing tests, so that files running in different
// processes never interleave their output. Diagnostics that belong to no
// file (an error after a file ended) go to stderr, which the runner shows.
const { Readable } = require('node:stream');
const { spec: SpecReporter } = require('node:test/reporters');

/** The spec reporter without its closing recap of failures: the runner
 * prints one recap for the whole run. */
function fileSpec() {
  const s = new SpecReporter();
  s._flush = (callback) => callback(null, '');
  return s;
}

async function render(events) {
  const out = [];
  for await (const chunk of Readable.from(events).pipe(fileSpec())) out.push(String(chunk));
  return out.join('');
}

function firstLine(error) {
  const e = error?.cause ?? error;
  return String(e?.message ?? e ?? 'failed').split('\n').find((l) => l.trim() !== '') ?? 'failed';
}

// node:test's own totals at the end of the process: the runner counts for all processes.
const TOTALS = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;

/** Sends one message to the runner; resolves once it is written. */
function send(message) {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, () => resolve());
  });
}

module.exports = async function* fileReports(source) {
  let file = null; // { name, events, names, counts, failures }
  for await (const event of source) {
    const { type, data } = event;
    if (!type.startsWith('test:') || type === 'test:enqueue' || type === 'test:dequeue' || type === 'test:complete') continue;
    if (data.nesting === 0 && type === 'test:start') {
      file = { name: data.name, events: [], names: [], counts: { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 }, failures: [] };
    }
    if (!file) {
      if (type === 'test:diagnostic' && !TOTALS.test(data.message)) process.stderr.write(`# ${data.message}\n`);
      continue;
    }
    file.events.push(event);
    if (type === 'test:start') file.names[data.nesting] = data.name;
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting > 0) {
      const suite = data.details?.type === 'suite';
      const error = data.details?.error;
      if (!suite) {
        if (data.skip !== undefined) file.counts.skipped++;
        else if (data.todo !== undefined) file.counts.todo++;
        else if (type === 'test:pass') file.counts.pass++;
        else if (error?.failureType === 'cancelledByParent') file.counts.cancelled++;
        else file.counts.fail++;
      }
      if (type === 'test:fail' && error?.failureType !== 'subtestsFailed') {
        file.failures.push({ test: [...file.names.slice(1, data.nesting), data.name].join(' > '), message: firstLine(error) });
      }
    }
    if (data.nesting === 0 && (type === 'test:pass' || type === 'test:fail')) {
      // A file that fails outside its tests (loading it, a hook, the
      // process-state check): the suite's own error.
      const error = data.details?.error;
      if (type === 'test:fail' && error?.failureType !== 'subtestsFailed') file.failures.push({ test: '(file)', message: firstLine(error) });
      await send({ type: 'report', file: file.name, ok: type === 'test:pass', text: await render(file.events), counts: file.counts, failures: file.failures });
      file = null;
    }
  }
};
