#!/usr/bin/env node
'use strict';
// Screenshots of the three `tce view` pages for docs/viewer.md, taken with
// Debian's chromium. Usage: node scripts/viewer-screenshots.js URL SAMPLE_PATH OUT_DIR
// (URL: a running `tce view`; SAMPLE_PATH e.g. /sample/19?c=<id>&flip=saved).
const path = require('node:path');
const puppeteer = require('puppeteer-core');

async function main() {
  const [base, samplePath, out] = process.argv.slice(2);
  if (!base || !samplePath || !out) throw new Error('usage: viewer-screenshots.js URL SAMPLE_PATH OUT_DIR');
  const c = new URL(samplePath, base).searchParams.get('c');
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 860 });
    const shots = [['viewer-suite.png', '/'], ['viewer-condition.png', `/condition/${encodeURIComponent(c)}?flip=saved&sort=latency&dir=desc`], ['viewer-sample.png', samplePath]];
    for (const [file, p] of shots) {
      await page.goto(new URL(p, base).href, { waitUntil: 'networkidle0' });
      await page.screenshot({ path: path.join(out, file), type: 'png' });
      process.stdout.write(`wrote ${path.join(out, file)}\n`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e.message); process.exit(1); });
