// The oracle gate (plan, Phase 0): if even perfect tool information cannot
// lift the verifier's scene macro-F1 (protocol/scores) to the threshold with
// either verifier size, the full experiment is not worth its compute. The
// driver decides with it before the other conditions run; the analysis
// reports it.

/** Passes when at least one oracle experiment reaches the threshold. */
export function gatePasses(oracleMacroF1: readonly number[], threshold: number): boolean {
  return oracleMacroF1.some((f1) => f1 >= threshold);
}
