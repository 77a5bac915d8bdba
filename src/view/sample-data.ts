// One sample across every condition: the diagnosis (flip, tags, tool call
// traces, shared with the reports), the turns as recorded, and the raw text
// and repairs of each extracted call so the page can highlight it.
import { rowCorrect } from '../analysis/condition';
import { diagnoseCondition, type SampleDiagnosis } from '../report/sample-diagnosis';
import type { Experiment, ViewStore } from './view-store';
import { experimentParts, storedRequestOf, type CallResults, type Parts } from '../store/request-parts';

export interface TurnView {
  turn_index: number; stage: string; status: string; error: string | null; finish_reason: string | null; retries: number | null;
  queue_wait_ms: number | null; ttft_ms: number | null; decode_ms: number | null; e2e_ms: number | null;
  prompt_tokens: number | null; completion_tokens: number | null;
  response_text: string | null; reasoning_text: string | null;
  /** The messages this turn added to the conversation (assistant echoes left out). */
  messages: Array<{ role: string; text: string; images: number }>;
  /** request_json could not be read: why. */
  requestProblem: string | null;
}

export interface CallExtra { order: number; raw_text: string | null; repairs: string | null; source: string | null; tool_time_us: number | null }

export interface ConditionSample { e: Experiment; d: SampleDiagnosis; turns: TurnView[]; calls: Map<number, CallExtra> }

export interface SampleView {
  sampleId: number;
  /** The greedy baseline's answer for this sample, when a baseline ran. */
  greedy: SampleDiagnosis['original'] | null;
  meta: { chum_uri: string | null; location: string | null; odd_label: string | null; image_sha256: string | null } | null;
  perCondition: ConditionSample[];
}

type TurnRow = Omit<TurnView, 'messages' | 'requestProblem'> & { request_json: string | null };

const TURNS = `SELECT turn_index, stage, status, error, finish_reason, retries, queue_wait_ms, ttft_ms, decode_ms, e2e_ms, prompt_tokens, completion_tokens,
  request_json, response_text, reasoning_text FROM turns_full WHERE experiment_id = ? AND sample_id = ? ORDER BY turn_index`;
const CALLS = `SELECT tool_call_order AS "order", raw_text, repairs_json AS repairs, source, tool_time_us, tool_result_json AS result FROM tool_calls_full WHERE experiment_id = ? AND sample_id = ?`;
const META = `SELECT chum_uri, location, odd_label, image_sha256 FROM predictions_full WHERE experiment_id = ? AND sample_id = ?`;

/** Text and image count of a stored message; anything else is shown as JSON. */
function messageView(m: unknown): { role: string; text: string; images: number } {
  if (!m || typeof m !== 'object') return { role: '?', text: JSON.stringify(m), images: 0 };
  const { role, content } = m as { role?: unknown; content?: unknown };
  const r = typeof role === 'string' ? role : '?';
  if (typeof content === 'string') return { role: r, text: content, images: 0 };
  if (!Array.isArray(content)) return { role: r, text: JSON.stringify(content ?? null), images: 0 };
  let images = 0;
  const texts: string[] = [];
  for (const p of content as Array<{ type?: unknown; text?: unknown }>) {
    if (p && p.type === 'image_url') images++;
    else if (p && typeof p.text === 'string') texts.push(p.text);
    else texts.push(JSON.stringify(p));
  }
  return { role: r, text: texts.join('\n'), images };
}

export function turnView(row: TurnRow, parts: Parts = new Map(), prevReply: string | null = null, results: CallResults = new Map(), image: string | null = null): TurnView {
  const { request_json, ...rest } = row;
  let messages: TurnView['messages'] = [];
  let requestProblem: string | null = null;
  try {
    const stored = storedRequestOf(request_json, parts, prevReply, results, null, image) as { messages?: unknown } | null;
    if (stored && Array.isArray(stored.messages)) messages = stored.messages.map(messageView).filter((m) => m.role !== 'assistant');
    else requestProblem = 'request_json has no messages';
  } catch (e) {
    requestProblem = (e as Error).message;
  }
  return { ...rest, messages, requestProblem };
}

function conditionSample(store: ViewStore, e: Experiment, sampleId: number, baseCorrect: boolean | undefined): ConditionSample | null {
  const c = { experimentId: e.experiment_id, conditionName: e.condition_name, verifierSize: e.verifier_size, label: e.label };
  const baseline = baseCorrect === undefined ? null : new Map([[sampleId, baseCorrect]]);
  const [d] = [...diagnoseCondition(store.db, c, baseline, { sampleId })];
  if (!d) return null;
  const parts = experimentParts(store.db, e.experiment_id);
  const callRows = store.db.prepare(CALLS).all(e.experiment_id, sampleId) as Array<CallExtra & { result: string | null }>;
  const results = new Map(callRows.map((k) => [k.order, k.result]));
  const sha = store.db.prepare('SELECT image_sha256 FROM predictions_full WHERE experiment_id = ? AND sample_id = ?').pluck().get(e.experiment_id, sampleId) as string | null | undefined;
  const image = sha ? `sha256:${sha}#sample=${sampleId}` : null;
  const turns = (store.db.prepare(TURNS).all(e.experiment_id, sampleId) as TurnRow[]).map((r, i, all) => turnView(r, parts, all[i - 1]?.response_text ?? null, results, image));
  const calls = new Map(callRows.map(({ result: _r, ...k }) => [k.order, k]));
  return { e, d, turns, calls };
}

/** null when no condition has this sample. */
export function sampleView(store: ViewStore, sampleId: number): SampleView | null {
  const es = store.conditions();
  const baseId = store.baselineId();
  const base = baseId ? store.db.prepare('SELECT scene_type_gt, final_scene FROM predictions WHERE experiment_id = ? AND sample_id = ?').get(baseId, sampleId) as { scene_type_gt: string | null; final_scene: string | null } | undefined : undefined;
  const baseCorrect = base ? rowCorrect(base, base.final_scene) : undefined;
  const perCondition = es.map((e) => conditionSample(store, e, sampleId, baseCorrect)).filter((x): x is ConditionSample => x !== null);
  if (perCondition.length === 0) return null;
  const first = perCondition[0]!;
  const greedy = perCondition.find((x) => x.e.experiment_id === baseId)?.d.original ?? perCondition.find((x) => x.e.pipeline === 'A')?.d.original ?? null;
  const meta = (store.db.prepare(META).get(first.e.experiment_id, sampleId) as SampleView['meta'] | undefined) ?? null;
  return { sampleId, greedy, meta, perCondition };
}
