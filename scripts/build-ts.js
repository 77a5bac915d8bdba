#!/usr/bin/env node
'use strict';
// `tsc -p .`, and a stamp (dist/.tsc-ok) when it reported no error. With
// --if-stale it does nothing while the stamp is newer than every input (.ts
// and .json under src/, test/, bench/; tsconfig.json, package-lock.json): `npm test` right
// after `npm ci` or an edit-free rerun skips a type-check that takes seconds
// and would find nothing new. A failed build leaves no stamp, so its errors
// are reported again. It also writes the simulator's prepared tokenizer
// tables (dist/tokenizer, src/backends/sim/tokenizer-data.ts) when they are
// missing or were made for another version of the tokenizer package.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.tsc-ok');

function newestInput() {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
      return;
    }
    if (p.endsWith('.ts') || p.endsWith('.json')) newest = Math.max(newest, st.mtimeMs);
  };
  for (const d of ['src', 'test', 'bench', 'tsconfig.json', 'package-lock.json']) visit(path.join(root, d));
  return newest;
}

function prepareTokenizer() {
  const data = path.join(root, 'dist', 'src', 'backends', 'sim', 'tokenizer-data.js');
  if (!fs.existsSync(data)) return;
  const { TOKENIZER_DATA_DIR, tokenizerDataCurrent, writeTokenizerData } = require(data);
  if (!tokenizerDataCurrent(TOKENIZER_DATA_DIR)) writeTokenizerData(TOKENIZER_DATA_DIR);
}

if (process.argv.includes('--if-stale')) {
  let built = 0;
  try {
    built = fs.statSync(stamp).mtimeMs;
  } catch { /* never built with this script */ }
  if (built > newestInput()) {
    prepareTokenizer();
    process.exit(0);
  }
}
fs.rmSync(stamp, { force: true });
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const r = spawnSync(process.execPath, [tsc, '-p', '.'], { stdio: 'inherit', cwd: root });
if (r.status === 0) fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
prepareTokenizer();
process.exit(r.status ?? 1);
