#!/usr/bin/env node
// Where a SQLite file's bytes are: pages, bytes and page fill per b-tree
// (table or index), largest first, from SQLite's dbstat table, and the
// free pages. `node scripts/db-pages.js FILE.db [N]`. A b-tree filled in
// random key order keeps its pages ~5/6 full; docs/storage.md ("Page
// fill") says what the run tables' insert order does to them.
'use strict';
const fs = require('node:fs');
const Database = require('better-sqlite3');

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/db-pages.js FILE.db [N]\n');
  process.exit(2);
}
if (!fs.existsSync(file)) {
  process.stderr.write(`db-pages: ${file}: no such file\n`);
  process.exit(1);
}
const db = new Database(file, { readonly: true, fileMustExist: true });
const rows = db.prepare(`SELECT name, count(*) AS pages, sum(pgsize) AS bytes, sum(pgsize - unused) AS used
  FROM dbstat GROUP BY name ORDER BY bytes DESC, name`).all();
const mb = (b) => (b / 1e6).toFixed(1).padStart(8);
const width = Math.max(6, ...rows.map((r) => r.name.length));
process.stdout.write(`${file}: ${fs.statSync(file).size} bytes, page size ${db.pragma('page_size', { simple: true })}\n`);
process.stdout.write(`${'b-tree'.padEnd(width)}  ${'pages'.padStart(8)}  ${'MB'.padStart(8)}  fill\n`);
for (const r of rows.slice(0, nArg ? Number(nArg) : rows.length)) {
  process.stdout.write(`${r.name.padEnd(width)}  ${String(r.pages).padStart(8)}  ${mb(r.bytes)}  ${(r.used / r.bytes).toFixed(3)}\n`);
}
process.stdout.write(`free pages: ${db.pragma('freelist_count', { simple: true })}\n`);
db.close();
