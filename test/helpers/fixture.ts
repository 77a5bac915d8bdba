import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureFixture } from '../../src/data/fixture/synth';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Where test files share what is expensive to make (gitignored). */
export const TEST_CACHE = path.join(ROOT, '.cache', 'test');

/** Hash of the generator's compiled code: the synth module and everything it
 * requires from dist/src, so a changed generator gets a fresh fixture. */
function generatorHash(): string {
  const entry = require.resolve('../../src/data/fixture/synth');
  require(entry);
  const distSrc = path.resolve(__dirname, '..', '..', 'src') + path.sep;
  const seen = new Set<string>();
  const walk = (m: NodeJS.Module | undefined) => {
    if (!m || seen.has(m.filename) || !m.filename.startsWith(distSrc)) return;
    seen.add(m.filename);
    for (const c of m.children) walk(c);
  };
  walk(require.cache[entry]);
  const h = crypto.createHash('sha256');
  for (const f of [...seen].sort()) h.update(path.relative(distSrc, f)).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 12);
}

let shared: Promise<string> | null = null;

/** The synthetic fixture, made once per version of the generator code and
 * shared by every test file (same seed, same bytes, so sharing is safe).
 * Test files run concurrently: the first to get the fixture's lock makes it
 * (the same on-demand path `tce run` takes), the others wait for it. */
export function sharedFixture(seed = 42): Promise<string> {
  if (seed !== 42) throw new Error('sharedFixture: only the default seed is shared');
  shared ??= (async () => {
    const dir = path.join(TEST_CACHE, `fixture-${seed}-${generatorHash()}`);
    await ensureFixture({ outDir: dir, seed });
    return dir;
  })();
  return shared;
}

/** The tool statistics of a shared fixture, one file per fixture: a run
 * rebuilds them when their source or mode differs (ensureToolStats) and
 * replaces the file atomically, so test files can share it; building them
 * from the 8,613 baseline rows is most of a small run's fixed cost. */
export function sharedToolStats(fixtureDir: string): string {
  return path.join(TEST_CACHE, `tool-stats-${path.basename(fixtureDir)}.json`);
}

/** A config file in `dir` that runs against `fixtureDir` and keeps every
 * output inside `dir` (the DB at the plan's relative path), except the tool
 * statistics of a shared fixture (`sharedToolStats`). */
export function writeTestConfig(dir: string, fixtureDir: string, extra: Record<string, unknown> = {}): string {
  const exp = path.join(dir, 'tool_calling_experiment');
  const shared = path.dirname(path.resolve(fixtureDir)) === TEST_CACHE;
  const cfg = {
    paths: {
      experimentDir: exp,
      db: path.join(exp, 'tool_calling.db'),
      runsDir: path.join(exp, 'runs'),
      fixtureDir,
      toolStats: shared ? sharedToolStats(fixtureDir) : path.join(exp, 'tool_stats.json'),
      reportsDir: exp,
    },
    ...extra,
  };
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** `dir/tool_calling_experiment/config.json`, the config every command picks
 * up from its working directory, with only the fixture moved to the shared
 * one: everything else keeps its default (relative) place. */
export function writeDefaultConfig(dir: string, fixtureDir: string): void {
  const exp = path.join(dir, 'tool_calling_experiment');
  fs.mkdirSync(exp, { recursive: true });
  fs.writeFileSync(path.join(exp, 'config.json'), JSON.stringify({ paths: { fixtureDir } }, null, 2));
}
