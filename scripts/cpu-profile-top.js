#!/usr/bin/env node
// Self time per function of a V8 .cpuprofile (node --cpu-prof), largest
// first: `node scripts/cpu-profile-top.js FILE.cpuprofile [N] [--inclusive]`.
// --inclusive counts each function's callees too (a function on the stack
// twice counts once), which shows where a phase's time goes when no single
// function's self time stands out. A .heapprofile (scripts/alloc-profile.js,
// or node --heap-prof) is read alike: bytes allocated per function.
'use strict';
const fs = require('node:fs');

const args = process.argv.slice(2);
const inclusive = args.includes('--inclusive');
const [file, nArg] = args.filter((a) => a !== '--inclusive');
if (!file) {
  process.stderr.write('usage: node scripts/cpu-profile-top.js FILE.cpuprofile|FILE.heapprofile [N] [--inclusive]\n');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const keyOf = (f) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;

/** Calls visit(weight, frames) per weighted leaf: frames from the leaf up
 * (each a callFrame). A .cpuprofile's leaves are its samples (weight: the
 * time since the previous one, µs); a .heapprofile's are its tree's nodes
 * (weight: the bytes sampled there). */
function leaves(visit) {
  if (p.head) {
    const walk = (n, up) => {
      const frames = [n.callFrame, ...up];
      if (n.selfSize > 0) visit(n.selfSize, frames);
      for (const c of n.children || []) walk(c, frames);
    };
    walk(p.head, []);
    return;
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
  p.samples.forEach((id, i) => {
    const frames = [];
    for (let at = id; at !== undefined; at = parent.get(at)) frames.push(byId.get(at).callFrame);
    visit(p.timeDeltas[i] || 0, frames);
  });
}

const sums = new Map();
let total = 0;
leaves((w, frames) => {
  total += w;
  const keys = new Set(inclusive ? frames.map(keyOf) : [keyOf(frames[0])]);
  for (const key of keys) sums.set(key, (sums.get(key) || 0) + w);
});
const heap = Boolean(p.head);
const scope = inclusive ? (heap ? ' (inclusive: with callees)' : ' (inclusive time)') : '';
process.stdout.write(heap ? `${(total / 1e6).toFixed(1)} MB allocated (sampled)${scope}\n` : `${(total / 1e6).toFixed(1)} s sampled${scope}\n`);
for (const [k, w] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg) || 25)) {
  const v = heap ? `${(w / 1e6).toFixed(1).padStart(8)} MB` : `${(w / 1e3).toFixed(0).padStart(8)} ms`;
  process.stdout.write(`${v} ${((100 * w) / total).toFixed(1).padStart(5)}%  ${k}\n`);
}
