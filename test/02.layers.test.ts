// The layer order of src/ (docs/development.md, "Layers") holds: every
// import points left, to a folder earlier in the order, or stays inside its
// own folder. The order is read from the doc, so the doc is its one home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './helpers/cli';

/** Layer groups, bottom first: folders in one group may not import each other. */
function layerOrder(): string[][] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'development.md'), 'utf8');
  const m = /<!-- layers -->\n([\s\S]*?)\n<!-- \/layers -->/.exec(doc);
  assert.ok(m, 'docs/development.md has the layer order between <!-- layers --> markers');
  return m[1]!.split('→').map((g) => [...g.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The src/ folder a relative import lands in, or null when outside src/. */
function targetFolder(srcDir: string, fromFile: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const rel = path.relative(srcDir, path.resolve(path.dirname(fromFile), spec));
  if (rel.startsWith('..')) return null;
  return rel.split(path.sep)[0]!.replace(/\.ts$/, '');
}

test('every src/ import respects the layer order of docs/development.md', () => {
  const order = layerOrder();
  const rank = new Map(order.flatMap((g, i) => g.map((name) => [name, i] as const)));
  const srcDir = path.join(ROOT, 'src');
  const folders = fs.readdirSync(srcDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !rank.has(f)), [], 'every src/ folder has a place in the order');
  const violations: string[] = [];
  let imports = 0;
  for (const file of sourceFiles(srcDir)) {
    const from = path.relative(srcDir, file).split(path.sep)[0]!;
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      const to = targetFolder(srcDir, file, ref.fileName);
      if (to === null || to === from) continue;
      imports++;
      const rf = rank.get(from), rt = rank.get(to);
      if (rf === undefined || rt === undefined || rt >= rf) violations.push(`${path.relative(ROOT, file)} imports ${ref.fileName} (${from} -> ${to}: ${rt === rf ? 'sideways' : 'up'})`);
    }
  }
  assert.ok(imports > 100, `found the imports (${imports})`);
  assert.deepEqual(violations, []);
});

test('the check sees an upward import, a sideways one and a require()', () => {
  const info = ts.preProcessFile("import { a } from '../run/suite';\nexport { b } from '../data/load';\nconst c = require('../cli/main');", true, true);
  assert.deepEqual(info.importedFiles.map((f) => f.fileName), ['../run/suite', '../data/load', '../cli/main']);
  const file = path.join(ROOT, 'src', 'tools', 'x.ts');
  assert.deepEqual(info.importedFiles.map((f) => targetFolder(path.join(ROOT, 'src'), file, f.fileName)), ['run', 'data', 'cli']);
});
