import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, flag, int, str } from '../common-options';
import { startSimulator } from '../../backends/sim/server';
import { DEFAULT_LATENCY } from '../../backends/sim/latency';
import { QWEN3_VL_2B_H100, QWEN3_VL_8B_H100, type EngineConstants } from '../../backends/sim/engine-model';
import { parseFaultSpec, FAULT_SPEC_HELP } from '../../config/faults';
import { TceError, UsageError } from '../../util/errors';

/** A bad --faults value is wrong usage (exit 2). */
function faultsFlag(spec: string): ReturnType<typeof parseFaultSpec> {
  try {
    return parseFaultSpec(spec);
  } catch (e) {
    if (e instanceof TceError && e.code === 'FAULT_SPEC') throw new UsageError(e.message, e.hint);
    throw e;
  }
}

const ENGINE_MODELS: Record<string, EngineConstants> = { '2b': QWEN3_VL_2B_H100, '8b': QWEN3_VL_8B_H100 };

/** --engine-model 2b|8b with --time-scale: the continuous-batching engine model (docs/backends.md). */
function engineFlag(args: Parameters<Command['run']>[0]): { engineModel: { constants: EngineConstants; timeScale: number } } | Record<string, never> {
  const which = str(args, 'engine-model');
  const scaleText = str(args, 'time-scale');
  if (which === undefined) {
    if (scaleText !== undefined) throw new UsageError('--time-scale needs --engine-model');
    return {};
  }
  const constants = ENGINE_MODELS[which];
  if (!constants) throw new UsageError(`--engine-model: '${which}' is not one of ${Object.keys(ENGINE_MODELS).join(', ')}`);
  const timeScale = scaleText === undefined ? 0.01 : Number(scaleText);
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new UsageError(`--time-scale: '${scaleText}' is not a positive number`);
  return { engineModel: { constants, timeScale } };
}

// `tce serve-sim`: the built-in simulator in the foreground, serving the
// three configured models on one port, for curl and for other clients.
export const serveSimCommand: Command = {
  description: `Serves the configured models' simulator profiles at http://127.0.0.1:PORT/v1 (no API key), plus a scripted model "echo" that replies with the last message's text verbatim (to see how the server parses a given text).\nFault spec: ${FAULT_SPEC_HELP}.`,
  options: {
    ...CONFIG_OPTION,
    port: { type: 'string', description: 'port (default: a free one)', valueName: 'N' },
    latency: { type: 'boolean', description: 'model prefill/decode time and a running-sequence cap' },
    faults: { type: 'string', description: 'inject faults, e.g. 429=0.1,drop=0.05', valueName: 'SPEC' },
    'engine-model': { type: 'string', description: 'continuous-batching engine model with Qwen3-VL constants for one H100 (SIMULATED timing)', valueName: '2b|8b' },
    'time-scale': { type: 'string', description: 'wall ms per modelled ms of the engine model (default 0.01)', valueName: 'X' },
    'server-parse': { type: 'boolean', description: 'act as --enable-auto-tool-choice --tool-call-parser hermes' },
  },
  async run(args) {
    const { config } = configFrom(args);
    const spec = str(args, 'faults');
    const sim = await startSimulator({
      port: int(args, 'port', { min: 0 }) ?? 0,
      seed: config.seed,
      // Plus the scripted 'echo' model (replies with the last message's text).
      models: [...Object.values(config.models).map((m) => ({ servedModelName: m.servedModelName, profile: m.profile, root: m.path })), { servedModelName: 'echo', profile: 'echo' }],
      latency: flag(args, 'latency') ? DEFAULT_LATENCY : false,
      ...(spec ? { faults: faultsFlag(spec) } : {}),
      streamInterval: config.backend.streamInterval,
      serverParse: flag(args, 'server-parse'),
      maxModelLen: config.backend.vllm.maxModelLen,
      ...engineFlag(args),
    });
    process.stdout.write(`${sim.baseUrl}\n`);
    process.stderr.write(`simulated models (synthetic, not real model output): ${Object.values(config.models).map((m) => `${m.servedModelName} [${m.profile}]`).join(', ')}; Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await sim.close();
    return 0;
  },
};
