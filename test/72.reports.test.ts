import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { openDb, type DB } from '../src/store/db';
import { analyzeDb, plannedArms } from '../src/analysis/analyze';
import type { AnalysisResult } from '../src/analysis/types';
import { insertSyntheticSuite } from './support/synthetic-suite';
import { SamplePart, writeReports, summaryTable } from '../src/report/write-reports';
import { escapeHtml } from '../src/report/escape';
import { LineSink, writeAllSync } from '../src/util/line-sink';
import { tmpDir } from './helpers/cli';
import { browserSkip, requireChromium } from './helpers/chromium';

const HOSTILE = `</pre></style><script>alert("x")</script><img src=x onerror='alert(1)'> & "quoted"`;

interface Suite { db: DB; r: AnalysisResult; dir: string }

/** 120 synthetic samples with hostile text, analysed and reported once for
 * every test in this file: each test reads what it checks from the same
 * database, analysis and report files (making them was most of its cost).
 * A database file, not :memory:, so the reports can be written by two threads
 * (the last test compares them with one thread's). */
let shared: Promise<Suite> | null = null;
function hostileSuite(): Promise<Suite> {
  shared ??= (async () => {
    const db = openDb(path.join(tmpDir(), 'suite.db'));
    insertSyntheticSuite(db, { nSamples: 120, seed: 4 });
    // model text and tool output are untrusted: plant markup everywhere it can appear
    db.prepare(`UPDATE predictions SET final_generated_text = ?, revision_reason = ? WHERE scene_was_revised = 1`).run(HOSTILE, HOSTILE);
    db.prepare(`UPDATE tool_calls SET tool_arguments_json = ? WHERE tool_call_order = 0`).run(JSON.stringify({ scene: HOSTILE }));
    db.prepare(`UPDATE tool_calls SET tool_result_json = '{not json' WHERE sample_id = 1`).run();
    const r = await analyzeDb(db, { bootstrap: 100, workers: 1 });
    const dir = tmpDir();
    // Two threads even at this size (a default-sized run splits on its own).
    await writeReports(db, r, { outDir: dir, worker: true });
    return { db, r, dir };
  })();
  return shared;
}
after(async () => {
  if (shared) (await shared).db.close();
});

test('reports: one JSONL line per sample and condition, ten sections, a decision, synthetic label first', async () => {
  const { dir } = await hostileSuite();
  const lines = fs.readFileSync(path.join(dir, 'sample_report_data.json'), 'utf8').trimEnd().split('\n');
  // 13 experiments and the two staged first answers, every record marked synthetic
  assert.equal(lines.length, 15 * 120);
  assert.equal(lines.filter((l) => l.startsWith('{"synthetic":true,')).length, lines.length);
  const recs = lines.map((l) => JSON.parse(l) as { tags: string[]; flip: string; tool_calls: Array<{ result: unknown }>; sample_id: number; label: string });
  const first = recs.find((x) => x.label === 'staged_first_answer_8b')!;
  assert.deepEqual(first.tool_calls, []);
  assert.ok(recs.some((x) => x.tags.includes('tool_saved') && x.flip === 'saved'));
  assert.ok(recs.some((x) => x.tags.includes('ignored_tool_warning')));
  assert.ok(recs.some((x) => x.tags.includes('all_tools_agreed')));
  const bad = recs.find((x) => x.sample_id === 1 && x.label === 'all_tools_8b')!;
  assert.deepEqual(bad.tool_calls[0]!.result, { unparsed: '{not json' });
  const md = fs.readFileSync(path.join(dir, 'TOOL_CALLING_INSIGHTS_REPORT.md'), 'utf8');
  assert.match(md.split('\n')[0]!, /^> SYNTHETIC RESULTS/);
  for (let i = 1; i <= 10; i++) assert.match(md, new RegExp(`^## ${i}\\. `, 'm'), `section ${i}`);
  assert.match(md, /^\*\*\[simulated: checks the pipeline, not the model\] Outcome [1-4]: /m);
  assert.match(md, /\*\*Sample \d+\*\*/); // real examples
  assert.match(md.split('\n')[1]!, /^> \*\*Failed samples: none/, 'failed samples are counted in the first lines');
  assert.match(md.split('\n')[2]!, /^> Tool statistics: /);
  // every section opens with an example from this run
  for (const sec of md.split(/^## /m).slice(1, 11)) assert.match(sec, /Example from this run|\*\*Sample \d+\*\*|_No such samples/, sec.slice(0, 60));
  // each claim names its comparison, metric, interval and Holm-corrected p
  assert.match(md, /all_tools_8b vs no_tools_8b \(n 120\): macro-F1 [\d.]+ vs [\d.]+, difference [-+][\d.]+ \(95% paired bootstrap CI [-+][\d.]+ to [-+][\d.]+\), bootstrap p [\d.e-]+, Holm-corrected p [\d.e-]+: (better|worse|no difference); beside it, accuracy /);
  assert.match(md, /staged_8b vs staged_first_answer_8b/);
  assert.ok(!/0\.0e\+0/.test(md), 'an underflowed p printed as 0');
  assert.ok(!md.includes('<script>'), 'raw markup in markdown');
});

test('report.html escapes hostile model text and loads nothing from the network', async () => {
  const { dir } = await hostileSuite();
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.ok(!/<script/i.test(html), 'a <script> tag reached the page');
  assert.ok(!html.includes('onerror=\'alert'), 'an attribute reached the page');
  assert.ok(html.includes(escapeHtml('<script>alert("x")</script>')));
  assert.ok(!/(src|href)="https?:/i.test(html));
  assert.match(html, /SYNTHETIC RESULTS/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('report.html renders in headless Chromium with its charts drawn', { skip: browserSkip() }, async () => {
  const chromium = requireChromium();
  const { dir } = await hostileSuite();
  const page = `file://${path.join(dir, 'report.html')}`;
  // The browser's files go elsewhere: the report folder is checked for strays.
  const own = tmpDir();
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', `--user-data-dir=${path.join(own, 'profile')}`];
  // One browser start for both: headless Chromium dumps the DOM and takes the
  // screenshot of the same page load (starting it was most of this test's cost).
  const shot = path.join(own, 'shot.png');
  const dom = spawnSync(chromium, [...flags, '--dump-dom', `--screenshot=${shot}`, '--window-size=1200,1400', page], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(dom.status, 0, dom.stderr);
  const charts = dom.stdout.match(/<svg class="chart"/g) ?? [];
  assert.ok(charts.length >= 5 + 11, `charts in the DOM: ${charts.length}`);
  assert.ok((dom.stdout.match(/class="mark"/g) ?? []).length > 100);
  assert.ok(!/<script/i.test(dom.stdout), 'the browser built a <script> element from model text');
  const png = PNG.sync.read(fs.readFileSync(shot));
  // bars are drawn in the palette's first colour (#4e79a7)
  let bar = 0;
  for (let i = 0; i < png.data.length; i += 4) if (Math.abs(png.data[i]! - 0x4e) < 6 && Math.abs(png.data[i + 1]! - 0x79) < 6 && Math.abs(png.data[i + 2]! - 0xa7) < 6) bar++;
  assert.ok(bar > 500, `pixels of bar colour: ${bar}`);
});

test('summaryTable prints one row per condition and the gate', async () => {
  const t = summaryTable((await hostileSuite()).r);
  assert.match(t, /^SYNTHETIC RESULTS/);
  assert.match(t, /Gate: oracle macro-F1 oracle_2b [\d.]+, oracle_8b [\d.]+ vs 0\.7/);
  assert.equal(t.split('\n').filter((l) => /^(baseline|oracle|no_tools|prior_only|confusion_only|all_tools|staged)/.test(l)).length, 15);
  assert.match(t, /^\[simulated: checks the pipeline, not the model\] Outcome [1-4]: /m);
  assert.match(t, /^ {2}tools_help_base_model staged_8b: /m);
});

/** This process's descriptors open on a report worker's spill file (unlinked: "(deleted)"). */
function openSpills(): string[] {
  return fs.readdirSync('/proc/self/fd').map((fd) => {
    try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; }
  }).filter((l) => /tce-report-.*\.part/.test(l));
}

test('LineSink: the bytes of the lines joined, whatever the buffer size; a line longer than the buffer goes out whole', () => {
  const lines = ['', 'a', 'é€𝄞 mixed ✓', 'x'.repeat(40), JSON.stringify({ text: 'línea\u2028'.repeat(9) }), 'y'.repeat(200), 'z'];
  const want = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  for (const size of [16, 64, 1000, 256 * 1024]) {
    const got: Buffer[] = [];
    const sink = new LineSink((b) => got.push(Buffer.from(b)), size);
    for (const l of lines) sink.line(l);
    sink.flush();
    assert.ok(Buffer.concat(got).equals(want), `buffer of ${size} B`);
    assert.ok(got.every((b) => b.length <= size || b.toString().split('\n').length === 2), 'only a single over-long line exceeds the buffer');
    if (size === 256 * 1024) assert.equal(got.length, 1, 'one write for what fits');
  }
});

test('writeAllSync: at a given position the bytes land there and the file\'s own position stays; without one they follow it', () => {
  const file = path.join(tmpDir(), 'w.bin');
  const fd = fs.openSync(file, 'w+');
  try {
    writeAllSync(fd, Buffer.from('abcdef'));
    writeAllSync(fd, Buffer.from('XYZ-'), 1, 2, 10);
    writeAllSync(fd, Buffer.from('gh'));
  } finally {
    fs.closeSync(fd);
  }
  assert.deepEqual([...fs.readFileSync(file)], [...Buffer.from('abcdefgh'), 0, 0, ...Buffer.from('YZ')]);
});

test('reports: the JSONL written by two threads (a worker takes the second half of the conditions) has the bytes one thread writes', async () => {
  // The shared reports were written by two threads (a database file, `worker: true`).
  const { db, r, dir: two } = await hostileSuite();
  const one = tmpDir();
  await writeReports(db, r, { outDir: one, worker: false });
  for (const f of ['sample_report_data.json', 'TOOL_CALLING_INSIGHTS_REPORT.md', 'report.html']) {
    assert.ok(fs.readFileSync(path.join(one, f)).equals(fs.readFileSync(path.join(two, f))), f);
  }
  assert.deepEqual(fs.readdirSync(two).sort(), ['TOOL_CALLING_INSIGHTS_REPORT.md', 'report.html', 'sample_report_data.json'], 'no part or tmp file left');
  assert.deepEqual(openSpills(), [], 'the worker\'s spill file is closed');
});

test('reports: a JSONL worker started before the analysis (tce start) gives the bytes one thread writes; a condition it took for sound is re-encoded with its problem; one started for other conditions is stopped', async () => {
  const { db, r } = await hostileSuite();
  const planned = plannedArms(db)!;
  assert.deepEqual(planned.arms.map((a) => a.label), r.conditions.map((c) => c.label), 'the planned arms are the analysis\'s, in its order');
  assert.equal(planned.baselineId, r.baselineId);
  const one = tmpDir();
  const early = tmpDir();
  await writeReports(db, r, { outDir: one, worker: false });
  await writeReports(db, r, { outDir: early, part: new SamplePart(db.name, planned.arms, planned.baselineId) });
  for (const f of ['sample_report_data.json', 'TOOL_CALLING_INSIGHTS_REPORT.md', 'report.html']) {
    assert.ok(fs.readFileSync(path.join(one, f)).equals(fs.readFileSync(path.join(early, f))), f);
  }
  // The analysis judged conditions after the worker started: every one failed here,
  // so whichever the worker encoded must be encoded again, with its problem.
  const judged: AnalysisResult = { ...r, conditions: r.conditions.map((c) => ({ ...c, problem: `failed: ${c.label}` })) };
  const oneJudged = tmpDir();
  const earlyJudged = tmpDir();
  await writeReports(db, judged, { outDir: oneJudged, worker: false });
  const part = new SamplePart(db.name, planned.arms, planned.baselineId);
  // The worker claims (and encodes as sound) the last condition before this thread starts.
  const last = planned.arms.length - 1;
  for (const giveUp = Date.now() + 20_000; !part.claimed(last) && Date.now() < giveUp;) await new Promise((res) => setTimeout(res, 10));
  assert.ok(part.claimed(last), 'the worker claimed a condition before the analysis\'s judgement reached it');
  await writeReports(db, judged, { outDir: earlyJudged, part });
  const recs = fs.readFileSync(path.join(earlyJudged, 'sample_report_data.json'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { label: string; condition_problem: string });
  assert.ok(recs.every((x) => x.condition_problem === `failed: ${x.label}`));
  assert.ok(fs.readFileSync(path.join(oneJudged, 'sample_report_data.json')).equals(fs.readFileSync(path.join(earlyJudged, 'sample_report_data.json'))));
  // Started for other conditions: not used (its records would name other experiments).
  const other = new SamplePart(db.name, planned.arms.slice(1), planned.baselineId);
  const stopped = tmpDir();
  await writeReports(db, r, { outDir: stopped, part: other });
  assert.ok(fs.readFileSync(path.join(one, 'sample_report_data.json')).equals(fs.readFileSync(path.join(stopped, 'sample_report_data.json'))));
  assert.deepEqual(fs.readdirSync(stopped).sort(), ['TOOL_CALLING_INSIGHTS_REPORT.md', 'report.html', 'sample_report_data.json'], 'no part or tmp file left');
  assert.deepEqual(openSpills(), [], 'every spill file closed: written, re-encoded, stopped');
  // A part whose worker fails (it cannot open its database): its spill file (in the system's
  // temporary folder) is closed with it, and this thread writes every condition, the same bytes.
  const broken = new SamplePart(path.join(tmpDir(), 'no-such-folder', 'missing.db'), planned.arms, planned.baselineId);
  assert.equal(openSpills().length, 1, 'open while the worker runs');
  assert.ok(openSpills()[0]!.startsWith(os.tmpdir()), openSpills()[0]);
  const alone = tmpDir();
  await writeReports(db, r, { outDir: alone, part: broken });
  assert.ok(fs.readFileSync(path.join(one, 'sample_report_data.json')).equals(fs.readFileSync(path.join(alone, 'sample_report_data.json'))));
  assert.deepEqual(openSpills(), [], 'closed after the worker failed');
  // A worker that ends after claiming conditions (stopped here; a full disk under its spill
  // file in a run): this thread encodes the conditions it had claimed.
  const ended = new SamplePart(db.name, planned.arms, planned.baselineId);
  for (const giveUp = Date.now() + 20_000; !ended.claimed(last) && Date.now() < giveUp;) await new Promise((res) => setTimeout(res, 10));
  assert.ok(ended.claimed(last));
  await ended.stop();
  const after = tmpDir();
  await writeReports(db, r, { outDir: after, part: ended });
  assert.ok(fs.readFileSync(path.join(one, 'sample_report_data.json')).equals(fs.readFileSync(path.join(after, 'sample_report_data.json'))));
  assert.deepEqual(openSpills(), []);
});
