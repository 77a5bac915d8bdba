// `/sample/<id>`: the image, the ground truth and the greedy prediction,
// then one column per condition with its conversation turn by turn. The
// extracted tool calls are highlighted inside the model text by locating
// each call's raw text; every piece of text is escaped on its own.
import { ms } from '../../report/format';
import { a, conditionHref, link, num, page, sampleHref, t, type Query } from '../html';
import type { ConditionSample, SampleView, TurnView } from '../sample-data';
import type { ToolCallTrace } from '../../report/sample-diagnosis';

export interface SampleNav { experimentId: string; label: string; query: Query; prev: number | null; next: number | null; index: number; total: number }

/** `text` with every call's raw text wrapped in <mark>, in order of appearance. */
export function highlightCalls(text: string, raws: Array<string | null>): string {
  const spans: Array<[number, number]> = [];
  for (const raw of raws) {
    if (!raw) continue;
    const at = text.indexOf(raw);
    if (at >= 0 && !spans.some(([s, e]) => at < e && at + raw.length > s)) spans.push([at, at + raw.length]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let out = '';
  let pos = 0;
  for (const [s, e] of spans) {
    out += `${t(text.slice(pos, s))}<mark class="tool-call">${t(text.slice(s, e))}</mark>`;
    pos = e;
  }
  return out + t(text.slice(pos));
}

const json = (v: unknown): string => t(typeof v === 'string' ? v : JSON.stringify(v));

function callHtml(k: ToolCallTrace, c: ConditionSample): string {
  const x = c.calls.get(k.order);
  const bits = [`status ${t(k.call_status ?? '–')}`, k.valid ? '<span class="ok">valid</span>' : '<span class="bad">invalid</span>'];
  if (x?.source) bits.push(`via ${t(x.source)}`);
  if (x?.tool_time_us != null) bits.push(`${num(x.tool_time_us)} µs`);
  if (k.model_revised_after != null) bits.push(`revised after: ${k.model_revised_after ? 'yes' : 'no'}`);
  return `<div class="call${k.valid ? '' : ' invalid'}"><code>${t(k.name)}</code>(${json(k.arguments)}) <small>${bits.join(' · ')}</small>`
    + `${x?.repairs && x.repairs !== '[]' ? `<div class="kv">repairs: ${t(x.repairs)}</div>` : ''}${k.error ? `<div class="kv bad">error: ${t(k.error)}</div>` : ''}`
    + `<div class="kv">→ ${k.verdict ? `<b>${t(k.verdict)}</b> ` : ''}${json(k.result)}</div></div>`;
}

function turnHtml(turn: TurnView, c: ConditionSample): string {
  const calls = c.d.tool_calls.filter((k) => k.turn_index === turn.turn_index);
  const timing = `TTFT ${ms(turn.ttft_ms)} · decode ${ms(turn.decode_ms)} · turn ${ms(turn.e2e_ms)} · queue ${ms(turn.queue_wait_ms)} · tokens ${num(turn.prompt_tokens)}→${num(turn.completion_tokens)}`;
  const msgs = turn.messages.map((m) => `<div class="msg-role">${t(m.role)}${m.images ? ` + ${m.images} image${m.images > 1 ? 's' : ''}` : ''}</div><pre>${t(m.text)}</pre>`).join('');
  const prompt = turn.requestProblem ? `<p class="bad">${t(turn.requestProblem)}</p>` : msgs ? `<details${turn.turn_index > 0 ? ' open' : ''}><summary>${turn.turn_index === 0 ? 'prompt' : 'sent this turn'} (${turn.messages.length} message${turn.messages.length === 1 ? '' : 's'})</summary>${msgs}</details>` : '';
  const raws = calls.map((k) => c.calls.get(k.order)?.raw_text ?? null);
  // A call can sit in the reasoning (call_status in_reasoning): marked there too.
  const reasoning = turn.reasoning_text ? `<details><summary>reasoning (${turn.reasoning_text.length} chars)</summary><pre>${highlightCalls(turn.reasoning_text, raws)}</pre></details>` : '';
  return `<div class="turn" data-turn="${turn.turn_index}"><div class="turn-head"><b>turn ${turn.turn_index}</b> ${t(turn.stage)} · <span class="${turn.status === 'ok' ? 'ok' : 'bad'}">${t(turn.status)}</span>${turn.finish_reason ? ` · finish ${t(turn.finish_reason)}` : ''}${turn.retries ? ` · ${turn.retries} retries` : ''}<br><small>${timing}</small></div>`
    + `${turn.error ? `<div class="kv bad">error: ${t(turn.error)}</div>` : ''}${prompt}${reasoning}<div class="msg-role">model</div><pre class="response">${highlightCalls(turn.response_text ?? '', raws)}</pre>${calls.map((k) => callHtml(k, c)).join('')}</div>`;
}

function columnHtml(c: ConditionSample, current: boolean): string {
  const d = c.d;
  const orphan = d.tool_calls.filter((k) => !c.turns.some((x) => x.turn_index === k.turn_index));
  const answer = `${t(d.final.scene ?? 'unparseable')} · ${t(d.final.long_action ?? 'null')} · ${t(d.final.lat_action ?? 'null')}`;
  return `<section class="col${current ? ' current' : ''}" data-experiment="${a(c.e.experiment_id)}"><h3>${link(conditionHref(c.e.experiment_id), t(c.e.label))}</h3>`
    + `<div class="kv final">final: ${answer} <span class="flip-${a(d.flip)}">${t(d.flip)}</span></div>`
    + `<div class="kv">original: ${t(d.original.scene ?? 'unparseable')} · status ${t(d.original.status ?? '–')} → final status <span class="${d.final.status === 'ok' ? 'ok' : 'bad'}">${t(d.final.status ?? '–')}</span>${d.final.error ? ` <span class="bad">${t(d.final.error)}</span>` : ''}</div>`
    + `<div class="kv">${d.tags.map((x) => `<span class="tag">${t(x)}</span>`).join('')}</div>`
    + `<div class="kv">${d.time.n_turns ?? '–'} turns · ${ms(d.time.total_ms)} total${d.revision.reason ? ` · revision: ${t(d.revision.reason)}` : ''}</div>`
    + `${c.turns.map((x) => turnHtml(x, c)).join('')}${orphan.length ? `<div class="turn"><div class="turn-head">calls without a recorded turn</div>${orphan.map((k) => callHtml(k, c)).join('')}</div>` : ''}`
    + `${c.turns.length === 0 && d.final.text ? `<div class="msg-role">final text</div><pre>${t(d.final.text)}</pre>` : ''}</section>`;
}

function navHtml(nav: SampleNav | null): string {
  if (!nav) return '';
  const to = (id: number | null, label: string, rel: string): string => (id === null ? `<span class="muted">${label}</span>` : `<a rel="${rel}" href="${a(sampleHref(id, nav.query))}">${label}</a>`);
  const where = nav.index >= 0 ? `${nav.index + 1} of ${nav.total} in the filter of ${t(nav.label)}` : `not in the filter of ${t(nav.label)}`;
  const { c: _c, ...listQuery } = nav.query;
  return `<div class="prevnext">${to(nav.prev, '← previous', 'prev')}${to(nav.next, 'next →', 'next')}<span class="muted">${where}</span> ${link(conditionHref(nav.experimentId, listQuery), 'back to the list')}</div>`;
}

export function samplePage(v: SampleView, nav: SampleNav | null, synthetic: string, imageUrl: string | null): string {
  const gt = v.perCondition[0]!.d.ground_truth;
  const g = v.greedy;
  const img = imageUrl ? `<img src="${a(imageUrl)}" alt="sample ${v.sampleId}">` : '<p class="muted">image not available (no dataset configured for this database)</p>';
  const head = `<div class="sample-head">${img}<table><tr><th>ground truth</th><td class="l">${t(gt.scene ?? 'unlabelled')} · ${t(gt.long_action ?? 'null')} · ${t(gt.lat_action ?? 'null')}</td></tr>`
    + `<tr><th>fine class</th><td class="l">${t(gt.fine_class ?? '–')}</td></tr><tr><th>greedy prediction</th><td class="l">${g ? `${t(g.scene ?? 'unparseable')} · ${t(g.long_action ?? 'null')} · ${t(g.lat_action ?? 'null')}` : '–'}</td></tr>`
    + `<tr><th>location</th><td class="l">${t(v.meta?.location ?? '–')}</td></tr><tr><th>ODD</th><td class="l">${t(v.meta?.odd_label ?? '–')}</td></tr><tr><th>chum_uri</th><td class="l">${t(v.meta?.chum_uri ?? '–')}</td></tr></table></div>`;
  const greedyText = g?.text ? `<details><summary>greedy generated text</summary><pre>${t(g.text)}</pre></details>` : '';
  const body = `${synthetic}<h1>Sample ${v.sampleId}</h1>${navHtml(nav)}${head}${greedyText}<h2>Across ${v.perCondition.length} conditions</h2>
<div class="cols">${v.perCondition.map((c) => columnHtml(c, c.e.experiment_id === nav?.experimentId)).join('')}</div>`;
  const crumbs: Array<[string, string | null]> = nav ? [[nav.label, conditionHref(nav.experimentId)], [`sample ${v.sampleId}`, null]] : [[`sample ${v.sampleId}`, null]];
  return page(`tce view: sample ${v.sampleId}`, body, crumbs);
}
