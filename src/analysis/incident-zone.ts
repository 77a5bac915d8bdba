// The experiment's headline question: does tool calling fix the model's
// over-prediction of incident_zone (plan: 46.8% predicted vs 3.7% true,
// 12.5x)? Read from each condition's confusion matrix.
import { SCENES } from '../domain/enums';
import type { ConditionResult } from './types';
import { ORACLE } from '../protocol/conditions';

const IZ = SCENES.indexOf('incident_zone');
const NOMINAL = SCENES.indexOf('nominal');

export interface IncidentZoneBias {
  label: string;
  /** Samples whose final scene is incident_zone. */
  predicted: number;
  /** Samples whose ground truth is incident_zone. */
  truth: number;
  /** predicted / truth: 1 means no over-prediction (the plan's 12.5x). */
  ratio: number;
  /** Share of all samples predicted incident_zone (plan: 46.8%). */
  predictedShare: number;
  precision: number;
  recall: number;
  /** Nominal scenes called incident_zone (plan: 3,404). */
  nominalAsIncident: number;
}

export function incidentZoneBias(c: ConditionResult): IncidentZoneBias {
  const m = c.confusion;
  const predicted = m.reduce((a, row) => a + (row[IZ] ?? 0), 0);
  const truth = (m[IZ] ?? []).reduce((a, v) => a + v, 0);
  const tp = m[IZ]?.[IZ] ?? 0;
  return {
    label: c.label,
    predicted,
    truth,
    ratio: truth === 0 ? NaN : predicted / truth,
    predictedShare: c.n === 0 ? NaN : predicted / c.n,
    precision: predicted === 0 ? NaN : tp / predicted,
    recall: truth === 0 ? NaN : tp / truth,
    nominalAsIncident: m[NOMINAL]?.[IZ] ?? 0,
  };
}

/** One line for terminals and report headers: baseline ratio -> best condition. */
export function incidentZoneHeadline(conditions: ConditionResult[], baselineId: string | null): string | null {
  const rows = conditions.map((c) => ({ c, b: incidentZoneBias(c) })).filter((x) => Number.isFinite(x.b.ratio));
  const base = rows.find((x) => x.c.experimentId === baselineId);
  if (!base) return null;
  const others = rows.filter((x) => x !== base && x.c.conditionName !== ORACLE);
  const best = others.reduce<(typeof rows)[number] | null>((a, x) => (a === null || Math.abs(Math.log(x.b.ratio)) < Math.abs(Math.log(a.b.ratio)) ? x : a), null);
  const f = (b: IncidentZoneBias) => `${b.ratio.toFixed(1)}x (${(100 * b.predictedShare).toFixed(1)}% predicted, ${b.nominalAsIncident} nominal scenes called incident_zone)`;
  return `incident_zone over-prediction: baseline ${f(base.b)}${best ? `; closest to 1x without an oracle: ${best.c.label} ${f(best.b)}` : ''}`;
}
