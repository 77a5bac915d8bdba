// `/`: one row per condition, with links into each condition's samples
// (all of them, only the saves, only the breaks, only the failures).
import { fx, pct, ms, pval, provenanceLine, signed } from '../../report/format';
import { banner, conditionHref, link, page, t } from '../html';
import type { Suite, SuiteRow } from '../suite-data';
import { BASELINE } from '../../protocol/conditions';

const ci = (lo: number | null | undefined, hi: number | null | undefined): string => (lo != null && hi != null ? ` <small>(${fx(lo, 3)}–${fx(hi, 3)})</small>` : '');

function countLink(id: string, n: number | null | undefined, q: Record<string, string>): string {
  if (n == null) return '–';
  return n > 0 ? link(conditionHref(id, q), String(n)) : '0';
}

function row(r: SuiteRow, baselineF1: number | null): string {
  const id = r.e.experiment_id;
  const a = r.analysis;
  const df1 = r.e.condition_name === BASELINE || baselineF1 === null ? '–' : t(signed(r.macroF1 - baselineF1) + (a?.within_noise ? ' (within noise)' : ''));
  const fails = r.failures.length === 0 ? '0' : r.failures.map((f) => `${link(conditionHref(id, { status: f.status }), String(f.n))} <small>${t(f.status)}</small>`).join('<br>');
  return `<tr><td>${link(conditionHref(id), t(r.e.label))}<br><small>${t(id)}</small></td><td>${t(r.e.pipeline)}</td><td>${r.n}</td>`
    + `<td>${fx(r.accuracy)}${ci(a?.scene_accuracy_ci_low, a?.scene_accuracy_ci_high)}</td><td>${fx(r.macroF1)}${ci(a?.scene_macro_f1_ci_low, a?.scene_macro_f1_ci_high)}</td><td>${df1}</td>`
    + `<td>${countLink(id, a?.n_saves, { flip: 'saved' })}</td><td>${countLink(id, a?.n_breaks, { flip: 'broke' })}</td><td>${a?.net_improvement ?? '–'}</td>`
    + `<td>${r.e.condition_name === BASELINE || !a?.mcnemar_p ? '–' : pval(a.mcnemar_p)}</td>`
    + `<td>${r.nSceneRevised} <small>${pct(r.n ? r.nSceneRevised / r.n : NaN)}</small></td><td>${a ? pct(a.revision_accuracy) : '–'}</td>`
    + `<td class="l">${fails}</td><td>${a ? ms(a.p50_total_time_ms) : '–'}</td></tr>`;
}

export function suitePage(s: Suite, note: string | null): string {
  const base = s.rows.find((r) => r.e.condition_name === BASELINE);
  const head = '<tr><th>condition</th><th>pipeline</th><th>n</th><th>accuracy (95% CI)</th><th>macro-F1 (95% CI)</th><th>ΔF1 vs baseline</th>'
    + '<th>saves</th><th>breaks</th><th>net</th><th>McNemar p</th><th>scene revised</th><th>revision acc.</th><th>failures</th><th>p50 sample</th></tr>';
  const missing = s.rows.filter((r) => !r.analysis);
  const analysisNote = missing.length
    ? `<p class="muted">No current analysis for ${missing.map((r) => t(r.e.label)).join(', ')}${missing.some((r) => r.analysisStale) ? ' (the stored one counts a different number of samples: a run is still writing or was resumed)' : ''}: accuracy and macro-F1 are computed live; intervals, flips and tests appear after <code>tce analyze</code>.</p>`
    : '';
  const decision = s.decision?.outcome ? `<p><b>Outcome ${s.decision.outcome}: ${t(s.decision.title)}.</b> ${t(s.decision.recommendation)}</p>` : '';
  const body = `${banner(s.synthetic, provenanceLine(s))}<h1>Tool-calling verification suite</h1>${note ? `<p class="muted">${t(note)}</p>` : ''}${decision}
<table id="conditions">${head}${s.rows.map((r) => row(r, base ? base.macroF1 : null)).join('')}</table>${analysisNote}
<p class="muted">Saves and breaks are flips against the greedy baseline; click a count to list those samples.</p>`;
  return page('tce view: suite', s.rows.length ? body : `${body}<p>No experiments with predictions in this database yet.</p>`);
}
