'use strict';
// A node:test reporter that records how long each test file took (the sum of
// its top-level tests) in .cache/test/durations.json, so that the next
// `npm test` can start the longest files first (scripts/run-tests.js).
const fs = require('node:fs');
const path = require('node:path');

const FILE = path.resolve(__dirname, '..', '.cache', 'test', 'durations.json');

module.exports = async function* durations(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const name = path.basename(event.data.file);
      perFile.set(name, (perFile.get(name) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  let known = {};
  try {
    known = JSON.parse(fs.readFileSync(FILE, 'utf8'));
  } catch { /* first run */ }
  for (const [name, ms] of perFile) known[name] = Math.round(ms);
  fs.mkdirSync(path.dirname(FILE), { recursive: true });
  fs.writeFileSync(`${FILE}.tmp-${process.pid}`, JSON.stringify(known, null, 2) + '\n');
  fs.renameSync(`${FILE}.tmp-${process.pid}`, FILE);
  yield '';
};
