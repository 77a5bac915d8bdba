import type { Config } from '../config/schema';
import { VERIFIER_SIZES, type VerifierSize } from '../domain/enums';
import { UsageError } from '../util/errors';
import { roleOf } from '../protocol/roles';

/** `--verifier-model M`: "2b"/"8b", a configured model path or served name,
 * or any path whose name says 2B or 8B (the plan passes paths). */
export function verifierSize(c: Config, m: string | undefined): { size: VerifierSize; path: string | null } {
  if (m === undefined) throw new UsageError('--verifier-model is required (2b, 8b, or a model path)');
  const lower = m.toLowerCase();
  if (lower === '2b' || lower === '8b') return { size: lower, path: null };
  for (const size of VERIFIER_SIZES) {
    const model = c.models[roleOf(size)];
    if (m === model.path || m === model.servedModelName) return { size, path: null };
  }
  const hit = /(?:^|[^0-9])([28])b(?:[^a-z0-9]|$)/i.exec(m);
  if (hit) return { size: `${hit[1]}b` as VerifierSize, path: m };
  throw new UsageError(`--verifier-model ${m}: cannot tell whether this is the 2B or the 8B verifier`, 'pass 2b or 8b, or a path naming the size');
}

/** `--verifier-model` and `--gpu-id` as config overrides for that model. */
export function verifierOverrides(c: Config, model: string | undefined, gpuId: number | undefined): { size: VerifierSize; overrides: Record<string, unknown> } {
  const { size, path } = verifierSize(c, model);
  const role = roleOf(size);
  return {
    size,
    overrides: { ...(gpuId !== undefined ? { [`models.${role}.gpuId`]: gpuId } : {}), ...(path ? { [`models.${role}.path`]: path } : {}) },
  };
}
