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

export function htmlReport(r: AnalysisResult, ex: Examples): string {
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
  const rows = r.conditions.map((c) => `<tr><td>${e(c.label)}</td><td>${c.n}</td><td>${fx(c.accuracy)}</td><td>${fx(c.macroF1)}${c.stats ? ` <small>(${fx(c.stats.macroF1.lo, 3)}-${fx(c.stats.macroF1.hi, 3)})</small>` : ''}</td>`
    + `<td>${c.experimentId === r.baselineId ? '-' : e(signed(c.macroF1 - (r.conditions.find((x) => x.experimentId === r.baselineId)?.macroF1 ?? NaN)) + (c.stats?.withinNoise ? ' (within noise)' : ''))}</td>`
    + `<td>${pct(c.revisionRate)}</td><td>${pct(c.revisionAccuracy)}</td><td>${c.saves}</td><td>${c.breaks}</td><td>${c.net}</td><td>${c.experimentId === r.baselineId ? '-' : pval(c.mcnemarP)}</td><td>${ms(c.latency.sampleMs.p50)}</td></tr>`).join('');
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
.grid{display:flex;flex-wrap:wrap;gap:8px}
${CHART_CSS}</style></head><body>
<p class="banner" id="provenance">${e(provenanceLine(r))}</p>
<h1>Tool-calling verification report</h1>
<div class="decision"><p><b>Outcome ${d.outcome}: ${e(d.outcomeTitle)}.</b></p><ul>${d.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul>
<p><b>Verifier size matters:</b> ${d.sizeMatters ? 'yes' : 'no'}.</p><ul>${d.sizeReasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul><p><b>Recommendation:</b> ${e(d.recommendation)}</p></div>
<h2>Conditions</h2><table><tr><th>condition</th><th>n</th><th>accuracy</th><th>macro-F1 (95% CI)</th><th>&Delta;F1 vs baseline</th><th>revised</th><th>revision acc.</th><th>saves</th><th>breaks</th><th>net</th><th>McNemar p</th><th>p50 sample</th></tr>${rows}</table>
<h2>The incident_zone question</h2>${izLine ? `<p>${e(izLine)}.</p>` : ''}${izRatio}
<h2>Accuracy and F1</h2>${acc}${f1}
<h2>Flips</h2>${flips}
<h2>Per-tool effectiveness</h2>${toolNames.length ? prev : '<p>No tool calls recorded.</p>'}
<h2>Per class</h2>${classTables(r)}
<h2>Confusion matrices</h2><div class="grid">${matrices}</div>
<h2>Latency</h2>${lat}${ttft}
<h2>Examples</h2>${exs('Tools saved', ex.tool_saved)}${exs('Tools broke', ex.tool_broke)}${exs('Model ignored a tool warning', ex.ignored_tool_warning)}
</body></html>
`;
}
