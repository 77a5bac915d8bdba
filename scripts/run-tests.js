#!/usr/bin/env node
'use strict';
// Runs every compiled test file (dist/test/NN.*.test.js) with node:test, in
// layer order. Extra arguments filter by substring: `npm test -- 20.config`.
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
const files = fs.readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .map((f) => path.join(dir, f));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
