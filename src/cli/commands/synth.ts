import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, int, str } from '../common-options';
import { synthesizeFixture, type FixtureSummary } from '../../data/fixture/synth';
import { PUBLISHED } from '../../domain/published-figures';
import { UsageError } from '../../util/errors';

/** What `tce synth` prints, and its exit code: 1 when a figure of the whole
 * fixture differs from FIXTURE.md. A subset (`--samples`) is not expected to
 * match, so it is shown but not judged. */
export function synthReport(s: Pick<FixtureSummary, 'seed' | 'samples' | 'subset' | 'mdsDir' | 'selfConsistencyDb' | 'comparison'>): { text: string; status: number } {
  const w = Math.max(...s.comparison.map((r) => r.figure.length));
  const lines = [`SYNTHETIC fixture, seed ${s.seed}: ${s.samples} samples`, `  MDS dataset:         ${s.mdsDir}`, `  self_consistency.db: ${s.selfConsistencyDb}`, '', `${'figure'.padEnd(w)}  ${'published'.padStart(9)}  ${'generated'.padStart(9)}`];
  for (const r of s.comparison) lines.push(`${r.figure.padEnd(w)}  ${r.published.padStart(9)}  ${r.generated.padStart(9)}${r.match || s.subset ? '' : '  MISMATCH'}`);
  const bad = s.comparison.filter((r) => !r.match).length;
  if (s.subset) lines.push('', `a subset (the first ${s.samples} of ${PUBLISHED.samples} samples): FIXTURE.md's figures hold for the whole fixture only, so they are not compared`);
  else lines.push('', bad ? `${bad} of ${s.comparison.length} figures differ from FIXTURE.md` : `all ${s.comparison.length} figures match FIXTURE.md`);
  return { text: lines.join('\n') + '\n', status: bad && !s.subset ? 1 : 0 };
}

export const synthCommand: Command = {
  description: 'Generates the stand-in of shared/spec/FIXTURE.md: 8,613 procedurally drawn samples with ground truth as an MDS dataset, and the greedy baseline in self_consistency.db. Same seed, same bytes. Prints every published figure beside the one recomputed from the written files; exits 1 if any differs. The data is synthetic.',
  options: {
    ...CONFIG_OPTION,
    out: { type: 'string', description: 'output folder (default: paths.fixtureDir of the config)', valueName: 'DIR' },
    seed: { type: 'string', description: 'generator seed (default: seed of the config, 42)', valueName: 'N' },
    samples: { type: 'string', description: `only the first N samples (a small fixture for tests; the published figures hold for all ${PUBLISHED.samples})`, valueName: 'N' },
  },
  async run(args) {
    const { config } = configFrom(args);
    const outDir = str(args, 'out') ?? config.paths.fixtureDir;
    const seed = int(args, 'seed') ?? config.seed;
    const samples = int(args, 'samples', { min: 1 });
    if (samples !== undefined && samples > PUBLISHED.samples) throw new UsageError(`--samples must be at most ${PUBLISHED.samples} (found ${samples})`);
    const s = await synthesizeFixture({ outDir, seed, samples, log: (l) => process.stderr.write(l + '\n') });
    const { text, status } = synthReport(s);
    process.stdout.write(text);
    return status;
  },
};
