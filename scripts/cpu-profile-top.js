#!/usr/bin/env node
// Self time per function of a V8 .cpuprofile (node --cpu-prof), largest
// first: `node scripts/cpu-profile-top.js FILE.cpuprofile [N] [--inclusive]`.
// --inclusive counts each function's callees too (a function on the stack
// twice counts once), which shows where a phase's time goes when no single
// function's self time stands out.
'use strict';
const fs = require('node:fs');

const args = process.argv.slice(2);
const inclusive = args.includes('--inclusive');
const [file, nArg] = args.filter((a) => a !== '--inclusive');
if (!file) {
  process.stderr.write('usage: node scripts/cpu-profile-top.js FILE.cpuprofile [N] [--inclusive]\n');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const keyOf = (f) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
const time = new Map();
let total = 0;
p.samples.forEach((id, i) => {
  const us = p.timeDeltas[i] || 0;
  total += us;
  const keys = new Set();
  for (let at = id; at !== undefined; at = inclusive ? parent.get(at) : undefined) keys.add(keyOf(byId.get(at).callFrame));
  for (const key of keys) time.set(key, (time.get(key) || 0) + us);
});
process.stdout.write(`${(total / 1e6).toFixed(1)} s sampled${inclusive ? ' (inclusive time)' : ''}\n`);
for (const [k, us] of [...time].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg) || 25)) {
  process.stdout.write(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}\n`);
}
