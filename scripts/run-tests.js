#!/usr/bin/env node
'use strict';
// Runs every compiled test file (dist/test/NN.*.test.js) with node:test, two
// files at a time. Extra arguments filter by substring: `npm test -- 20.config`.
// The longest files start first (durations of the last run, recorded by
// scripts/test-durations-reporter.js in .cache/test/; on a fresh clone, the
// committed scripts/test-durations.json, so the slow files do not start
// last); files never timed start before all others, in layer order.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'dist', 'test');
const filters = process.argv.slice(2);
if (!fs.existsSync(dir)) {
  console.error('no compiled tests in dist/test: run `npm run build:ts`');
  process.exit(1);
}
const readDurations = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
};
const known = { ...readDurations(path.join(__dirname, 'test-durations.json')), ...readDurations(path.join(root, '.cache', 'test', 'durations.json')) };
const cost = (f) => known[f] ?? Infinity;
// Only files whose source still exists: a renamed or deleted test leaves its
// old .js in dist/test (tsc never removes output), which must not run twice.
const hasSource = (f) => fs.existsSync(path.join(root, 'test', f.replace(/\.js$/, '.ts')));
const files = fs.readdirSync(dir)
  .filter((f) => f.endsWith('.test.js') && hasSource(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .sort((a, b) => cost(b) - cost(a) || (a < b ? -1 : 1))
  .map((f) => path.join(dir, f));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const reporters = [
  '--test-reporter', process.stdout.isTTY ? 'spec' : 'tap', '--test-reporter-destination', 'stdout',
  '--test-reporter', path.join(__dirname, 'test-durations-reporter.js'), '--test-reporter-destination', process.platform === 'win32' ? 'NUL' : '/dev/null',
];
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporters, ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
