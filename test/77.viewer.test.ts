// `tce view` on a small real run (simulator, synthetic fixture, 3
// conditions x 6 samples) with hostile text planted in the model output,
// the tool calls and the dataset fields: HTTP-level safety checks, then a
// real browser (Debian's chromium through puppeteer-core) clicking from the
// suite to a filtered condition to a sample.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { tce, tmpDir, TCE_BIN } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { copySharedRun, SHARED_RUN_EXPERIMENTS, SHARED_RUN_SAMPLES } from './helpers/shared-run';
import { ViewStore } from '../src/view/view-store';
import { startViewServer, type ViewServer } from '../src/view/server';
import { datasetImages } from '../src/view/images';
import { ListCache } from '../src/view/list-cache';
import { loadConfig } from '../src/config/load';
import { highlightCalls } from '../src/view/pages/sample-page';
import { t as textHtml } from '../src/view/html';
import { applyFilter, neighbours, pageOf, parseFilter, PAGE_SIZE } from '../src/view/condition-list';
import type { ListRow } from '../src/view/view-store';

const CHROMIUM = '/usr/bin/chromium';
const N = SHARED_RUN_SAMPLES;
const HOSTILE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2"> javascript:alert(3) \u0001\u202e';
const HOSTILE_CALL = '<tool_call>{"name": "check_scene_prior", "arguments": {"scene": "<script>window.__pwned=4</script>"}}</tool_call>';

let dir = '';
let dbFile = '';
let cfgFile = '';
let hostileSample = -1;
let allTools = '';

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(url, init);
  return { status: r.status, text: await r.text(), headers: r.headers };
}

/** fetch() will not send a foreign Host header; node:http will. */
function rawStatus(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host } }, (r) => { r.resume(); resolve(r.statusCode); }).on('error', reject);
  });
}

/** Plants hostile text where a model, a tool or a dataset could put it. */
function plantHostileText(file: string): void {
  const db = new Database(file);
  const e = db.prepare(`SELECT experiment_id AS id FROM experiments WHERE condition_name = 'all_tools'`).get() as { id: string };
  allTools = e.id;
  const k = db.prepare('SELECT sample_id, turn_index FROM tool_calls WHERE experiment_id = ? ORDER BY sample_id, tool_call_order LIMIT 1').get(allTools) as { sample_id: number; turn_index: number };
  hostileSample = k.sample_id;
  // (the reply may be stored once in texts: read it through turns_full)
  db.prepare(`UPDATE turns SET response_text = ? || char(10) || (SELECT f.response_text FROM turns_full f WHERE f.experiment_id = turns.experiment_id AND f.sample_id = turns.sample_id AND f.turn_index = turns.turn_index) || char(10) || ?, response_text_text_id = NULL WHERE experiment_id = ? AND sample_id = ? AND turn_index = ?`).run(HOSTILE, HOSTILE_CALL, allTools, k.sample_id, k.turn_index);
  db.prepare(`UPDATE tool_calls SET raw_text = ?, tool_result_json = ? WHERE experiment_id = ? AND sample_id = ? AND tool_call_order = (SELECT min(tool_call_order) FROM tool_calls WHERE experiment_id = ? AND sample_id = ?)`)
    .run(HOSTILE_CALL, JSON.stringify({ verdict: 'doubtful', note: HOSTILE }), allTools, k.sample_id, allTools, k.sample_id);
  db.prepare(`UPDATE predictions SET fine_class = ?, final_error = ?, chum_uri = 'javascript:alert(5)' WHERE sample_id = ?`).run(`"><script>window.__pwned=6</script>`, HOSTILE, k.sample_id);
  db.close();
}

before(async () => {
  // A copy of the shared run (helpers/shared-run.ts: `tce run --limit 24
  // --force`, all conditions): hostile text is planted into it below.
  const fixture = await sharedFixture();
  dir = tmpDir('tce-view-');
  await copySharedRun(dir);
  cfgFile = writeTestConfig(dir, fixture);
  const an = await tce(['analyze', '--config', cfgFile, '--bootstrap', '200', '--workers', '1'], { cwd: dir });
  assert.equal(an.status, 0, an.stderr);
  dbFile = path.join(dir, 'tool_calling_experiment', 'tool_calling.db');
  plantHostileText(dbFile);
});

let server: ViewServer | null = null;
let store: ViewStore | null = null;
let lists: ListCache | null = null;
after(async () => {
  await server?.close();
  await lists?.close();
  store?.close();
});

async function viewer(): Promise<ViewServer> {
  if (server) return server;
  store = ViewStore.open(dbFile);
  const config = loadConfig({ file: cfgFile }).config;
  lists = new ListCache(store);
  server = await startViewServer({ store, lists, images: datasetImages(config), note: null });
  lists.prewarm(); // as `tce view` does: page requests must still get through, ahead of the queue
  return server;
}

test('escaping: markup, quotes and control characters stay text; call highlighting escapes each piece', () => {
  assert.equal(textHtml('<a href="x">'), '&lt;a href=&quot;x&quot;&gt;');
  assert.match(textHtml('a\u0000b\u202ec'), /^a<span class="ctl">\\u0000<\/span>b<span class="ctl">\\u202e<\/span>c$/);
  const h = highlightCalls('before <b> <tool_call>{"x":"<i>"}</tool_call> after', ['<tool_call>{"x":"<i>"}</tool_call>', 'absent']);
  assert.equal(h, 'before &lt;b&gt; <mark class="tool-call">&lt;tool_call&gt;{&quot;x&quot;:&quot;&lt;i&gt;&quot;}&lt;/tool_call&gt;</mark> after');
});

test('condition lists: filters combine, sorting is stable, pages of 100, neighbours across page borders', () => {
  const rows: ListRow[] = Array.from({ length: 250 }, (_, i) => ({
    sample_id: i, gt: i % 5 === 0 ? null : 'nominal', fine: 'nominal_clean', long_gt: null, lat_gt: null, original: 'nominal', final: 'nominal',
    flip: i % 2 ? 'saved' : 'stayed_correct', tags: i % 3 ? ['tool_saved'] : ['ignored_tool_warning'], tools: i % 4 ? ['check_scene_prior'] : [],
    n_calls: i % 4 ? 1 : 0, status: 'ok', total_ms: 1000 - (i % 7), n_turns: 2,
  }));
  const f = parseFilter(new URLSearchParams('flip=saved&tool=check_scene_prior&sort=latency&dir=desc&page=2'));
  const got = applyFilter(rows, f);
  assert.ok(got.every((r) => r.flip === 'saved' && r.tools.includes('check_scene_prior')));
  assert.equal(got.length, rows.filter((r) => r.sample_id % 2 === 1 && r.sample_id % 4 !== 0).length);
  for (let i = 1; i < got.length; i++) {
    const a = got[i - 1]!, b = got[i]!;
    assert.ok(a.total_ms! > b.total_ms! || (a.total_ms === b.total_ms && a.sample_id < b.sample_id), 'latency desc, then sample id');
  }
  assert.equal(applyFilter(rows, parseFilter(new URLSearchParams('gt=(unlabelled)&tool=(none)'))).length, rows.filter((r) => r.gt === null && r.tools.length === 0).length);
  assert.equal(parseFilter(new URLSearchParams('sort=__proto__&page=-3')).sort, 'sample');
  const all = applyFilter(rows, parseFilter(new URLSearchParams('')));
  const p3 = pageOf(all, 3);
  assert.deepEqual([p3.page, p3.pages, p3.total, p3.rows.length, p3.rows[0]!.sample_id], [3, 3, 250, 250 - 2 * PAGE_SIZE, 200]);
  assert.equal(pageOf(all, 99).page, 3, 'past the end: the last page');
  assert.deepEqual(neighbours(all, 100), { prev: 99, next: 101, index: 100 });
  assert.deepEqual(neighbours(all, 0), { prev: null, next: 1, index: 0 });
  assert.deepEqual(neighbours(all, 999), { prev: null, next: null, index: -1 });
});

test('pages: 200 with content, CSP and no raw hostile markup; read-only, loopback only', async () => {
  const s = await viewer();
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const home = await get(s.url);
  assert.equal(home.status, 200);
  assert.match(home.text, /SYNTHETIC RESULTS/);
  assert.match(home.text, /all_tools_8b/);
  const csp = home.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.ok(!/unsafe-inline|https?:/.test(csp), csp);
  const cond = await get(`${s.url}condition/${encodeURIComponent(allTools)}?flip=stayed_wrong`);
  assert.equal(cond.status, 200);
  const sample = await get(`${s.url}sample/${hostileSample}?c=${encodeURIComponent(allTools)}`);
  assert.equal(sample.status, 200);
  for (const body of [cond.text, sample.text]) {
    assert.ok(!body.includes('<script>window'), 'raw <script> from data');
    assert.ok(!/<img src=x/.test(body), 'raw <img> from data');
    assert.ok(!/href="javascript:/i.test(body), 'javascript: link');
  }
  assert.match(sample.text, /&lt;script&gt;window.__pwned=1&lt;\/script&gt;/);
  assert.match(sample.text, /<mark class="tool-call">&lt;tool_call&gt;/);
  assert.equal((await get(`${s.url}sample/999999`)).status, 404);
  assert.equal((await get(`${s.url}condition/nope`)).status, 404);
  assert.equal((await get(`${s.url}sample/${hostileSample}`, { method: 'POST' })).status, 405);
  const head = await get(s.url, { method: 'HEAD' });
  assert.deepEqual([head.status, head.text], [200, '']);
  assert.equal(await rawStatus(s.port, `evil.example:${s.port}`), 421, 'a DNS-rebound Host is refused');
  const img = await fetch(`${s.url}image/${hostileSample}`);
  assert.equal(img.status, 200);
  assert.match(img.headers.get('content-type') ?? '', /^image\/(png|jpeg)$/);
  assert.throws(() => store!.db.prepare(`DELETE FROM predictions`).run(), /readonly|read-only|query_only/i);
  assert.equal(store!.schemaNote(), null, 'the migrated database has the _full views');
});

test('a database still being written: new commits show up on the next request', async () => {
  const s = await viewer();
  const before = (await get(`${s.url}condition/${encodeURIComponent(allTools)}`)).text;
  assert.match(before, new RegExp(`of ${N} \\(page 1`));
  const w = new Database(dbFile);
  w.pragma('journal_mode = WAL');
  w.prepare(`INSERT INTO predictions (experiment_id, sample_id, scene_type_gt, final_scene, original_scene, final_status) VALUES (?, 900001, 'nominal', 'nominal', 'nominal', 'ok')`).run(allTools);
  const afterInsert = (await get(`${s.url}condition/${encodeURIComponent(allTools)}`)).text;
  w.prepare('DELETE FROM predictions WHERE sample_id = 900001').run();
  w.close();
  assert.match(afterInsert, new RegExp(`of ${N + 1} \\(page 1`));
  assert.match(afterInsert, /900001/);
});

test('tce view on a database loaded from Arrow: prints its URL, serves, stops on Ctrl-C', async () => {
  // a database loaded afresh from the run's Arrow intermediates
  const loaded = path.join(dir, 'from-arrow.db');
  const ld = await tce(['load', '--config', cfgFile, '--db', loaded, path.join(dir, 'tool_calling_experiment', 'runs')], { cwd: dir });
  assert.equal(ld.status, 0, ld.stderr);
  const p = spawn(process.execPath, [TCE_BIN, 'view', '--config', cfgFile, '--db', loaded, '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  // Bounded: a viewer that never prints its URL fails the test (and is
  // stopped) instead of holding the file until the runner's own timeout.
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`no URL within 30 s; stdout: ${out}; stderr: ${err}`)); }, 30_000);
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); const m = /^(http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out); if (m) { clearTimeout(timer); resolve(m[1]!); } });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${err}`)); });
  });
  const home = await get(url);
  assert.equal(home.status, 200);
  assert.match(home.text, /all_tools_8b/);
  const cond = await get(`${url}condition/${encodeURIComponent(allTools)}`);
  assert.equal(cond.status, 200);
  assert.match(cond.text, new RegExp(`of ${N} \\(page 1`));
  const code = await new Promise<number | null>((resolve) => { p.once('exit', resolve); p.kill('SIGINT'); });
  assert.equal(code, 0, err);
});

test('in chromium: suite -> filtered condition -> sample; conversation and tool calls render, hostile text stays text', { skip: !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed` }, async () => {
  const s = await viewer();
  const puppeteer = await import('puppeteer-core');
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) blocked.push(m.text()); });
    await page.goto(s.url);
    assert.match(await page.$eval('#provenance', (el) => el.textContent ?? ''), /SYNTHETIC RESULTS/);
    assert.equal(await page.$$eval('#conditions tr', (rs) => rs.length), 1 + SHARED_RUN_EXPERIMENTS, 'a header and a row per experiment');
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/condition/${allTools}"]`)]);
    // the form's select submits on change (view.js, same-origin script)
    await Promise.all([page.waitForNavigation(), page.select('select[name=tool]', 'check_scene_prior')]);
    assert.match(page.url(), /tool=check_scene_prior/);
    const tools = await page.$$eval('#samples tr td.tools', (tds) => tds.map((td) => td.textContent ?? ''));
    assert.ok(tools.length > 0 && tools.every((x) => x.includes('check_scene_prior')), tools.join(' | '));
    const fine = await page.$$eval('select[name=fine] option', (os) => os.map((o) => o.textContent ?? ''));
    assert.ok(fine.includes('"><script>window.__pwned=6</script>'), fine.join(' | '));
    await Promise.all([page.waitForNavigation(), page.click(`#samples a[href^="/sample/${hostileSample}?"]`)]);
    assert.equal(await page.$$eval('section.col', (cs) => cs.length), SHARED_RUN_EXPERIMENTS, 'a column per experiment');
    const col = `section.col[data-experiment="${allTools}"]`;
    assert.ok(await page.$$eval(`${col} .turn`, (ts) => ts.length) >= 2, 'at least two turns');
    const marks = await page.$$eval(`${col} mark.tool-call`, (ms) => ms.map((m) => m.textContent ?? ''));
    assert.ok(marks.includes(HOSTILE_CALL), marks.join(' | '));
    assert.ok(await page.$$eval(`${col} .call code`, (cs) => cs.length) > 0, 'tool calls listed');
    const response = await page.$eval(`${col} pre.response`, (el) => el.textContent ?? '');
    assert.ok(response.includes('<script>window.__pwned=1</script>"><img src=x onerror='), response.slice(0, 200));
    assert.match(await page.$eval(`${col}`, (el) => el.textContent ?? ''), /TTFT \d+ ms · decode \d+ ms/);
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.$$eval('img[src="x"]', (is) => is.length), 0);
    const scripts = await page.$$eval('script', (ss) => ss.map((x) => x.getAttribute('src') ?? 'inline'));
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]!, /^\/static\/view\.js\?v=/);
    assert.ok(await page.$eval('.sample-head img', (im) => (im as unknown as { naturalWidth: number }).naturalWidth > 0), 'sample image loaded');
    assert.deepEqual(blocked, [], 'nothing needed a CSP exception');
  } finally {
    await browser.close();
  }
});
