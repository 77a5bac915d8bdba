import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, int, str } from '../common-options';
import { openBackends } from '../../backends/open';
import { MODEL_ROLES, type ModelRole } from '../../protocol/roles';
import { UsageError } from '../../util/errors';
import type { Endpoint } from '../../backends/types';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROLES = [...MODEL_ROLES];
const KINDS = ['vllm', 'simulator', 'endpoints'] as const;

// `tce serve-check`: start (or reach) the configured model servers, show each
// one healthy with the model it serves, then stop what was started.
export const serveCheckCommand: Command = {
  description: 'Default backend: vllm (one `vllm serve` per model/GPU, from PATH or backend.vllm.executable). Logs go to a folder under --run-dir.',
  options: {
    ...CONFIG_OPTION,
    backend: { type: 'string', description: `which backend to check: ${KINDS.join(', ')}`, default: 'vllm', valueName: 'KIND' },
    'run-dir': { type: 'string', description: 'folder for server logs (default: a new temporary folder)', valueName: 'DIR' },
    timeout: { type: 'string', description: 'seconds to wait for each server (default: backend.vllm.startupTimeoutS)', valueName: 'S' },
  },
  async run(args) {
    const kind = str(args, 'backend') ?? 'vllm';
    if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--backend must be one of ${KINDS.join(', ')} (found '${kind}')`);
    const timeout = int(args, 'timeout', { min: 1 });
    const overrides: Record<string, unknown> = { 'backend.kind': kind };
    if (timeout !== undefined) overrides['backend.vllm.startupTimeoutS'] = timeout;
    const { config } = configFrom(args, overrides);
    const runDir = str(args, 'run-dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tce-serve-check-'));
    const log = (l: string) => process.stderr.write(l + '\n');
    const set = await openBackends(config, { runDir, roles: ROLES, log });
    let failed = 0;
    try {
      // Models that did not fit beside the first wave: one at a time.
      const later = ROLES.filter((r) => !set.endpoints[r]);
      const check = async (role: ModelRole) => {
        const first = set.endpoints[role];
        if (!first) return;
        // Every replica of the role (models.X.gpuIds, or several endpoints).
        const all = set.replicas?.[role] ?? [first];
        for (const [k, e] of all.entries()) await checkOne(all.length > 1 ? `${role}#${k}` : role, e);
      };
      const checkOne = async (label: string, e: Endpoint) => {
        const root = e.baseUrl.replace(/\/v1$/, '');
        const health = await fetch(`${root}/health`).then((r) => r.status, () => 0);
        const models = await fetch(`${e.baseUrl}/models`, { headers: { authorization: `Bearer ${e.apiKey}` } })
          .then(async (r) => (r.ok ? ((await r.json()) as { data: Array<{ id: string }> }).data.map((d) => d.id) : []), () => [] as string[]);
        const ok = health === 200 && models.includes(e.model);
        if (!ok) failed++;
        process.stdout.write(`${label.padEnd(14)} ${ok ? 'healthy' : 'UNHEALTHY'}  ${e.baseUrl}  model ${e.model}  /health ${health}  serves [${models.join(', ')}]${set.synthetic ? '  (simulated)' : ''}\n`);
      };
      for (const r of ROLES) await check(r);
      for (const r of later) {
        if (!set.prepare) break;
        await set.prepare([r]);
        await check(r);
      }
    } finally {
      await set.close();
    }
    process.stdout.write(`stopped; logs in ${runDir}\n`);
    return failed === 0 ? 0 : 1;
  },
};
