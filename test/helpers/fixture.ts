import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesizeFixture } from '../../src/data/fixture/synth';

const DATA_DIST = path.resolve(__dirname, '..', '..', 'src', 'data');

function codeHash(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) h.update(e.name).update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 12);
}

/** The synthetic fixture, made once per version of the generator code and
 * shared by every test file (same seed, same bytes, so sharing is safe). */
export async function sharedFixture(seed = 42): Promise<string> {
  const dir = path.join(os.tmpdir(), `tce-fixture-${seed}-${codeHash(DATA_DIST)}`);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await synthesizeFixture({ outDir: tmp, seed });
  fs.writeFileSync(path.join(tmp, '.complete'), '');
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // another test process won the race: use its copy
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
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
