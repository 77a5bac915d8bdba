#!/usr/bin/env node
'use strict';
// The CLI is compiled TypeScript; `npm install` builds it (prepare script).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error(`tce: ${entry} is missing: the TypeScript is not built.\nhint: run \`npm install\` (or \`npm run build:ts\`) in ${path.resolve(__dirname, '..')}`);
  process.exit(1);
}
require(entry).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
