// One record per sample and condition: what the model said first, every
// tool call with its result, what it said last, the ground truth, the flip
// against the greedy baseline, and diagnostic tags. The JSONL report is
// these records; the insights report picks its examples from them.
import type { DB } from '../store/db';
import type { StoredPrediction, StoredToolCall } from '../store/rows';
import type { AnalysisResult, ConditionResult } from '../analysis/types';
import { rowCorrect, rowRevised, rowSceneRevised } from '../analysis/condition';
import { isWarning } from '../analysis/load';
import { isScene } from '../domain/enums';
import { allRows, iterateRows } from '../store/row-objects';

export interface ToolCallTrace {
  order: number; turn_index: number | null; name: string;
  arguments: unknown; result: unknown;
  verdict: string | null; alternative_scene: string | null;
  call_status: string | null; valid: boolean; error: string | null;
  model_revised_after: number | null;
}

export interface SampleDiagnosis {
  /** First in every record, so `grep '"synthetic":true'` counts simulated records. */
  synthetic: boolean;
  experiment_id: string; condition: string; verifier_size: string | null; label: string;
  /** Why no claim about this condition is drawn (failed, incomplete), or
   * null: a record of a failed condition says so itself. */
  condition_problem: string | null;
  sample_id: number; chum_uri: string | null;
  ground_truth: { scene: string | null; long_action: string | null; lat_action: string | null; fine_class: string | null };
  original: { scene: string | null; long_action: string | null; lat_action: string | null; status: string | null; text: string | null };
  tool_calls: ToolCallTrace[];
  final: { scene: string | null; long_action: string | null; lat_action: string | null; status: string | null; error: string | null; text: string | null };
  revision: { was_revised: boolean; scene_was_revised: boolean; reason: string | null };
  baseline_correct: boolean; final_correct: boolean;
  flip: 'saved' | 'broke' | 'stayed_correct' | 'stayed_wrong';
  tags: string[];
  time: { total_ms: number | null; n_turns: number | null };
}

type PredRow = Pick<StoredPrediction, 'sample_id' | 'chum_uri' | 'scene_type_gt' | 'long_action_gt' | 'lat_action_gt' | 'fine_class'
  | 'original_scene' | 'original_long_action' | 'original_lat_action' | 'original_status' | 'original_generated_text'
  | 'final_scene' | 'final_long_action' | 'final_lat_action' | 'final_status' | 'final_error' | 'final_generated_text'
  | 'revision_reason' | 'total_time_ms' | 'n_turns'>;

type CallRow = Pick<StoredToolCall, 'sample_id' | 'tool_call_order' | 'turn_index' | 'tool_name' | 'tool_arguments_json' | 'tool_result_json' | 'call_status'
  | 'parsed' | 'known_tool' | 'required_args_present' | 'schema_valid' | 'executed_ok' | 'error' | 'model_revised_after'>;

/** Malformed JSON from a model or tool is kept as its raw text. */
function parseLoose(text: string | null): unknown {
  if (text === null) return null;
  try { return JSON.parse(text) as unknown; } catch { return { unparsed: text }; }
}

function field(v: unknown, key: string): string | null {
  if (v === null || typeof v !== 'object') return null;
  const x = (v as Record<string, unknown>)[key];
  return typeof x === 'string' ? x : null;
}

export function baselineCorrectMap(db: DB, r: Pick<AnalysisResult, 'baselineId'>): Map<number, boolean> | null {
  if (!r.baselineId) return null;
  const rows = db.prepare('SELECT sample_id, scene_type_gt, final_scene FROM predictions WHERE experiment_id = ?').all(r.baselineId) as Array<{ sample_id: number; scene_type_gt: string | null; final_scene: string | null }>;
  return new Map(rows.map((p) => [p.sample_id, rowCorrect(p, p.final_scene)]));
}

/** synthetic: the record says so first; derivedFrom: a staged first
 * answer, read from that staged experiment's rows. */
export type DiagnosedCondition = Pick<ConditionResult, 'experimentId' | 'conditionName' | 'verifierSize' | 'label'> & Partial<Pick<ConditionResult, 'synthetic' | 'derivedFrom' | 'problem'>>;

/** A staged run's first answer is read from the staged rows: its final
 * answer is the first one, and no tool response came before it. */
function asFirstAnswer(p: PredRow): PredRow {
  return { ...p, final_scene: p.original_scene, final_long_action: p.original_long_action, final_lat_action: p.original_lat_action,
    final_status: p.original_status, final_error: null, final_generated_text: p.original_generated_text, revision_reason: null, total_time_ms: null };
}

/** `texts: false` leaves the generated texts out (null): the viewer's
 * sample lists need only the tags, and the texts are most of the bytes.
 * `sampleId` diagnoses that one sample only (the viewer's sample page). */
export function* diagnoseCondition(db: DB, c: DiagnosedCondition, baseline: Map<number, boolean> | null, opts: { texts?: boolean; sampleId?: number } = {}): Generator<SampleDiagnosis> {
  const derived = c.derivedFrom ?? null;
  const sourceId = derived ?? c.experimentId;
  const text = (col: string): string => (opts.texts ?? true ? col : `NULL AS ${col}`);
  const one = opts.sampleId !== undefined ? ' AND sample_id = ?' : '';
  const params = opts.sampleId !== undefined ? [sourceId, opts.sampleId] : [sourceId];
  const calls = new Map<number, CallRow[]>();
  if (derived === null) for (const k of allRows<CallRow>(db.prepare(`SELECT sample_id, tool_call_order, turn_index, tool_name, tool_arguments_json, tool_result_json, call_status, parsed, known_tool,
      required_args_present, schema_valid, executed_ok, error, model_revised_after FROM tool_calls_full WHERE experiment_id = ?${one} ORDER BY sample_id, tool_call_order`), ...params)) {
    let l = calls.get(k.sample_id);
    if (!l) calls.set(k.sample_id, (l = []));
    l.push(k);
  }
  const preds = db.prepare(`SELECT sample_id, chum_uri, scene_type_gt, long_action_gt, lat_action_gt, fine_class,
      original_scene, original_long_action, original_lat_action, original_status, ${text('original_generated_text')},
      final_scene, final_long_action, final_lat_action, final_status, final_error, ${text('final_generated_text')},
      revision_reason, total_time_ms, n_turns FROM predictions_full WHERE experiment_id = ?${one} ORDER BY sample_id`);
  for (const row of iterateRows<PredRow>(preds, ...params)) {
    const p = derived === null ? row : asFirstAnswer(row);
    const traces: ToolCallTrace[] = (calls.get(p.sample_id) ?? []).map((k) => {
      const result = parseLoose(k.tool_result_json);
      return {
        order: k.tool_call_order, turn_index: k.turn_index, name: k.tool_name,
        arguments: parseLoose(k.tool_arguments_json), result,
        verdict: field(result, 'verdict'), alternative_scene: field(result, 'alternative_scene'),
        call_status: k.call_status, valid: !!(k.parsed && k.known_tool && k.required_args_present && k.schema_valid && k.executed_ok),
        error: k.error, model_revised_after: k.model_revised_after,
      };
    });
    const finalCorrect = rowCorrect(p, p.final_scene);
    const baseCorrect = baseline?.get(p.sample_id) ?? rowCorrect(p, p.original_scene);
    const sceneRevised = rowSceneRevised(p);
    const flip = !baseCorrect && finalCorrect ? 'saved' : baseCorrect && !finalCorrect ? 'broke' : finalCorrect ? 'stayed_correct' : 'stayed_wrong';
    yield {
      synthetic: c.synthetic ?? false,
      experiment_id: c.experimentId, condition: c.conditionName, verifier_size: c.verifierSize, label: c.label,
      condition_problem: c.problem ?? null,
      sample_id: p.sample_id, chum_uri: p.chum_uri,
      ground_truth: { scene: p.scene_type_gt, long_action: p.long_action_gt, lat_action: p.lat_action_gt, fine_class: p.fine_class },
      original: { scene: p.original_scene, long_action: p.original_long_action, lat_action: p.original_lat_action, status: p.original_status, text: p.original_generated_text },
      tool_calls: traces,
      final: { scene: p.final_scene, long_action: p.final_long_action, lat_action: p.final_lat_action, status: p.final_status, error: p.final_error, text: p.final_generated_text },
      revision: { was_revised: rowRevised(p), scene_was_revised: sceneRevised, reason: p.revision_reason },
      baseline_correct: baseCorrect, final_correct: finalCorrect, flip,
      tags: tagsFor(p, traces, flip, sceneRevised, finalCorrect),
      time: { total_ms: p.total_time_ms, n_turns: p.n_turns },
    };
  }
}

function tagsFor(p: PredRow, traces: ToolCallTrace[], flip: SampleDiagnosis['flip'], sceneRevised: boolean, finalCorrect: boolean): string[] {
  const tags: string[] = [];
  if (flip === 'saved') tags.push('tool_saved');
  if (flip === 'broke') tags.push('tool_broke');
  if (flip === 'stayed_correct') tags.push('stayed_correct');
  if (flip === 'stayed_wrong') tags.push('stayed_wrong');
  if (sceneRevised) tags.push(finalCorrect ? 'revised_correctly' : 'revised_incorrectly');
  const warned = traces.some((t) => isWarning(t.verdict));
  if (warned && !sceneRevised) tags.push('ignored_tool_warning');
  if (warned && sceneRevised) tags.push('heeded_tool_warning');
  if (sceneRevised && !warned && traces.length > 0) tags.push('revised_without_warning');
  if (traces.length > 0 && traces.every((t) => t.verdict === 'plausible')) tags.push('all_tools_agreed');
  if (traces.some((t) => t.alternative_scene !== null && t.alternative_scene === p.final_scene && sceneRevised)) tags.push('followed_alternative');
  if (traces.length === 0) tags.push('no_tool_calls');
  if (traces.some((t) => !t.valid)) tags.push('invalid_tool_call');
  if (!isScene(p.original_scene)) tags.push('unparseable_original');
  if (!isScene(p.final_scene)) tags.push('unparseable_final');
  if (p.final_status !== null && p.final_status !== 'ok') tags.push(`final_${p.final_status}`);
  if (p.scene_type_gt === null) tags.push('unlabelled');
  if (p.fine_class === 'nominal_triggers') tags.push('nominal_trigger');
  return tags;
}
