// The argument array of one `vllm serve` (never a shell string): model path,
// our port/host/key, then the flags from config, then the model's extra
// vllmArgs verbatim.
import type { Config, ModelConfig } from '../../config/schema';

export function vllmServeArgs(model: ModelConfig, vllm: Config['backend']['vllm'], port: number, apiKey: string, seed: number, serverParse: boolean): string[] {
  const args = [
    'serve', model.path,
    '--host', '127.0.0.1',
    '--port', String(port),
    '--api-key', apiKey,
    '--served-model-name', model.servedModelName,
    '--max-model-len', String(vllm.maxModelLen),
    '--gpu-memory-utilization', String(vllm.gpuMemoryUtilization),
    '--max-num-seqs', String(vllm.maxNumSeqs),
    '--limit-mm-per-prompt', JSON.stringify(vllm.limitMmPerPrompt),
    '--seed', String(seed),
  ];
  if (vllm.chatTemplate) args.push('--chat-template', vllm.chatTemplate);
  if (vllm.allowedLocalMediaPath) args.push('--allowed-local-media-path', vllm.allowedLocalMediaPath);
  if (serverParse) args.push('--enable-auto-tool-choice', '--tool-call-parser', 'hermes');
  args.push(...model.vllmArgs);
  return args;
}

/** The GPU memory share a model's server claims (its own override wins). */
export function memoryShare(model: ModelConfig, vllm: Config['backend']['vllm']): number {
  const i = model.vllmArgs.indexOf('--gpu-memory-utilization');
  const own = i >= 0 ? Number(model.vllmArgs[i + 1]) : NaN;
  return Number.isFinite(own) ? own : vllm.gpuMemoryUtilization;
}

/** Splits models into waves that fit together: per GPU the memory shares of
 * one wave add up to at most 1. Order is kept; a wave is filled greedily. */
export function waves<T>(items: T[], gpu: (t: T) => number, share: (t: T) => number): T[][] {
  const out: Array<{ items: T[]; used: Map<number, number> }> = [];
  for (const it of items) {
    const g = gpu(it), s = share(it);
    let wave = out.find((w) => (w.used.get(g) ?? 0) + s <= 1 + 1e-9);
    if (!wave) {
      wave = { items: [], used: new Map() };
      out.push(wave);
    }
    wave.items.push(it);
    wave.used.set(g, (wave.used.get(g) ?? 0) + s);
  }
  return out.map((w) => w.items);
}
