// `npm run bench [-- FILTER...]`: runs every bench/*.bench.ts (compiled),
// or those whose name contains a filter, and writes
// bench/results/latest.json and bench/results/latest.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ratio, type BenchModule, type ScenarioResult } from './harness';

const SRC_DIR = path.resolve(__dirname, '..', '..', 'bench');
const RESULTS = path.join(SRC_DIR, 'results');

function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function toMarkdown(results: ScenarioResult[]): string {
  const out: string[] = [`# Benchmark results`, '', `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version}`, ''];
  for (const s of results) {
    out.push(`## ${s.bench}: ${s.scenario}`, '');
    if (s.notes) out.push(s.notes, '');
    out.push(`| contender | ${s.contenders[0]?.unit ?? 'value'} | × vs ${s.baseline} |`, '|---|---:|---:|');
    for (const c of s.contenders) out.push(`| ${c.name} | ${fmt(c.value)} | ${fmt(ratio(s, c.name, s.baseline))}× |`);
    for (const t of s.targets ?? []) {
      const r = ratio(s, t.name, t.vs);
      out.push('', `target: ${t.name} ≥ ${t.ratio}× ${t.vs}: measured ${fmt(r)}× — ${r >= t.ratio ? 'met' : 'NOT met'}`);
    }
    out.push('');
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.bench.js')).sort()
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    console.error(`no bench files match: ${filters.join(' ') || '(none present)'}`);
    process.exit(1);
  }
  const all: ScenarioResult[] = [];
  for (const f of files) {
    const mod = require(path.join(__dirname, f)) as { default?: BenchModule; bench?: BenchModule };
    const b = mod.bench ?? mod.default;
    if (!b) throw new Error(`${f} exports no bench`);
    process.stderr.write(`bench ${b.name}...\n`);
    const results = await b.run();
    all.push(...results);
    process.stdout.write(toMarkdown(results) + '\n');
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results: all }, null, 2));
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), toMarkdown(all));
  process.stderr.write(`wrote ${path.join(RESULTS, 'latest.json')} and latest.md\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
