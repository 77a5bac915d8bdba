// The fake `vllm` executable (test/fake-vllm/vllm runs this): argument
// parsing like vLLM's argparse (unknown flags: "unrecognized arguments",
// exit 2), connections refused until "ready", vLLM's startup lines, an
// engine-core child process in the same group, then the simulator.
// Test knobs come through the environment, which the pool passes per model:
//   FAKE_VLLM_STARTUP_MS  delay before listening (default 100: node's own start
//                         already makes the pool see refused connections first)
//   FAKE_VLLM_FAULTS      fault spec (src/backends/sim/faults.ts), e.g. exit-startup, die-after=3
//   FAKE_VLLM_PROFILE     simulator profile (default: from the served name or model path)
//   FAKE_VLLM_NO_STREAM_INTERVAL=1  act as a vLLM from before --stream-interval
//                         (PR #27869): the flag is an unrecognized argument
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTABLE_SAMPLING, type Sampling } from '../../src/backends/sim/request';
import { startSimulator, VLLM_KEEP_ALIVE_S } from '../../src/backends/sim/server';
import { checkMediaRoot } from '../../src/backends/sim/vision';
// fault-spec, not faults: the config schema's module loads zod (~25% of a
// fake server's start).
import { parseFaultSpec } from '../../src/config/fault-spec';
import { isProfile } from '../../src/backends/sim/profiles';

const VALUE_FLAGS = new Set([
  '--host', '--port', '--api-key', '--served-model-name', '--max-model-len', '--gpu-memory-utilization', '--max-num-seqs',
  '--limit-mm-per-prompt', '--seed', '--chat-template', '--allowed-local-media-path', '--tool-call-parser', '--generation-config',
  '--mm-processor-cache-gb', '--max-num-batched-tokens', '--uvicorn-log-level', '--mm-processor-kwargs', '--api-server-count',
  '--disable-access-log-for-endpoints', '--stream-interval',
]);
const BOOL_FLAGS = new Set([
  '--enable-auto-tool-choice', '--trust-request-chat-template', '--enable-prefix-caching', '--no-enable-prefix-caching',
  '--async-scheduling', '--disable-uvicorn-access-log', '--enable-prompt-tokens-details', '--exclude-tools-when-tool-choice-none',
  '--skip-mm-profiling', '--enable-force-include-usage',
]);
const TOOL_PARSERS = ['hermes', 'qwen3_xml', 'qwen3_coder', 'llama3_json', 'mistral', 'pythonic'];

function usageError(msg: string): never {
  process.stderr.write(`usage: vllm serve [model_tag] [options]\nvllm serve: error: ${msg}\n`);
  process.exit(2);
}

/** Python's int() on a string, as argparse's type=int applies it: optional
 * whitespace and sign, digits with single underscores between them. */
function pyInt(s: string): number | null {
  return /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(s) ? Number(s.trim().replace(/_/g, '')) : null;
}

/** --stream-interval (vllm/engine/arg_utils.py, type int): argparse rejects
 * a non-integer (exit 2); SchedulerConfig's `Field(default=1, ge=1)`
 * (vllm/config/scheduler.py) rejects one below 1 when the engine config is
 * built, a pydantic ValidationError (exit 1). */
function streamInterval(flags: Map<string, string>): number {
  const raw = flags.get('--stream-interval');
  if (raw === undefined) return 1;
  const n = pyInt(raw);
  if (n === null) usageError(`argument --stream-interval: invalid int value: '${raw}'`);
  if (n < 1) {
    process.stderr.write(`pydantic_core._pydantic_core.ValidationError: 1 validation error for SchedulerConfig\nstream_interval\n  Input should be greater than or equal to 1 [type=greater_than_equal, input_value=${n}, input_type=int]\n`);
    process.exit(1);
  }
  return n;
}

function parse(argv: string[]): { model: string; flags: Map<string, string> } {
  if (argv[0] !== 'serve') usageError(`argument subparser: invalid choice: '${argv[0] ?? ''}' (choose from 'chat', 'complete', 'serve', 'bench', 'collect-env', 'run-batch')`);
  const flags = new Map<string, string>();
  const unknown: string[] = [];
  let model: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const dotted = name.startsWith('--limit-mm-per-prompt.');
    const known = VALUE_FLAGS.has(name) && !(name === '--stream-interval' && process.env.FAKE_VLLM_NO_STREAM_INTERVAL === '1');
    if (known || dotted) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) usageError(`argument ${name}: expected one argument`);
      flags.set(name, v);
    } else if (BOOL_FLAGS.has(name)) {
      flags.set(name, 'true');
    } else if (a.startsWith('-')) {
      unknown.push(a);
      // argparse lists the value too when it does not look like a flag.
      if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) unknown.push(argv[++i]!);
    } else if (model === undefined) {
      model = a;
    } else {
      unknown.push(a);
    }
  }
  if (unknown.length > 0) usageError(`unrecognized arguments: ${unknown.join(' ')}`);
  if (model === undefined) usageError('the following arguments are required: model_tag');
  const lim = flags.get('--limit-mm-per-prompt');
  if (lim !== undefined) {
    try {
      JSON.parse(lim);
    } catch {
      usageError(`argument --limit-mm-per-prompt: Value ${lim} cannot be converted to <function loads>.`);
    }
  }
  const parser = flags.get('--tool-call-parser');
  if (parser !== undefined && !TOOL_PARSERS.includes(parser)) {
    process.stderr.write(`KeyError: 'invalid tool call parser: ${parser} (chose from { ${TOOL_PARSERS.join(',')} })'\n`);
    process.exit(1);
  }
  return { model, flags };
}

/** --generation-config: "auto" (vLLM's default) reads the model folder's
 * generation_config.json, a folder reads that folder's, "vllm" none
 * (vllm/config/model.py get_diff_sampling_param). */
function samplingDefaults(model: string, flag: string): Sampling {
  if (flag === 'vllm') return {};
  const file = path.join(flag === 'auto' ? model : flag, 'generation_config.json');
  if (!fs.existsSync(file)) return {};
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Sampling = {};
  for (const k of DEFAULTABLE_SAMPLING) if (typeof cfg[k] === 'number') out[k] = cfg[k] as number;
  if (Object.keys(out).length > 0) {
    info('model.py:1', "Default sampling parameters have been overridden by the model's Hugging Face generation config recommended from the model creator. If this is not intended, please relaunch vLLM instance with `--generation-config vllm`.");
    info('serving_chat.py:1', `Using default chat sampling params from model: ${JSON.stringify(out)}`);
  }
  return out;
}

function profileFor(model: string, served: string): string {
  const env = process.env.FAKE_VLLM_PROFILE;
  if (env) return env;
  if (isProfile(served)) return served;
  if (/sceneiq|checkpoint/i.test(model)) return 'sceneiq-ft-2b';
  return /8b/i.test(model) ? 'qwen3-vl-8b' : 'qwen3-vl-2b';
}

const info = (where: string, msg: string) => process.stdout.write(`(APIServer pid=${process.pid}) INFO ${new Date().toISOString().slice(5, 19).replace('T', ' ')} [${where}] ${msg}\n`);

export async function main(argv: string[]): Promise<void> {
  const { model, flags } = parse(argv);
  const interval = streamInterval(flags);
  const faults = parseFaultSpec(process.env.FAKE_VLLM_FAULTS ?? '', 'FAKE_VLLM_FAULTS');
  const served = flags.get('--served-model-name') ?? model;
  const host = flags.get('--host') ?? '0.0.0.0';
  const port = Number(flags.get('--port') ?? 8000);
  info('api_server.py:1880', `vLLM API server version 0.0.0+fake`);
  info('utils.py:253', `non-default args: {'model_tag': '${model}', 'host': '${host}', 'port': ${port}, 'model': '${model}', 'served_model_name': ['${served}']}`);
  info('envs.py:1', `CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? ''} VLLM_CACHE_ROOT=${process.env.VLLM_CACHE_ROOT ?? ''} VLLM_BATCH_INVARIANT=${process.env.VLLM_BATCH_INVARIANT ?? ''} VLLM_HTTP_TIMEOUT_KEEP_ALIVE=${process.env.VLLM_HTTP_TIMEOUT_KEEP_ALIVE ?? ''}`);
  info('argv', JSON.stringify(argv));
  // The engine core is a separate process in vLLM; it lives in our process
  // group, so only a group kill stops it.
  // `sleep` rather than a second Node process: ~1 ms of CPU instead of ~50.
  const engine = spawn('sleep', ['2147483647'], { stdio: 'ignore' });
  // Exits once the engine is reaped here: an orphaned engine would wait as a
  // zombie in the group for a slow-reaping init (a container's), and the
  // pool waits until the group is gone (~1.3 s per server here).
  const exitWithEngine = (code: number, signal: NodeJS.Signals) => {
    if (engine.exitCode !== null || engine.signalCode !== null) process.exit(code);
    engine.once('exit', () => process.exit(code));
    engine.kill(signal);
  };
  process.on('SIGTERM', () => exitWithEngine(0, 'SIGTERM'));
  const startupMs = Number(process.env.FAKE_VLLM_STARTUP_MS ?? 100);
  await new Promise((r) => setTimeout(r, startupMs));
  if (faults.exitDuringStartup) {
    process.stdout.write(`(EngineCore_DP0 pid=${engine.pid}) ERROR [core.py:700] EngineCore failed to start.\n`);
    process.stdout.write('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.74 GiB. GPU 0 has a total capacity of 79.18 GiB of which 612.50 MiB is free.\n');
    exitWithEngine(1, 'SIGKILL');
    return;
  }
  process.stdout.write(`(EngineCore_DP0 pid=${engine.pid}) INFO [core.py:243] init engine (profile, create kv cache, warmup model) took ${(startupMs / 1000).toFixed(2)} seconds\n`);
  const lim = JSON.parse(flags.get('--limit-mm-per-prompt') ?? '{}') as { image?: number };
  const dottedImage = flags.get('--limit-mm-per-prompt.image');
  const media = flags.get('--allowed-local-media-path');
  if (media !== undefined) {
    try {
      checkMediaRoot(media);
    } catch (e) {
      process.stdout.write(`(APIServer pid=${process.pid}) ValueError: ${(e as Error).message}\n`);
      exitWithEngine(1, 'SIGKILL');
      return;
    }
  }
  const keepAlive = Number(process.env.VLLM_HTTP_TIMEOUT_KEEP_ALIVE ?? VLLM_KEEP_ALIVE_S);
  const sampling = samplingDefaults(model, flags.get('--generation-config') ?? 'auto');
  const sim = await startSimulator({
    port,
    seed: Number(flags.get('--seed') ?? 0),
    models: [{ servedModelName: served, profile: profileFor(model, served), root: model }],
    faults,
    serverParse: flags.has('--enable-auto-tool-choice') && flags.has('--tool-call-parser'),
    streamInterval: interval,
    // vLLM reads the key from --api-key or, as tce passes it, VLLM_API_KEY.
    ...(flags.has('--api-key') ? { apiKey: flags.get('--api-key')! } : process.env.VLLM_API_KEY ? { apiKey: process.env.VLLM_API_KEY } : {}),
    maxModelLen: Number(flags.get('--max-model-len') ?? 32768),
    ...(dottedImage !== undefined ? { maxImagesPerPrompt: Number(dottedImage) } : lim.image !== undefined ? { maxImagesPerPrompt: lim.image } : {}),
    ...(media !== undefined ? { allowedLocalMediaPath: media } : {}),
    keepAliveS: keepAlive,
    samplingDefaults: sampling,
    accessLog: (l) => process.stdout.write(l + '\n'),
    // Most fake servers of the tests never get a chat request (cleanup,
    // health, pool start and stop tests); see the option.
    tokenizerOnFirstUse: true,
    onEngineDeath: () => {
      process.stdout.write(`(EngineCore_DP0 pid=${engine.pid}) ERROR [core.py:900] EngineCore encountered a fatal error.\nvllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.\n`);
      engine.kill('SIGKILL');
      // vLLM's API server shuts down shortly after the engine dies.
      setTimeout(() => process.exit(1), 300).unref();
    },
  });
  info('api_server.py:1945', `Starting vLLM API server 0 on http://${host}:${sim.port}`);
  info('launcher.py:38', 'Available routes are:');
  for (const r of ['/health', '/metrics', '/v1/models', '/v1/chat/completions', '/version']) info('launcher.py:46', `Route: ${r}, Methods: ${r.endsWith('completions') ? 'POST' : 'GET'}`);
  process.stdout.write(`(APIServer pid=${process.pid}) INFO:     Started server process [${process.pid}]\n(APIServer pid=${process.pid}) INFO:     Waiting for application startup.\n(APIServer pid=${process.pid}) INFO:     Application startup complete.\n`);
}
