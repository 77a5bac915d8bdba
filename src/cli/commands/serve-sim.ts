import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, flag, int, str } from '../common-options';
import { startSimulator } from '../../backends/sim/server';
import { DEFAULT_LATENCY } from '../../backends/sim/latency';
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

// `tce serve-sim`: the built-in simulator in the foreground, serving the
// three configured models on one port, for curl and for other clients.
export const serveSimCommand: Command = {
  description: `Serves the configured models' simulator profiles at http://127.0.0.1:PORT/v1 (no API key), plus a scripted model "echo" that replies with the last message's text verbatim (to see how the server parses a given text).\nFault spec: ${FAULT_SPEC_HELP}.`,
  options: {
    ...CONFIG_OPTION,
    port: { type: 'string', description: 'port (default: a free one)', valueName: 'N' },
    latency: { type: 'boolean', description: 'model prefill/decode time and a running-sequence cap' },
    faults: { type: 'string', description: 'inject faults, e.g. 429=0.1,drop=0.05', valueName: 'SPEC' },
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
      tokensPerDelta: config.backend.simulator.tokensPerDelta,
      serverParse: flag(args, 'server-parse'),
      maxModelLen: config.backend.vllm.maxModelLen,
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
