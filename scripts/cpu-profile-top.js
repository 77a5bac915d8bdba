#!/usr/bin/env node
// Self time per function of a V8 .cpuprofile (node --cpu-prof), largest
// first: `node scripts/cpu-profile-top.js FILE.cpuprofile [N]`.
'use strict';
const fs = require('node:fs');

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/cpu-profile-top.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
p.samples.forEach((id, i) => {
  const f = byId.get(id).callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
  const us = p.timeDeltas[i] || 0;
  self.set(key, (self.get(key) || 0) + us);
  total += us;
});
process.stdout.write(`${(total / 1e6).toFixed(1)} s sampled\n`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg) || 25)) {
  process.stdout.write(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}\n`);
}
