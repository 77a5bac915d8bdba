// The argument array of one `vllm serve` (never a shell string): model path,
// our port/host, then the flags from config, then the model's extra
// vllmArgs verbatim. The API key is not an argument (anyone can read argv
// with ps): the pool passes it as VLLM_API_KEY in the environment.
import type { Config, ModelConfig } from '../../config/schema';

/** The value of `--name V` or `--name=V` in an argument list (the last one
 * wins, as in argparse). */
export function flagValue(args: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  args.forEach((a, i) => {
    if (a === name && i + 1 < args.length) v = args[i + 1];
    else if (a.startsWith(`${name}=`)) v = a.slice(name.length + 1);
  });
  return v;
}

/** --limit-mm-per-prompt: a modality left out defaults to 999 in vLLM
 * (vllm/config/multimodal.py), and startup profiling plans for it; the
 * experiment sends one image and never video. */
export function mmLimits(vllm: Config['backend']['vllm']): Record<string, number> {
  return { ...vllm.limitMmPerPrompt, video: vllm.limitMmPerPrompt['video'] ?? 0 };
}

/** --generation-config: "vllm" ignores the model folder's
 * generation_config.json (the default "auto" would fill top_p, top_k,
 * min_p, repetition_penalty from it); a model's own vllmArgs may override. */
export function generationConfig(model: ModelConfig): string {
  return flagValue(model.vllmArgs, '--generation-config') ?? 'vllm';
}

/** `mediaDir`: the real path of the image folder in file image mode;
 * `streamInterval`: backend.streamInterval, passed as --stream-interval
 * (vLLM PR #27869) only when above vLLM's default 1, so that a vLLM from
 * before that flag still starts with 1. */
export function vllmServeArgs(model: ModelConfig, vllm: Config['backend']['vllm'], port: number, seed: number, serverParse: boolean, mediaDir: string | null = null, streamInterval = 1): string[] {
  const args = [
    'serve', model.path,
    '--host', '127.0.0.1',
    '--port', String(port),
    '--served-model-name', model.servedModelName,
    '--max-model-len', String(vllm.maxModelLen),
    '--gpu-memory-utilization', String(vllm.gpuMemoryUtilization),
    '--max-num-seqs', String(vllm.maxNumSeqs),
    '--limit-mm-per-prompt', JSON.stringify(mmLimits(vllm)),
    '--seed', String(seed),
    '--generation-config', 'vllm',
  ];
  if (vllm.chatTemplate) args.push('--chat-template', vllm.chatTemplate);
  if (mediaDir !== null) args.push('--allowed-local-media-path', mediaDir);
  if (serverParse) args.push('--enable-auto-tool-choice', '--tool-call-parser', 'hermes');
  if (streamInterval > 1) args.push('--stream-interval', String(streamInterval));
  args.push(...model.vllmArgs);
  return args;
}

/** The hint for a server that exited before it was ready, from its log's
 * last lines: argparse's "unrecognized arguments: --stream-interval 4" is a
 * vLLM from before the flag (PR #27869, merged November 2025). */
export function exitHint(logTail: string): string {
  if (/unrecognized arguments:[^\n]*--stream-interval/.test(logTail)) {
    return 'this vLLM predates --stream-interval (vLLM PR #27869); set backend.streamInterval to 1 (or upgrade vLLM)';
  }
  return 'read the log above; common causes: out of GPU memory (lower backend.vllm.gpuMemoryUtilization), an unknown flag for this vLLM version, a wrong model path';
}

/** The GPU memory share a model's server claims (its own override wins). */
export function memoryShare(model: ModelConfig, vllm: Config['backend']['vllm']): number {
  const given = flagValue(model.vllmArgs, '--gpu-memory-utilization');
  const own = given === undefined ? NaN : Number(given);
  return Number.isFinite(own) ? own : vllm.gpuMemoryUtilization;
}

/** Splits models into waves that fit together: per GPU the memory shares of
 * one wave add up to at most 1. Order is kept; a wave is filled greedily. */
export function waves<T>(items: T[], gpu: (t: T) => number | readonly number[], share: (t: T) => number): T[][] {
  const out: Array<{ items: T[]; used: Map<number, number> }> = [];
  for (const it of items) {
    // A model with replicas takes its share on each of its GPUs.
    const gs = ([] as number[]).concat(gpu(it)), s = share(it);
    let wave = out.find((w) => gs.every((g) => (w.used.get(g) ?? 0) + s <= 1 + 1e-9));
    if (!wave) {
      wave = { items: [], used: new Map() };
      out.push(wave);
    }
    wave.items.push(it);
    for (const g of gs) wave.used.set(g, (wave.used.get(g) ?? 0) + s);
  }
  return out.map((w) => w.items);
}
