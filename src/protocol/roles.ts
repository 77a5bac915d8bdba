// The model roles the experiment runs and which verifier size plays which.
import type { VerifierSize } from '../domain/enums';

export const MODEL_ROLES = ['predictor', 'verifier_2b', 'verifier_8b'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
export type VerifierRole = Exclude<ModelRole, 'predictor'>;

/** The role that serves the verifier of a size: `verifier_<size>`. */
export function roleOf(size: VerifierSize): VerifierRole {
  return `verifier_${size}` as const;
}
