// report.html: one self-contained page (no scripts, no network), inline SVG
// charts; all model text goes through escapeHtml.
import type { AnalysisResult } from '../analysis/types';
import { SCENES } from '../domain/enums';
import { CONFUSION_COLS, CONFUSION_ROWS } from '../analysis/metrics';
import { escapeHtml as e } from './escape';
import { fx, ms, pct, provenanceLine, pval, signed } from './format';
import { CHART_CSS, groupedBars, heatmap, percentilePlot, type BarGroup } from './svg-charts';
import type { Examples } from './insights-md';
import type { SampleDiagnosis } from './sample-diagnosis';
import { incidentZoneBias, incidentZoneHeadline } from '../analysis/incident-zone';
import { claimSentence } from '../analysis/decision';
import { FAMILY_QUESTIONS, type Family } from '../analysis/claims';
import { formatCi } from '../analysis/numbers';
import * as ex from './explain';

/** A section's plain-words opening and its real example. */
const intro = (what: string, example: string): string => `<p class="explain">${e(what)}</p><p class="example">${e(example)}</p>`;

function conditionRows(r: AnalysisResult): string {
  const b = r.conditions.find((x) => x.experimentId === r.baselineId);
  const diff = (v: number, bv: number | undefined, quiet: boolean | undefined): string => (bv === undefined ? '-' : e(signed(v - bv) + (quiet ? ' ~' : '')));
  const rows = r.conditions.map((c) => `<tr><td>${e(c.label)}</td><td>${c.n}</td><td>${fx(c.accuracy)}</td><td>${c === b ? '-' : diff(c.accuracy, b?.accuracy, c.stats?.withinNoiseAccuracy)}</td><td>${fx(c.macroF1)}${c.stats ? ` <small>(${fx(c.stats.macroF1.lo, 3)}-${fx(c.stats.macroF1.hi, 3)})</small>` : ''}</td>`
    + `<td>${c === b ? '-' : diff(c.macroF1, b?.macroF1, c.stats?.withinNoiseMacroF1)}</td>`
    + `<td>${pct(c.revisionRate)}</td><td>${pct(c.revisionAccuracy)}</td><td>${c.saves}</td><td>${c.breaks}</td><td>${c.net}</td><td>${c === b ? '-' : pval(c.mcnemarP)}</td><td>${ms(c.latency.sampleMs.p50)}</td></tr>`).join('');
  const rules = r.rules.map((x) => `<tr class="rule"><td>${e(x.rule)} <small>(rule, no model)</small></td><td>${x.n}</td><td>${fx(x.accuracy)}</td><td>${diff(x.accuracy, b?.accuracy, false)}</td><td>${fx(x.macroF1)}${Number.isFinite(x.macroF1Ci.lo) ? ` <small>(${fx(x.macroF1Ci.lo, 3)}-${fx(x.macroF1Ci.hi, 3)})</small>` : ''}</td>`
    + `<td>${diff(x.macroF1, b?.macroF1, false)}</td><td>${pct(x.changed / x.n)}</td><td>-</td><td>${x.saves}</td><td>${x.breaks}</td><td>${x.net}</td><td>-</td><td>-</td></tr>`).join('');
  return `<table><tr><th>condition</th><th>n</th><th>accuracy</th><th>&Delta;accuracy vs baseline</th><th>macro-F1 (95% CI)</th><th>&Delta;F1 vs baseline</th><th>revised</th><th>revision acc.</th><th>saves</th><th>breaks</th><th>net</th><th>McNemar p (accuracy)</th><th>p50 sample</th></tr>${rows}${rules}</table>`
    + `<p><small>"~": that metric's difference from the baseline is within noise (its 95% interval contains 0).${r.rulesMissing ? ` No rule comparators: ${e(r.rulesMissing)}.` : ''}</small></p>`;
}

function decisionHtml(r: AnalysisResult): string {
  const d = r.decision;
  const fam = (Object.keys(FAMILY_QUESTIONS) as Family[]).map((f) => {
    const cs = d.claims.filter((c) => c.family === f);
    return cs.length ? `<p><b>${e(FAMILY_QUESTIONS[f])}</b></p><ul>${cs.map((c) => `<li>${e(claimSentence(c))}</li>`).join('')}</ul>` : '';
  }).join('');
  return `<div class="decision"><p><b>${e(ex.decisionLine(r))}</b></p><ul>${d.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul>${fam}`
    + `<p><b>Verifier size matters:</b> ${d.sizeMatters ? 'yes' : 'no'}.</p><p><b>Recommendation${d.simulated ? ' (simulated: checks the pipeline, not the model)' : ''}:</b> ${e(d.recommendation)}</p></div>`;
}

function informativenessTable(r: AnalysisResult): string {
  const rows = r.conditions.flatMap((c) => c.tools.filter((t) => t.calls > 0).map((t) => {
    const i = t.informativeness;
    return `<tr><td>${e(c.label)}</td><td>${e(t.tool)}</td><td>${pct(i.pWrongWarned)} <small>(${i.warnedWrong}/${i.warned})</small></td><td>${pct(i.pWrongNotWarned)} <small>(${i.notWarnedWrong}/${i.notWarned})</small></td><td>${e(formatCi(i.diffCi, 3))}</td><td>${i.informative === null ? 'n/a' : i.informative ? 'informative' : 'uninformative'}</td></tr>`;
  })).join('');
  return rows ? `<table><tr><th>condition</th><th>tool</th><th>P(original wrong | warned)</th><th>P(original wrong | not warned)</th><th>difference 95% CI</th><th>verdict</th></tr>${rows}</table>` : '';
}

function sceneFlipsTable(r: AnalysisResult): string {
  const scenes = [...SCENES, 'unlabelled'];
  const row = (label: string, flips: Array<{ scene: string; saves: number; breaks: number }>): string => `<tr><td>${e(label)}</td>${scenes.map((s) => { const x = flips.find((y) => y.scene === s); return `<td>${x ? `${x.saves}+/${x.breaks}-` : '-'}</td>`; }).join('')}</tr>`;
  return `<table><tr><th>saves+/breaks- by true scene</th>${scenes.map((s) => `<th>${e(s)}</th>`).join('')}</tr>${r.conditions.filter((c) => c.experimentId !== r.baselineId).map((c) => row(c.label, c.perScene)).join('')}${r.rules.map((x) => row(x.rule, x.perScene)).join('')}</table>`;
}

const series = (size: string | null): string => (size ? size.toUpperCase() : 'no verifier');

function byConditionGroups(r: AnalysisResult, get: (c: AnalysisResult['conditions'][number]) => { value: number; lo?: number; hi?: number }): BarGroup[] {
  const names = [...new Set(r.conditions.map((c) => c.conditionName))];
  return names.map((n) => ({ label: n, values: r.conditions.filter((c) => c.conditionName === n).map((c) => ({ series: series(c.verifierSize), ...get(c) })) }));
}

function exampleHtml(d: SampleDiagnosis): string {
  const calls = d.tool_calls.map((t) => `<li><code>${e(t.name)}</code> ${e(JSON.stringify(t.arguments))} &rarr; <b>${e(t.verdict ?? 'no verdict')}</b>${t.alternative_scene ? `, suggests ${e(t.alternative_scene)}` : ''}</li>`).join('');
  return `<div class="ex"><p><b>Sample ${e(d.sample_id)}</b> (${e(d.label)}): GT <b>${e(d.ground_truth.scene ?? 'unlabelled')}</b>, predicted <b>${e(d.original.scene ?? 'unparseable')}</b> &rarr; final <b>${e(d.final.scene ?? 'unparseable')}</b> <span class="tags">${d.tags.map((t) => `<span class="tag">${e(t)}</span>`).join(' ')}</span></p>`
    + `<ul>${calls || '<li>no tool calls</li>'}</ul><pre>${e((d.final.text ?? '').slice(0, 1200))}</pre></div>`;
}

function classTables(r: AnalysisResult): string {
  const fines = [...new Set(r.conditions.flatMap((c) => c.fineClass.map((f) => f.fineClass)))];
  const f1 = `<table><tr><th>F1</th>${SCENES.map((s) => `<th>${e(s)}</th>`).join('')}</tr>${r.conditions.map((c) => `<tr><td>${e(c.label)}</td>${c.perClass.map((p) => `<td>${fx(p.f1, 3)}</td>`).join('')}</tr>`).join('')}</table>`;
  const fine = `<table><tr><th>accuracy (saves/breaks)</th>${fines.map((f) => `<th>${e(f)}</th>`).join('')}</tr>${r.conditions.map((c) => `<tr><td>${e(c.label)}</td>${fines.map((f) => {
    const x = c.fineClass.find((y) => y.fineClass === f);
    return `<td>${x ? `${pct(x.accuracy)} <small>(${x.saves}/${x.breaks})</small>` : '-'}</td>`;
  }).join('')}</tr>`).join('')}</table>`;
  return `${f1}<p></p>${fine}`;
}

export function htmlReport(r: AnalysisResult, ex_: Examples): string {
  const d = r.decision;
  const acc = groupedBars('Scene accuracy with 95% CI', byConditionGroups(r, (c) => ({ value: c.accuracy, ...(c.stats ? { lo: c.stats.accuracy.lo, hi: c.stats.accuracy.hi } : {}) })), { max: 1 });
  const f1 = groupedBars('Macro-F1 with 95% CI (dashed: gate)', byConditionGroups(r, (c) => ({ value: c.macroF1, ...(c.stats ? { lo: c.stats.macroF1.lo, hi: c.stats.macroF1.hi } : {}) })), { max: 1, refLine: { value: d.gateThreshold, label: `gate ${d.gateThreshold}` } });
  const others = r.conditions.filter((c) => c.experimentId !== r.baselineId);
  const flips = groupedBars('Saves and breaks vs the greedy baseline', others.map((c) => ({ label: c.label, values: [{ series: 'saves', value: c.saves }, { series: 'breaks', value: c.breaks }] })), { format: (x) => x.toFixed(0) });
  const toolNames = [...new Set(others.flatMap((c) => c.tools.filter((t) => t.calls > 0).map((t) => t.tool)))];
  const prev = groupedBars('P(scene revised | tool called)', others.filter((c) => c.tools.some((t) => t.calls > 0)).map((c) => ({ label: c.label, values: toolNames.map((tn) => ({ series: tn || '(no tool name)', value: c.tools.find((t) => t.tool === tn && t.calls > 0)?.pReviseGivenTool ?? NaN })) })), { max: 1 });
  const matrices = r.conditions.map((c) => heatmap(`Confusion: ${c.label}`, CONFUSION_ROWS, CONFUSION_COLS, c.confusion)).join('');
  const lat = percentilePlot('Per-sample time (box p25-p95, tick p50, dot mean, line p10-p99)', r.conditions.map((c) => ({ label: c.label, ...c.latency.sampleMs })));
  const ttft = percentilePlot('Per-turn time to first token', r.conditions.map((c) => ({ label: c.label, ...c.latency.ttftMs })));
  const izRatio = groupedBars('incident_zone predicted per true incident_zone (1 = no over-prediction)', byConditionGroups(r, (c) => ({ value: incidentZoneBias(c).ratio })), { format: (x) => `${x.toFixed(1)}x`, refLine: { value: 1, label: 'no over-prediction' } });
  const izLine = incidentZoneHeadline(r.conditions, r.baselineId);
  const exs = (title: string, list: SampleDiagnosis[]): string => `<h3>${e(title)}</h3>${list.length ? list.map(exampleHtml).join('') : '<p>None in these runs.</p>'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Tool-calling verification report</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:20px auto;padding:0 12px;color:#222}
.banner{padding:10px;border-radius:6px;background:${r.synthetic ? '#fff3cd' : '#e7f1ff'};font-weight:600}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
.decision{border-left:4px solid #4e79a7;padding:6px 12px;background:#f6f8fa}.ex{border:1px solid #ddd;border-radius:6px;padding:6px 10px;margin:8px 0}
pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;font-size:12px;max-height:200px;overflow:auto}.tag{background:#eee;border-radius:4px;padding:0 4px;font-size:11px}
.grid{display:flex;flex-wrap:wrap;gap:8px}.explain{margin:4px 0}.example{margin:4px 0 10px;color:#444;font-style:italic}tr.rule td{background:#f4f4f4}
${CHART_CSS}</style></head><body>
<p class="banner" id="provenance">${e(provenanceLine(r))}<br><b>${e(ex.failureLine(r))}</b><br><small>${e(ex.toolStatsLine(r))}</small></p>
<h1>Tool-calling verification report</h1>
${decisionHtml(r)}
<h2>Conditions, controls and rule comparators</h2>${intro('Each row is one way of producing the final scene: the greedy baseline, a verifier condition, a staged run\'s first answer (before any tool response), or a rule applying the tools\' verdicts with no model. Differences are on the samples both sides have.', ex.headlineExample(r))}${conditionRows(r)}<p>${e(ex.sampleSetLine(r))}</p><p>${e(ex.ruleExample(r))}</p>
<h2>The incident_zone question</h2>${intro(ex.incidentZoneSentence(r) + ' The ratio is samples called incident_zone per true incident_zone sample: 1 means no over-prediction.', izLine ? `${izLine}.` : 'No baseline to compare with.')}${izRatio}
<h2>Accuracy and F1</h2>${intro('Accuracy is the share of samples right; macro-F1 averages how well each of the five scenes is found, so rare scenes count as much as common ones. Bars show 95% bootstrap intervals.', ex.oracleSentence(r))}${acc}${f1}
<h2>Flips</h2>${intro('A save is a sample the greedy baseline got wrong and the condition got right; a break is the opposite.', ex.flipsExample(r))}${flips}${sceneFlipsTable(r)}
<h2>Per-tool effectiveness and informativeness</h2>${intro('P(revise | tool) is how often the scene changed when the tool was called. A tool is informative when originals it warned about are wrong more often than those it did not warn about.', ex.toolExample(r))}${toolNames.length ? prev : '<p>No tool calls recorded.</p>'}${informativenessTable(r)}
<h2>Per class</h2>${intro('F1 per scene, then accuracy per fine class with saves and breaks.', ex.sizeExample(r))}${classTables(r)}
<h2>Confusion matrices</h2>${intro('Rows are true scenes, columns final answers; the diagonal is right.', ex.headlineExample(r))}<div class="grid">${matrices}</div>
<h2>Latency</h2>${intro('Time per sample and per model turn.', ex.latencyExample(r))}${lat}${ttft}
<h2>Examples</h2>${intro('Real samples from this run.', ex.sampleExample(ex_.tool_saved[0] ?? ex_.tool_broke[0]))}${exs('Tools saved', ex_.tool_saved)}${exs('Tools broke', ex_.tool_broke)}${exs('Model ignored a tool warning', ex_.ignored_tool_warning)}
</body></html>
`;
}
