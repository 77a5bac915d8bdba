// `tce view` page latency on the full default run's database (`npm start`
// writes tool_calling_experiment/tool_calling.db, about 550 MB): the suite,
// a filtered and sorted all_tools page, and a sample page with its
// prev/next links, each fetched over HTTP from the real server. Targets
// (issue 17): suite and filtered condition under 300 ms, sample under 150 ms.
// The first request of a condition builds its sample list (cold); the
// median of the following ones is the headline (warm), both are printed.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchModule, ContenderResult } from './harness';
import { ViewStore } from '../src/view/view-store';
import { startViewServer } from '../src/view/server';
import { NO_IMAGES } from '../src/view/images';
import { ListCache } from '../src/view/list-cache';

const DB = path.resolve(__dirname, '..', '..', 'tool_calling_experiment', 'tool_calling.db');
const TRIALS = 15;

async function timeGet(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url);
  await r.arrayBuffer();
  const dt = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  return dt;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const bench: BenchModule = {
  name: 'view',
  async run() {
    if (!fs.existsSync(DB)) {
      return [{ bench: 'view', scenario: 'page latency (skipped)', better: 'lower', baseline: 'suite /', contenders: [], notes: `${DB} is missing: run \`npm start\` first.` }];
    }
    // Pick the condition and a sample with a separate connection, so the
    // server's first request of each page is really cold.
    const probe = ViewStore.open(DB);
    const e = probe.conditions().find((x) => x.condition_name === 'all_tools' && x.verifier_size === '8b') ?? probe.conditions().at(-1)!;
    const rows = probe.buildList(e).rows;
    const sample = (rows.find((r) => r.flip === 'saved') ?? rows[0]!).sample_id;
    probe.close();
    const store = ViewStore.open(DB);
    const lists = new ListCache(store); // no prewarm: the first condition request waits for its list
    const s = await startViewServer({ store, lists, images: NO_IMAGES, note: null });
    const filter = 'flip=saved&sort=latency&dir=desc';
    const pages = [
      { name: 'suite /', url: s.url, target: 300 },
      { name: `condition (${e.label}, ${filter})`, url: `${s.url}condition/${encodeURIComponent(e.experiment_id)}?${filter}`, target: 300 },
      { name: `sample ${sample} with prev/next`, url: `${s.url}sample/${sample}?c=${encodeURIComponent(e.experiment_id)}&${filter}`, target: 150 },
    ];
    const contenders: ContenderResult[] = [];
    const verdicts: string[] = [];
    try {
      for (const p of pages) {
        const cold = await timeGet(p.url);
        const warm: number[] = [];
        for (let i = 0; i < TRIALS; i++) warm.push(await timeGet(p.url));
        const m = median(warm);
        contenders.push({ name: p.name, value: m, unit: 'ms (median, warm)', extra: { cold_ms: Number(cold.toFixed(1)), max_ms: Number(Math.max(...warm).toFixed(1)) } });
        verdicts.push(`${p.name} < ${p.target} ms: median ${m.toFixed(1)} ms (first request ${cold.toFixed(1)} ms) — ${m < p.target ? 'met' : 'NOT met'}`);
      }
    } finally {
      await s.close();
      await lists.close();
      store.close();
    }
    const size = (fs.statSync(DB).size / 1e6).toFixed(0);
    return [{
      bench: 'view', scenario: `tce view page latency over HTTP on ${path.basename(DB)} (${size} MB)`, better: 'lower', baseline: 'suite /', contenders,
      notes: `Targets (issue 17):\n\n${verdicts.map((v) => `- ${v}`).join('\n')}`,
    }];
  },
};
