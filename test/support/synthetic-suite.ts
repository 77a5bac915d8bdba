// Synthetic experiment rows for the analysis bench and tests: 13 conditions
// shaped like a real suite (greedy baseline biased toward incident_zone,
// verifiers that revise some predictions after tool warnings). Every
// experiment is marked synthetic = 1, backend 'synthetic-rows'.
import type { DB } from '../../src/store/db';
import { SCENES, VERIFIER_SIZES } from '../../src/domain/enums';
import { CONDITION_TABLE, ORACLE } from '../../src/protocol/conditions';
import { sfc32 } from '../../src/analysis/stats';

// From the condition table, size-major (2B's conditions, then 8B's).
export const SUITE_CONDITIONS: Array<{ condition: string; size: string | null; pipeline: string; tools: string[] }> = [
  ...CONDITION_TABLE.filter((c) => !c.verifier).map((c) => ({ condition: c.name, size: null, pipeline: c.pipeline, tools: [...c.tools] })),
  ...VERIFIER_SIZES.flatMap((size) => CONDITION_TABLE.filter((c) => c.verifier).map((c) => ({ condition: c.name, size, pipeline: c.pipeline, tools: [...c.tools] }))),
];

export function insertSyntheticSuite(db: DB, opts: { nSamples: number; seed?: number; stamp?: string }): string[] {
  const rand = sfc32(opts.seed ?? 7, 1);
  const stamp = opts.stamp ?? '20260101T000000';
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const gtWeights = [0.78, 0.072, 0.037, 0.032, 0.077]; // SCENES order, as the fixture
  const gtOf = (): string => { let u = rand(); for (let i = 0; i < 5; i++) { u -= gtWeights[i]!; if (u < 0) return SCENES[i]!; } return SCENES[0]!; };
  const samples = Array.from({ length: opts.nSamples }, (_, i) => {
    const gt = rand() < 0.0015 ? null : gtOf();
    const greedy = rand() < 0.0015 ? null : gt === 'nominal' ? (rand() < 0.5 ? 'incident_zone' : 'nominal') : rand() < 0.65 ? gt : pick(SCENES);
    return { id: i, gt, greedy, fine: gt === 'nominal' ? (rand() < 0.42 ? 'nominal_triggers' : 'nominal_clean') : gt };
  });
  const ids: string[] = [];
  const insExp = db.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline, verifier_size, backend, synthetic, tools_enabled, total_samples, total_wall_time_s, status)
      VALUES (?, ?, ?, ?, 'synthetic-rows', 1, ?, ?, ?, 'done')`);
  const insPred = db.prepare(`INSERT INTO predictions (experiment_id, sample_id, chum_uri, original_scene, original_long_action, original_lat_action, original_generated_text, original_scene_correct,
      final_scene, final_long_action, final_lat_action, final_generated_text, final_scene_correct, was_revised, scene_was_revised, revision_reason,
      scene_type_gt, long_action_gt, lat_action_gt, fine_class, predict_time_ms, verify_time_ms, total_time_ms, final_status, n_turns, n_tool_calls)
      VALUES (?, ?, ?, ?, 'null', 'null', ?, ?, ?, 'null', 'null', ?, ?, ?, ?, ?, ?, 'null', 'null', ?, ?, ?, ?, ?, ?, ?)`);
  const insCall = db.prepare(`INSERT INTO tool_calls (experiment_id, sample_id, tool_call_order, tool_name, tool_arguments_json, tool_result_json, model_revised_after,
      turn_index, call_status, parsed, known_tool, required_args_present, schema_valid, executed_ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, 1, 1, 1)`);
  const insTurn = db.prepare(`INSERT INTO turns (experiment_id, sample_id, turn_index, stage, status, queue_wait_ms, ttft_ms, decode_ms, e2e_ms, prompt_tokens, completion_tokens)
      VALUES (?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const c of SUITE_CONDITIONS) {
      const id = c.size ? `tc_${c.condition}_${c.size}_${stamp}` : `tc_${c.condition}_${stamp}`;
      ids.push(id);
      insExp.run(id, c.condition, c.pipeline, c.size, JSON.stringify(c.tools), opts.nSamples, opts.nSamples / 50);
      const follow = c.condition === ORACLE ? 0.8 : c.size === '8b' ? 0.35 : 0.2;
      for (const s of samples) {
        const original = c.pipeline === 'B' ? (rand() < 0.5 ? s.gt : pick(SCENES)) : s.greedy;
        let final = original;
        const calls: Array<{ tool: string; verdict: string; alt: string | null }> = [];
        for (const tool of c.tools) {
          const wrong = original !== s.gt;
          const warn = c.condition === ORACLE ? wrong : rand() < (wrong ? 0.6 : 0.15);
          const alt = warn ? (c.condition === ORACLE ? s.gt : pick(SCENES)) : null;
          calls.push({ tool, verdict: warn ? 'doubtful' : 'plausible', alt });
          if (warn && alt && rand() < follow) final = alt;
        }
        const ok = (x: string | null): number => (x !== null && x === s.gt ? 1 : 0);
        const turns = c.tools.length ? 1 + (calls.length ? 1 : 0) : 1;
        const rev = final !== original ? 1 : 0;
        const predictMs = 300 + rand() * 400;
        const verifyMs = c.tools.length ? 800 + rand() * 5000 : 0;
        insPred.run(id, s.id, `chum://synthetic/${s.id}`, original, `SCENE: ${original}`, ok(original), final, `FINAL_SCENE: ${final}`, ok(final), rev, rev, rev ? 'a tool disagreed' : null,
          s.gt, s.fine, predictMs, verifyMs, predictMs + verifyMs, 'ok', turns, calls.length);
        calls.forEach((k, i) => insCall.run(id, s.id, i, k.tool, '{"scene":"x"}', JSON.stringify({ verdict: k.verdict, ...(k.alt ? { alternative_scene: k.alt } : {}) }), k.alt && final === k.alt ? 1 : 0, 0, 'ok'));
        for (let t = 0; t < turns; t++) {
          const ttft = 40 + rand() * 200;
          const decode = 200 + rand() * 2500;
          insTurn.run(id, s.id, t, t === 0 && c.tools.length === 0 ? 'predict' : 'verify', rand() * 50, ttft, decode, ttft + decode + 5, 900 + Math.floor(rand() * 400), 30 + Math.floor(rand() * 90));
        }
      }
    }
  })();
  return ids;
}
