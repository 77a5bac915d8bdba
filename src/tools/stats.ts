// Tool statistics computed from data: the greedy baseline's predictions
// against ground truth (confusion in both directions), GT class and
// scene-action frequencies, and first-waypoint distributions. Pure over
// (samples, greedy); the file round-trips byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { LAT_ACTIONS, LONG_ACTIONS, SCENES, type Scene } from '../domain/enums';
import type { GreedyPrediction, Sample } from '../domain/sample';
import { z } from 'zod';
import { formatPath, parseJsonFile } from '../util/json-file';
import { TceError } from '../util/errors';
import { assignFolds } from './folds';
import { summarize } from './summary';
import {
  PRED_COLUMNS, STATS_FORMAT, ToolStatsSchema,
  type ActionCount, type ClassStats, type PredColumn, type Ratio, type StatsTable, type ToolStats, type WaypointStats,
} from './stats-schema';

export type { StatsTable, ToolStats } from './stats-schema';

export interface ComputeOptions {
  /** 0 or undefined = in-sample only (the plan); K >= 2 adds K-fold tables. */
  crossFit?: number;
  seed?: number;
  source?: { file: string; sha256: string };
}

const zeroScenes = (): Record<Scene, number> => Object.fromEntries(SCENES.map((s) => [s, 0])) as Record<Scene, number>;
const zeroPreds = (): Record<PredColumn, number> => Object.fromEntries(PRED_COLUMNS.map((s) => [s, 0])) as Record<PredColumn, number>;

function classStats(c: Scene, t: Omit<StatsTable, 'classes'>): ClassStats {
  const column = SCENES.reduce((sum, g) => sum + t.confusion[g][c], 0);
  const rowTotal = (g: Scene): number => PRED_COLUMNS.reduce((sum, p) => sum + t.confusion[g][p], 0);
  let trueWhenWrong: ClassStats['mostLikelyTrueWhenWrong'] = null;
  let mistakenFor: ClassStats['mostOftenMistakenFor'] = null;
  for (const g of SCENES) {
    if (g === c) continue;
    const n = t.confusion[g][c];
    if (n > 0 && (trueWhenWrong === null || n > trueWhenWrong.count)) trueWhenWrong = { scene: g, count: n, of: column };
    const m = t.confusion[c][g];
    if (m > 0 && (mistakenFor === null || m > mistakenFor.count)) mistakenFor = { scene: g, count: m, of: rowTotal(c) };
  }
  return {
    baseRate: { count: t.sceneGtCounts[c], of: t.samples },
    predictedRate: { count: t.scenePredCounts[c], of: t.withPrediction },
    precision: { count: t.confusion[c][c], of: column },
    recall: { count: t.confusion[c][c], of: rowTotal(c) },
    mostLikelyTrueWhenWrong: trueWhenWrong,
    mostOftenMistakenFor: mistakenFor,
  };
}

function tableOf(samples: readonly Sample[], greedy: ReadonlyMap<number, GreedyPrediction>): StatsTable {
  const sceneGtCounts = zeroScenes();
  const scenePredCounts = zeroPreds();
  const confusion = Object.fromEntries(SCENES.map((s) => [s, zeroPreds()])) as Record<Scene, Record<PredColumn, number>>;
  const combos = new Map<string, number>();
  const firstWaypoints = new Map<string, { xs: number[]; ys: number[] }>();
  let labelled = 0;
  let withPrediction = 0;
  for (const s of samples) {
    const g = greedy.get(s.sampleId);
    const pred: PredColumn | null = g ? (g.scene ?? 'unparsed') : null;
    if (pred !== null) { withPrediction++; scenePredCounts[pred]++; }
    if (s.sceneGt === null) continue;
    labelled++;
    sceneGtCounts[s.sceneGt]++;
    if (pred !== null) confusion[s.sceneGt][pred]++;
    if (s.longActionGt !== null && s.latActionGt !== null) {
      const key = `${s.sceneGt}|${s.longActionGt}|${s.latActionGt}`;
      combos.set(key, (combos.get(key) ?? 0) + 1);
    }
    const wp = s.waypointsGt?.[0];
    if (s.longActionGt !== null && wp !== undefined) {
      const key = `${s.sceneGt}|${s.longActionGt}`;
      let acc = firstWaypoints.get(key);
      if (!acc) firstWaypoints.set(key, (acc = { xs: [], ys: [] }));
      acc.xs.push(wp[0]);
      acc.ys.push(wp[1]);
    }
  }
  const cooccurrence = Object.fromEntries(SCENES.map((scene) => {
    const rows: ActionCount[] = [];
    for (const longAction of LONG_ACTIONS) for (const latAction of LAT_ACTIONS) {
      const n = combos.get(`${scene}|${longAction}|${latAction}`);
      if (n) rows.push({ longAction, latAction, count: n });
    }
    // Stable sort: ties keep enum order.
    return [scene, rows.sort((a, b) => b.count - a.count)];
  })) as Record<Scene, ActionCount[]>;
  const waypoints: WaypointStats[] = [];
  for (const scene of SCENES) for (const longAction of LONG_ACTIONS) {
    const acc = firstWaypoints.get(`${scene}|${longAction}`);
    if (acc) waypoints.push({ scene, longAction, count: acc.xs.length, x: summarize(acc.xs), y: summarize(acc.ys) });
  }
  const base = { samples: samples.length, labelled, withPrediction, sceneGtCounts, scenePredCounts, confusion };
  const partial = { ...base, cooccurrence, waypoints };
  const classes = Object.fromEntries(SCENES.map((c) => [c, classStats(c, partial)])) as Record<Scene, ClassStats>;
  return { ...base, classes, cooccurrence, waypoints };
}

export function computeToolStats(samples: Sample[], greedy: Map<number, GreedyPrediction>, opts: ComputeOptions = {}): ToolStats {
  const seen = new Set<number>();
  for (const s of samples) {
    if (seen.has(s.sampleId)) throw new TceError('TOOL_STATS_INPUT', `sample_id ${s.sampleId} appears twice in the tool statistics input`);
    seen.add(s.sampleId);
  }
  const k = opts.crossFit ?? 0;
  if (k === 1 || k < 0 || !Number.isInteger(k)) throw new TceError('TOOL_STATS_INPUT', `--cross-fit must be 0 (off) or an integer >= 2 (found ${k})`);
  if (k > samples.length) throw new TceError('TOOL_STATS_INPUT', `--cross-fit ${k} needs at least ${k} samples (found ${samples.length})`);
  const seed = opts.seed ?? 42;
  let crossFit: ToolStats['crossFit'] = null;
  if (k >= 2) {
    const { sampleIds, folds } = assignFolds(samples, k, seed);
    const foldById = new Map(sampleIds.map((id, i) => [id, folds[i]!]));
    const tables = Array.from({ length: k }, (_, f) => tableOf(samples.filter((s) => foldById.get(s.sampleId) !== f), greedy));
    crossFit = { k, seed, sampleIds, folds, tables };
  }
  return {
    format: STATS_FORMAT,
    source: opts.source ? { file: opts.source.file, sha256: opts.source.sha256 } : null,
    sampleCount: samples.length,
    mode: k >= 2 ? `cross_fit_${k}` : 'in_sample',
    all: tableOf(samples, greedy),
    crossFit,
  };
}

/** The fold a sample belongs to, or null when not cross-fitted or the
 * sample was not part of the statistics. */
export function foldOf(stats: ToolStats, sampleId: number): number | null {
  const cf = stats.crossFit;
  if (!cf) return null;
  let lo = 0;
  let hi = cf.sampleIds.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = cf.sampleIds[mid]!;
    if (v === sampleId) return cf.folds[mid]!;
    if (v < sampleId) lo = mid + 1; else hi = mid - 1;
  }
  return null;
}

/** The statistics a given sample may see: with cross-fitting, those of the
 * folds that exclude it; otherwise (or for a sample outside the data, which
 * cannot leak into its own answers) the all-sample table. */
export function tableFor(stats: ToolStats, sampleId: number): StatsTable {
  const f = foldOf(stats, sampleId);
  return f === null ? stats.all : stats.crossFit!.tables[f]!;
}

/** Deterministic bytes: objects are built in a fixed key order above, so
 * JSON.stringify is stable; the file ends with a newline. */
export function serializeToolStats(stats: ToolStats): string {
  return JSON.stringify(stats) + '\n';
}

export function writeToolStats(file: string, stats: ToolStats): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, serializeToolStats(stats));
  fs.renameSync(tmp, file);
}

export function loadToolStats(file: string): ToolStats {
  // The schema check is parseToolStats's (shared with statistics not read from a file).
  const raw = parseJsonFile(file, z.unknown(), 'TOOL_STATS_INVALID', { readCode: 'TOOL_STATS_UNREADABLE', readHint: 'build them with `tce build-tools`', hint: 'rebuild with `tce build-tools`' });
  return parseToolStats(raw, file);
}

export function parseToolStats(raw: unknown, source: string): ToolStats {
  const r = ToolStatsSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.slice(0, 5).map((iss) => `${source}: ${formatPath(iss.path)}: ${iss.message}`);
    throw new TceError('TOOL_STATS_INVALID', `invalid tool statistics\n${lines.join('\n')}`, 'rebuild with `tce build-tools`');
  }
  const s = r.data;
  const cf = s.crossFit;
  const problem = cf === null
    ? (s.mode !== 'in_sample' ? `mode: "${s.mode}" but crossFit is null` : null)
    : s.mode !== `cross_fit_${cf.k}` ? `mode: "${s.mode}" but crossFit.k is ${cf.k}`
    : cf.tables.length !== cf.k ? `crossFit.tables: ${cf.tables.length} tables for k = ${cf.k}`
    : cf.folds.length !== cf.sampleIds.length ? `crossFit.folds: ${cf.folds.length} entries for ${cf.sampleIds.length} sampleIds`
    : cf.folds.some((f) => f >= cf.k) ? `crossFit.folds: a fold index is >= k = ${cf.k}`
    : cf.sampleIds.some((id, i) => i > 0 && id <= cf.sampleIds[i - 1]!) ? 'crossFit.sampleIds: not strictly ascending'
    : null;
  if (problem) throw new TceError('TOOL_STATS_INVALID', `invalid tool statistics\n${source}: ${problem}`, 'rebuild with `tce build-tools`');
  return s;
}

