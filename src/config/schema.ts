import { z } from 'zod';

// The one description of tool_calling_experiment/config.json. Every field
// has a default, so an empty file (or none) is the embedded default: the
// synthetic fixture served by the built-in simulator. docs/config.md
// explains each field; `tce config --schema` prints the JSON Schema.

const gpuId = z.int().min(0).describe('CUDA device index');

export const ModelSchema = z.strictObject({
  profile: z.string().describe('simulator behaviour profile standing in for this model (sceneiq-ft-2b, qwen3-vl-2b, qwen3-vl-8b)'),
  path: z.string().describe('model weights directory or HF id passed to `vllm serve`'),
  servedModelName: z.string().describe('name the server exposes and requests use'),
  gpuId: gpuId,
  env: z.record(z.string(), z.string()).default({}).describe('extra environment for this model\'s server'),
  vllmArgs: z.array(z.string()).default([]).describe('extra `vllm serve` arguments, appended verbatim as separate argv items'),
});
export type ModelConfig = z.infer<typeof ModelSchema>;

export const EndpointSchema = z.strictObject({
  model: z.enum(['predictor', 'verifier_2b', 'verifier_8b']).describe('which model role this URL serves'),
  url: z.url().describe('base URL of an OpenAI-compatible server, e.g. http://node7:8000/v1'),
  apiKey: z.string().default('EMPTY').describe('API key sent as Bearer token'),
  servedModelName: z.string().optional().describe('model name to request; defaults to the model\'s servedModelName'),
  maxInFlight: z.int().positive().optional().describe('cap on concurrent requests to this endpoint'),
});

export const ConfigSchema = z.strictObject({
  seed: z.int().default(42).describe('seed for the fixture, the simulator, sampling and the bootstrap'),
  paths: z.strictObject({
    experimentDir: z.string().default('tool_calling_experiment'),
    db: z.string().default('tool_calling_experiment/tool_calling.db'),
    runsDir: z.string().default('tool_calling_experiment/runs'),
    fixtureDir: z.string().default('tool_calling_experiment/fixture'),
    toolStats: z.string().default('tool_calling_experiment/tool_stats.json'),
    reportsDir: z.string().default('tool_calling_experiment'),
  }).prefault({}).describe('where things are read and written, relative to the working directory'),
  dataset: z.strictObject({
    source: z.enum(['fixture', 'mds', 'jsonl']).default('fixture').describe('fixture = generate/read the synthetic fixture under paths.fixtureDir'),
    path: z.string().optional().describe('MDS directory (with index.json) or JSONL manifest'),
    selfConsistencyDb: z.string().optional().describe('self_consistency.db with the greedy baseline; default: the fixture\'s'),
    mapping: z.strictObject({
      sample_id: z.string().default('sample_id'),
      chum_uri: z.string().default('chum_uri'),
      scene_type_gt: z.string().default('scene_type_gt'),
      long_action_gt: z.string().default('long_action_gt'),
      lat_action_gt: z.string().default('lat_action_gt'),
      fine_class: z.string().default('fine_class'),
      odd_label: z.string().default('odd_label'),
      location: z.string().default('location'),
      waypoints_gt: z.string().default('waypoints_gt'),
      image: z.string().default('image'),
    }).prefault({}).describe('our field name -> dataset column (MDS) or key (JSONL); "" = not in the dataset (null; sample_id then = row index)'),
    selfConsistency: z.strictObject({
      table: z.string().default('predictions'),
      experimentId: z.string().optional().describe('experiment_id of the greedy run when the table holds several'),
      columns: z.record(z.string(), z.string()).default({}).describe('overrides of column names, our name -> theirs'),
    }).prefault({}),
    imageMode: z.enum(['data-url', 'file']).default('data-url').describe('how images travel to the server: inline data URL, or file:// path (needs allowedLocalMediaPath)'),
    imagePixelBudget: z.int().positive().optional().describe('downscale images above this many pixels before sending'),
    validateHashes: z.boolean().default(false).describe('check the shard hashes listed in the MDS index.json while loading'),
  }).prefault({}),
  models: z.strictObject({
    predictor: ModelSchema.prefault({ profile: 'sceneiq-ft-2b', path: '/fsx/mketkar-sceneiq/checkpoints/checkpoint_006', servedModelName: 'sceneiq-ft-2b', gpuId: 0, env: { VLLM_BATCH_INVARIANT: '1' } }),
    verifier_2b: ModelSchema.prefault({ profile: 'qwen3-vl-2b', path: '/fsx/models/Qwen3-VL-2B-Instruct', servedModelName: 'qwen3-vl-2b', gpuId: 1 }),
    verifier_8b: ModelSchema.prefault({ profile: 'qwen3-vl-8b', path: '/fsx/models/Qwen3-VL-8B-Instruct', servedModelName: 'qwen3-vl-8b', gpuId: 2 }),
  }).prefault({}),
  backend: z.strictObject({
    kind: z.enum(['simulator', 'vllm', 'endpoints']).default('simulator').describe('simulator = built-in vLLM stand-in (synthetic); vllm = spawn `vllm serve` per GPU; endpoints = use the URLs below'),
    vllm: z.strictObject({
      executable: z.string().default('vllm').describe('vllm executable, looked up on PATH'),
      startupTimeoutS: z.number().positive().default(900),
      maxModelLen: z.int().positive().default(8192),
      gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
      maxNumSeqs: z.int().positive().default(256),
      limitMmPerPrompt: z.record(z.string(), z.int().nonnegative()).default({ image: 1 }),
      chatTemplate: z.string().optional(),
      allowedLocalMediaPath: z.string().optional(),
      cacheRoot: z.string().optional().describe('parent of each server\'s VLLM_CACHE_ROOT; default: the run folder'),
    }).prefault({}),
    endpoints: z.array(EndpointSchema).default([]),
    simulator: z.strictObject({
      latency: z.boolean().default(false).describe('model prefill/decode time and a running-sequence capacity; off = as fast as possible'),
      tokensPerDelta: z.int().positive().default(4).describe('tokens per SSE delta event'),
      faults: z.string().default('').describe('faults to inject, e.g. "429=0.02,drop=0.01,die-after=500" (docs/backends.md); empty = none'),
    }).prefault({}),
  }).prefault({}),
  conditions: z.array(z.string()).default([]).describe('condition ids to run (e.g. "oracle_8b"); empty = all 11'),
  gate: z.strictObject({
    threshold: z.number().min(0).max(1).default(0.7).describe('oracle macro-F1 needed to proceed'),
  }).prefault({}),
  concurrency: z.strictObject({
    initial: z.int().positive().default(64),
    min: z.int().positive().default(4),
    max: z.int().positive().default(512),
    adaptive: z.boolean().default(true).describe('adjust in-flight requests per endpoint from the server\'s waiting queue (/metrics)'),
    targetWaiting: z.int().nonnegative().default(8).describe('server queue length the adaptive limit aims for'),
  }).prefault({}),
  retries: z.strictObject({
    max: z.int().nonnegative().default(4),
    baseDelayMs: z.int().nonnegative().default(200),
    maxDelayMs: z.int().nonnegative().default(10000),
  }).prefault({}),
  run: z.strictObject({
    maxTurns: z.int().positive().default(4),
    maxTokens: z.int().positive().default(512),
    temperatureVerify: z.number().min(0).default(0),
    temperaturePredict: z.number().min(0).default(0),
    requestTimeoutS: z.number().positive().default(300),
    parseMode: z.enum(['client', 'server']).default('client').describe('client = tool_choice "none" and parse <tool_call> text here; server = vLLM\'s hermes parser'),
    clientMode: z.enum(['native', 'openai']).default('native').describe('native = raw HTTP bodies into the C++ stream engine; openai = the openai package'),
    order: z.enum(['condition-major', 'sample-major']).default('condition-major').describe('sample-major sends one sample\'s conditions back to back (image cache hits)'),
  }).prefault({}),
  tools: z.strictObject({
    crossFit: z.int().min(0).default(0).describe('0 = statistics from all samples (as the plan); K >= 2 = K-fold cross-fitted statistics'),
    dispatch: z.enum(['auto', 'inline', 'pool']).default('auto').describe('auto = built-in tools inline (faster, see bench/tools.bench.ts), custom tools in the piscina pool'),
    timeoutMs: z.int().positive().default(2000).describe('per tool call; a pooled tool that hangs is stopped after this'),
  }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
