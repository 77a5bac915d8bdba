// vLLM answers a prompt longer than its context with a 400, final for that
// request. With a too-small --max-model-len every sample fails the same
// way, so the message names the sample, the token counts and the setting
// to change, and a run stops after a few of them instead of recording a
// whole suite of server_error rows.
import { TceError } from '../util/errors';

/** How many context-length failures a run tolerates before it stops. */
export const CONTEXT_FAILURES_TO_STOP = 3;

export const CONTEXT_PREFIX = 'context too long:';

// vLLM's two wordings (serving_engine.py, by version).
const PASSED = /You passed (\d+) input tokens and requested (\d+) output tokens\. However, the model's context length is only (\d+) tokens/;
const MAXIMUM = /maximum context length is (\d+) tokens\. However, you requested (\d+) tokens(?: \((\d+) in the messages, (\d+) in the completion\))?/;

/** The error, explained when it is vLLM's context-length 400; else null. */
export function contextLengthNote(error: string, sampleId: number): string | null {
  let input: number | null = null, output: number | null = null, max: number | null = null;
  const p = PASSED.exec(error);
  if (p) [input, output, max] = [Number(p[1]), Number(p[2]), Number(p[3])];
  const m = p ? null : MAXIMUM.exec(error);
  if (m) [max, input, output] = [Number(m[1]), m[3] !== undefined ? Number(m[3]) : Number(m[2]), m[4] !== undefined ? Number(m[4]) : 0];
  if (max === null) return null;
  return `${CONTEXT_PREFIX} sample ${sampleId} needs ${input} prompt + ${output} completion tokens but the server's context is ${max} tokens; raise backend.vllm.maxModelLen (--max-model-len), or lower run.maxTokens or dataset.imagePixelBudget (server said: ${error})`;
}

/** Counts context-length failures; throws once there are too many. */
export class ContextFailures {
  private n = 0;
  note(finalError: unknown): void {
    if (typeof finalError !== 'string' || !finalError.startsWith(CONTEXT_PREFIX)) return;
    if (++this.n >= CONTEXT_FAILURES_TO_STOP) {
      throw new TceError('CONTEXT_TOO_LONG', `${this.n} samples failed because their prompt does not fit the model's context; the last: ${finalError}`, 'raise backend.vllm.maxModelLen (and restart the servers), then rerun: finished samples are kept');
    }
  }
}
