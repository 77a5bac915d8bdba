// One request per model before the first sample: a real image, the longest
// prompt the run sends first (Pipeline A's verification prompt with every
// tool offered) and the run's max_tokens. A server that cannot take it
// (context too short, image refused, wrong model name) fails the run in
// seconds, naming the model and the settings to check, instead of turning
// every sample into a server_error (issue 14).
import type { Config } from '../config/schema';
import type { ModelRole } from '../protocol/roles';
import type { Sample } from '../domain/sample';
import type { GreedyPrediction } from '../domain/sample';
import type { RoleRuntimes } from './role-runtimes';
import type { SuiteImages } from './suite-images';
import { TceError } from '../util/errors';
import { openAiTools } from '../tools/registry';
import { TOOL_NAMES } from '../protocol/tools';
import { verificationPrompt } from '../protocol/prompts';

export async function preflightModels(c: Config, roles: readonly ModelRole[], runtimes: RoleRuntimes, first: Sample | undefined, greedy: ReadonlyMap<number, GreedyPrediction>, images: SuiteImages): Promise<void> {
  if (!first || roles.length === 0) return;
  const g = greedy.get(first.sampleId);
  const prompt = verificationPrompt({ scene: g?.scene ?? null, longAction: g?.longAction ?? null, latAction: g?.latAction ?? null });
  const messages = [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: images.image(first).url } }, { type: 'text' as const, text: prompt }] }];
  const retry = { max: c.retries.max, baseDelayMs: c.retries.baseDelayMs, maxDelayMs: c.retries.maxDelayMs, requestTimeoutMs: c.run.requestTimeoutS * 1000 };
  await Promise.all(roles.map(async (role) => {
    const rt = runtimes.get(role);
    const params = { parseMode: c.run.parseMode, maxTokens: c.run.maxTokens, temperature: 0, seed: c.seed, tools: openAiTools(TOOL_NAMES), toolNames: TOOL_NAMES };
    const out = await rt.client.turn(messages as never, params, { knownTools: TOOL_NAMES, offeredTools: TOOL_NAMES, answerKind: 'verify' }, retry);
    if (out.status === 'ok') return;
    throw new TceError('PREFLIGHT_MODEL', `models.${role}: one request with sample ${first.sampleId}'s image, the verification prompt and max_tokens ${c.run.maxTokens} failed before the run: ${out.error ?? out.status}`,
      'check backend.vllm.maxModelLen (prompt + image + run.maxTokens must fit), the model\'s servedModelName and the endpoint; nothing was run');
  }));
}
