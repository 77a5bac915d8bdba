// Tool statistics for a run: built from the self-consistency data when the
// file is missing or was built from another source or mode, loaded otherwise.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema';
import { loadToolStats, type ToolStats } from '../tools/stats';
import { buildToolStatsFile, defaultToolSource } from '../tools/source';

export async function ensureToolStats(c: Config, log: (l: string) => void): Promise<ToolStats> {
  const src = defaultToolSource(c);
  const mode = c.tools.crossFit >= 2 ? `cross_fit_${c.tools.crossFit}` : 'in_sample';
  if (fs.existsSync(c.paths.toolStats) && fs.existsSync(src)) {
    const s = loadToolStats(c.paths.toolStats);
    const sha = createHash('sha256').update(fs.readFileSync(src)).digest('hex');
    if (s.source?.sha256 === sha && s.mode === mode) return s;
    log(`tool statistics in ${c.paths.toolStats} are stale (other source or mode); rebuilding`);
  }
  const stats = await buildToolStatsFile({ from: src, out: c.paths.toolStats, crossFit: c.tools.crossFit, seed: c.seed, config: c, synthesizeIfMissing: true });
  log(`built tool statistics (${stats.mode}) from ${src} -> ${c.paths.toolStats}`);
  return stats;
}
