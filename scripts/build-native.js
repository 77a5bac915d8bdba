#!/usr/bin/env node
'use strict';
// Builds the native addon with node-gyp from source, never downloading Node
// headers. node-gyp needs a "nodedir" holding include/node/common.gypi; every
// standard Node install (distro packages, official tarballs, nvm, volta) has
// it two levels above the node binary, so we derive it from process.execPath
// instead of hard-coding a prefix.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try { candidates.push(require.resolve('node-gyp/bin/node-gyp.js')); } catch { /* not installed locally */ }
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (fs.existsSync(c)) return { script: c, tried: candidates };
  return { script: null, tried: candidates };
}

function findNodeDir() {
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(process.execPath), '..'));
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, 'include', 'node', 'common.gypi'))) return { dir: c, tried: candidates };
  }
  return { dir: null, tried: candidates };
}

const gyp = findNodeGyp();
if (!gyp.script) {
  console.error(`tce: cannot find node-gyp; looked in:\n  ${gyp.tried.join('\n  ')}\nInstall it with: npm install -g node-gyp`);
  process.exit(1);
}
const nd = findNodeDir();
const args = [gyp.script, 'rebuild', '--release'];
if (nd.dir) {
  args.push(`--nodedir=${nd.dir}`);
} else {
  console.warn(`tce: no local Node headers (include/node/common.gypi) under:\n  ${nd.tried.join('\n  ')}\n` +
    'node-gyp will try to download them; offline, set npm_config_nodedir to your Node install prefix.');
}
const jobs = process.env.JOBS || String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, JOBS: jobs } });
if (r.status !== 0) {
  console.error('tce: native addon build failed (see above). Rebuild with: npm run build:native');
  process.exit(r.status ?? 1);
}
