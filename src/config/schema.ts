import { z } from 'zod';
import { operational, results } from './effects';
import { FaultsField } from './faults';
import { SelfConsistencySchema } from './self-consistency';
import { MODEL_ROLES } from '../protocol/roles';

// The one description of tool_calling_experiment/config.json. Every field
// has a default, so an empty file (or none) is the embedded default: the
// synthetic fixture served by the built-in simulator. docs/config.md
// explains each field; `tce config --schema` prints the JSON Schema. Every
// leaf is marked results() or operational() (src/config/effects.ts): the
// config hash that --resume matches is computed from those marks.

const gpuId = z.int().min(0).describe('CUDA device index');

export const ModelSchema = z.strictObject({
  profile: results(z.string().describe('simulator behaviour profile standing in for this model (sceneiq-ft-2b, qwen3-vl-2b, qwen3-vl-8b)')),
  path: results(z.string().describe('model weights directory or HF id passed to `vllm serve`')),
  servedModelName: results(z.string().describe('name the server exposes and requests use')),
  gpuId: operational(gpuId),
  gpuIds: operational(z.array(gpuId).min(1).optional().describe('data-parallel replicas: one server per listed GPU (instead of gpuId); turns go to the least busy, a conversation stays on its first turn\'s server')),
  env: results(z.record(z.string(), z.string()).default({}).describe('extra environment for this model\'s server')),
  vllmArgs: results(z.array(z.string()).default([]).describe('extra `vllm serve` arguments, appended verbatim as separate argv items')),
});
export type ModelConfig = z.infer<typeof ModelSchema>;

export const EndpointSchema = z.strictObject({
  model: results(z.enum(MODEL_ROLES).describe('which model role this URL serves')),
  url: results(z.url().describe('base URL of an OpenAI-compatible server, e.g. http://node7:8000/v1')),
  apiKey: operational(z.string().default('EMPTY').describe('API key sent as Bearer token')),
  servedModelName: results(z.string().optional().describe('model name to request; defaults to the model\'s servedModelName')),
  maxInFlight: operational(z.int().positive().optional().describe('cap on concurrent requests to this endpoint')),
});

export const ConfigSchema = z.strictObject({
  seed: results(z.int().default(42).describe('seed for the fixture, the simulator, sampling and the bootstrap')),
  paths: z.strictObject({
    experimentDir: operational(z.string().default('tool_calling_experiment').describe('the experiment folder (media files for file:// image mode go under it)')),
    db: operational(z.string().default('tool_calling_experiment/tool_calling.db').describe('the experiment database (the plan\'s schema)')),
    runsDir: operational(z.string().default('tool_calling_experiment/runs').describe('Arrow intermediates, one folder per experiment, and suite manifests')),
    fixtureDir: operational(z.string().default('tool_calling_experiment/fixture').describe('where the synthetic fixture is generated and read')),
    toolStats: operational(z.string().default('tool_calling_experiment/tool_stats.json').describe('tool statistics file (built when missing or stale)')),
    reportsDir: operational(z.string().default('tool_calling_experiment').describe('where sample_report_data.json, the insights report and report.html go')),
  }).prefault({}).describe('where things are read and written, relative to the working directory'),
  dataset: z.strictObject({
    source: results(z.enum(['fixture', 'mds', 'jsonl']).default('fixture').describe('fixture = generate/read the synthetic fixture under paths.fixtureDir')),
    path: results(z.string().optional().describe('MDS directory (with index.json) or JSONL manifest')),
    selfConsistencyDb: results(z.string().optional().describe('self_consistency.db with the greedy baseline; default: the fixture\'s')),
    mapping: z.strictObject({
      sample_id: results(z.string().default('sample_id').describe('integer sample id')),
      chum_uri: results(z.string().default('chum_uri').describe('source URI of the clip')),
      scene_type_gt: results(z.string().default('scene_type_gt').describe('ground-truth scene (null = unlabelled)')),
      long_action_gt: results(z.string().default('long_action_gt').describe('ground-truth longitudinal action')),
      lat_action_gt: results(z.string().default('lat_action_gt').describe('ground-truth lateral action')),
      fine_class: results(z.string().default('fine_class').describe('fine class, e.g. nominal_triggers')),
      odd_label: results(z.string().default('odd_label').describe('operational design domain label')),
      location: results(z.string().default('location').describe('location')),
      waypoints_gt: results(z.string().default('waypoints_gt').describe('ground-truth waypoints, [[x, y], ...]')),
      image: results(z.string().default('image').describe('the dashcam image (jpeg/png bytes, or a path / data URL in JSONL)')),
    }).prefault({}).describe('our field name -> dataset column (MDS) or key (JSONL); "" = not in the dataset (null; sample_id then = row index)'),
    selfConsistency: SelfConsistencySchema,
    imageMode: results(z.enum(['data-url', 'file']).default('data-url').describe('how images travel to the server: inline data URL, or file:// path (needs allowedLocalMediaPath); unset: file for backend.kind "vllm", data-url otherwise')),
    imagePixelBudget: results(z.int().positive().optional().describe('downscale images above this many pixels before sending')),
    imageResample: results(z.enum(['area', 'nearest']).optional().describe('how imagePixelBudget downscales: area = mean of each covered box (photos); nearest = exact colours; default: nearest for the synthetic fixture (its simulated vision counts palette colours), area otherwise')),
    imageCacheMB: operational(z.number().positive().default(256).describe('cap on the data URLs kept in memory for reuse (least recently used dropped first)')),
    validateHashes: operational(z.boolean().default(false).describe('check the shard hashes listed in the MDS index.json while loading')),
  }).prefault({}).describe('the samples and the greedy baseline'),
  models: z.strictObject({
    predictor: ModelSchema.prefault({ profile: 'sceneiq-ft-2b', path: '/fsx/mketkar-sceneiq/checkpoints/checkpoint_006', servedModelName: 'sceneiq-ft-2b', gpuId: 0, env: { VLLM_BATCH_INVARIANT: '1' } }).describe('the fine-tuned SceneIQ model (condition 0 when run live; VLLM_BATCH_INVARIANT=1 as the plan asks)'),
    verifier_2b: ModelSchema.prefault({ profile: 'qwen3-vl-2b', path: '/fsx/models/Qwen3-VL-2B-Instruct', servedModelName: 'qwen3-vl-2b', gpuId: 1 }).describe('base Qwen3-VL-2B-Instruct verifier'),
    verifier_8b: ModelSchema.prefault({ profile: 'qwen3-vl-8b', path: '/fsx/models/Qwen3-VL-8B-Instruct', servedModelName: 'qwen3-vl-8b', gpuId: 2 }).describe('base Qwen3-VL-8B-Instruct verifier'),
  }).prefault({}).describe('the three models: the fine-tuned predictor and the base 2B and 8B verifiers'),
  backend: z.strictObject({
    kind: results(z.enum(['simulator', 'vllm', 'endpoints']).default('simulator').describe('simulator = built-in vLLM stand-in (synthetic); vllm = spawn `vllm serve` per GPU; endpoints = use the URLs below')),
    vllm: z.strictObject({
      executable: operational(z.string().default('vllm').describe('vllm executable, looked up on PATH')),
      startupTimeoutS: operational(z.number().positive().default(900).describe('seconds to wait for /health 200 after spawning')),
      maxModelLen: results(z.int().positive().default(8192).describe('--max-model-len')),
      gpuMemoryUtilization: operational(z.number().gt(0).max(1).default(0.9).describe('--gpu-memory-utilization (also decides which models share a GPU)')),
      maxNumSeqs: operational(z.int().positive().default(256).describe('--max-num-seqs')),
      limitMmPerPrompt: results(z.record(z.string(), z.int().nonnegative()).default({ image: 1, video: 0 }).describe('--limit-mm-per-prompt, passed as JSON (video is always sent, 0 unless given: vLLM plans startup memory for 999 of any modality left out)')),
      chatTemplate: results(z.string().optional().describe('--chat-template file')),
      allowedLocalMediaPath: operational(z.string().optional().describe('dataset.imageMode "file": images are written into its tce-images/ subfolder (default <experimentDir>/media), and spawned vLLM servers get --allowed-local-media-path = the real path of that subfolder')),
      cacheRoot: operational(z.string().optional().describe('parent of each server\'s VLLM_CACHE_ROOT; default: the run folder')),
    }).prefault({}).describe('how `vllm serve` is spawned (backend.kind "vllm")'),
    endpoints: z.array(EndpointSchema).default([]).describe('existing OpenAI-compatible servers (backend.kind "endpoints")'),
    streamInterval: operational(z.int().positive().default(4).describe('vLLM\'s --stream-interval: a streamed turn gets an SSE event at its first token, then one per this many tokens, then one at its end (fewer events for the server\'s API process and the driver; the first token still comes alone). Spawned `vllm serve` gets --stream-interval N (left out for 1, vLLM\'s default, so older vLLMs start); the simulator groups tokens exactly as vLLM does; unset with run.parseMode "server": 1, because vLLM\'s hermes parser lost streamed tool calls at intervals above 1 until vLLM PR #38168 (opened 2026-03-26); backend.kind "endpoints": the servers\' own setting applies, this one is not used')),
    simulator: z.strictObject({
      latency: operational(z.boolean().default(false).describe('model prefill/decode time and a running-sequence capacity; off = as fast as possible')),
      faults: operational(FaultsField.prefault('').describe('faults to inject, e.g. "429=0.02,drop=0.01,die-after=500" (docs/backends.md); empty = none. Infrastructure faults only: a request either fails or gets the answer a healthy server gives, so they are not in the config hash and `--resume` without them reruns what failed')),
    }).prefault({}).describe('the built-in simulator (backend.kind "simulator"; synthetic)'),
  }).prefault({}).describe('where the models run'),
  prompts: z.strictObject({
    planVerbatim: results(z.boolean().default(false).describe('true = the plan\'s verification prompt byte for byte (no predicted-waypoint line for check_waypoint_feasibility; docs/running.md)')),
    predictor: z.strictObject({
      template: results(z.string().optional().describe('text file with the predictor\'s prompt (the fine-tuned checkpoint\'s own instruction); default: the built-in one (src/run/prompts.ts)')),
      format: results(z.enum(['lines', 'json']).default('lines').describe('lines = "KEY: value" lines; json = one JSON object with the keys below')),
      keys: z.strictObject({
        scene: results(z.string().default('SCENE').describe('key of the scene')),
        longAction: results(z.string().default('LONG_ACTION').describe('key of the longitudinal action')),
        latAction: results(z.string().default('LAT_ACTION').describe('key of the lateral action')),
        waypoints: results(z.string().nullable().default('WAYPOINTS').describe('key of the waypoint list [[x, y], ...]; null = the checkpoint gives none')),
      }).prefault({}).describe('the keys the predictor\'s answer uses (lines: matched case-insensitively, spaces as _)'),
      values: results(z.record(z.string(), z.string()).default({}).describe('the checkpoint\'s spellings -> ours, e.g. {"go straight": "null"}; applied before the usual normalisation')),
    }).prefault({}).describe('the predictor\'s prompt and answer format (live baseline; the simulator\'s predictor answers in it too)'),
  }).prefault({}).describe('prompt text and answer formats'),
  conditions: operational(z.array(z.string()).default([]).describe('condition ids to run (e.g. "oracle_8b"); empty = the plan\'s 11 and the two no_tools controls (run.controls)')),
  gate: z.strictObject({
    threshold: operational(z.number().min(0).max(1).default(0.7).describe('oracle macro-F1 needed to proceed')),
  }).prefault({}).describe('the oracle gate (plan, Phase 0)'),
  concurrency: z.strictObject({
    initial: operational(z.int().positive().default(64).describe('in-flight requests per endpoint at the start')),
    min: operational(z.int().positive().default(4).describe('lower bound of the adaptive limit')),
    max: operational(z.int().positive().default(512).describe('upper bound of the adaptive limit')),
    adaptive: operational(z.boolean().default(true).describe('adjust in-flight requests per endpoint from the server\'s waiting queue (/metrics)')),
    targetWaiting: operational(z.int().nonnegative().default(8).describe('server queue length the adaptive limit aims for')),
  }).refine((c) => c.min <= c.max, { message: 'concurrency.min must not exceed concurrency.max', path: ['min'] }).prefault({}).describe('requests in flight per endpoint'),
  retries: z.strictObject({
    max: operational(z.int().nonnegative().default(4).describe('retries per request for 429, 5xx, dropped connections, mid-stream errors and timeouts')),
    baseDelayMs: operational(z.int().nonnegative().default(200).describe('first backoff; doubles per retry, with jitter')),
    maxDelayMs: operational(z.int().nonnegative().default(10000).describe('backoff cap')),
  }).prefault({}).describe('retries of failed requests (then the sample is recorded as failed)'),
  run: z.strictObject({
    maxTurns: results(z.int().positive().default(4).describe('model turns per conversation (per stage in Pipeline B)')),
    maxTokens: results(z.int().positive().default(512).describe('max_tokens per turn')),
    temperatureVerify: results(z.number().min(0).default(0).describe('temperature of verifier turns')),
    temperaturePredict: results(z.number().min(0).default(0).describe('temperature of the predictor (greedy = 0)')),
    requestTimeoutS: operational(z.number().positive().default(300).describe('one request, first byte to [DONE]')),
    parseMode: results(z.enum(['client', 'server']).default('client').describe('client = tool_choice "none" and parse <tool_call> text here; server = vLLM\'s hermes parser')),
    clientMode: operational(z.enum(['native', 'openai']).default('native').describe('native = raw HTTP bodies into the C++ stream engine; openai = the openai package')),
    order: operational(z.enum(['condition-major', 'sample-major']).default('condition-major').describe('sample-major sends one sample\'s conditions back to back (image cache hits)')),
    flushSamples: operational(z.int().positive().default(256).describe('samples per committed batch of an experiment\'s run files; fewer = less lost to a crash, more files (tests use small batches to interrupt short runs mid-way)')),
    minFreeMiB: operational(z.number().min(0).default(256).describe('free space the run folder, the database\'s folder and the media folder must have before a run starts (MiB); 0 = not checked')),
    maxFailedShare: operational(z.number().min(0).max(1).default(0.02).describe('most failed samples (server errors, timeouts) a condition may have, as a share of its samples; above it the run exits non-zero, and no claim that needs that condition (nor the outcome) is drawn')),
    controls: operational(z.boolean().default(true).describe('also run the no_tools controls (each verifier with the same prompt and image, no tools, one turn), so every tool condition is compared with the same verifier without tools; false = skip them')),
  }).prefault({}).describe('how each turn is sent, and which controls run'),
  tools: z.strictObject({
    crossFit: results(z.int().min(0).default(0).describe('0 = statistics from all samples (as the plan); K >= 2 = K-fold cross-fitted statistics')),
    dispatch: operational(z.enum(['auto', 'inline', 'pool']).default('auto').describe('auto = built-in tools inline (faster, see bench/tools.bench.ts), custom tools in the piscina pool')),
    timeoutMs: operational(z.int().positive().default(2000).describe('per tool call; a pooled tool that hangs is stopped after this')),
  }).prefault({}).describe('the verification tools'),
});

export type Config = z.infer<typeof ConfigSchema>;
