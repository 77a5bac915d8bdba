import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, int, str } from '../common-options';
import { synthesizeFixture } from '../../data/fixture/synth';

export const synthCommand: Command = {
  description: 'Generates the stand-in of shared/spec/FIXTURE.md: 8,613 procedurally drawn samples with ground truth as an MDS dataset, and the greedy baseline in self_consistency.db. Same seed, same bytes. Prints every published figure beside the one recomputed from the written files; exits 1 if any differs. The data is synthetic.',
  options: {
    ...CONFIG_OPTION,
    out: { type: 'string', description: 'output folder (default: paths.fixtureDir of the config)', valueName: 'DIR' },
    seed: { type: 'string', description: 'generator seed (default: seed of the config, 42)', valueName: 'N' },
  },
  async run(args) {
    const { config } = configFrom(args);
    const outDir = str(args, 'out') ?? config.paths.fixtureDir;
    const seed = int(args, 'seed') ?? config.seed;
    const s = await synthesizeFixture({ outDir, seed, log: (l) => process.stderr.write(l + '\n') });
    const w = Math.max(...s.comparison.map((r) => r.figure.length));
    const lines = [`SYNTHETIC fixture, seed ${seed}: ${s.samples} samples`, `  MDS dataset:         ${s.mdsDir}`, `  self_consistency.db: ${s.selfConsistencyDb}`, '', `${'figure'.padEnd(w)}  ${'published'.padStart(9)}  ${'generated'.padStart(9)}`];
    for (const r of s.comparison) lines.push(`${r.figure.padEnd(w)}  ${r.published.padStart(9)}  ${r.generated.padStart(9)}${r.match ? '' : '  MISMATCH'}`);
    const bad = s.comparison.filter((r) => !r.match).length;
    lines.push('', bad ? `${bad} of ${s.comparison.length} figures differ from FIXTURE.md` : `all ${s.comparison.length} figures match FIXTURE.md`);
    process.stdout.write(lines.join('\n') + '\n');
    return bad ? 1 : 0;
  },
};
