import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigSchema } from '../../src/config/schema';
import { loadExperimentData } from '../../src/data/load';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes `lock` (a directory: mkdir is atomic) or waits while a live process
 * holds it; a lock left by a dead process is taken over. False once `done`
 * exists (someone else made it meanwhile). */
async function lockOrWait(lock: string, done: string): Promise<boolean> {
  for (;;) {
    if (fs.existsSync(done)) return false;
    try {
      fs.mkdirSync(lock, { recursive: false });
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch { /* being created or removed right now */ }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
    else await sleep(100);
  }
}

/** The synthetic fixture, made once per version of the generator code and
 * shared by every test file (same seed, same bytes, so sharing is safe).
 * Test files run concurrently: one makes it, under a lock, through the same
 * on-demand path `tce run` takes; the others wait for it. */
export async function sharedFixture(seed = 42): Promise<string> {
  const dir = path.join(TEST_CACHE, `fixture-${seed}-${generatorHash()}`);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  fs.mkdirSync(TEST_CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  if (!(await lockOrWait(lock, done))) return dir;
  try {
    if (fs.existsSync(done)) return dir;
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const log: string[] = [];
    await loadExperimentData(ConfigSchema.parse({ seed, paths: { fixtureDir: tmp } }), { log: (l) => log.push(l) });
    if (!log.some((l) => l.includes('generating'))) throw new Error(`the fixture was not generated on demand: ${log.join('\n')}`);
    fs.writeFileSync(path.join(tmp, '.complete'), '');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    return dir;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A config file in `dir` that runs against `fixtureDir` and keeps every
 * output inside `dir` (the DB at the plan's relative path). */
export function writeTestConfig(dir: string, fixtureDir: string, extra: Record<string, unknown> = {}): string {
  const exp = path.join(dir, 'tool_calling_experiment');
  const cfg = {
    paths: {
      experimentDir: exp,
      db: path.join(exp, 'tool_calling.db'),
      runsDir: path.join(exp, 'runs'),
      fixtureDir,
      toolStats: path.join(exp, 'tool_stats.json'),
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
