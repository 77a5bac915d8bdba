// The prompt text and answer formats a suite uses, fixed once from config:
// the predictor's instruction (a template file for a real checkpoint, or the
// built-in one), its answer format, and whether the verification prompt is
// the plan's byte for byte.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema';
import { predictorAnswerSpec, type PredictorAnswerSpec } from '../protocol/predictor-answer';
import { TceError } from '../util/errors';
import { PREDICT_PROMPT } from '../protocol/prompts';

export interface PromptSet {
  predict: string;
  /** sha256 of the template file's text (null: the built-in prompt); part
   * of the config hash, since editing the file changes the results. */
  predictTemplateSha: string | null;
  predictorAnswer: PredictorAnswerSpec;
  planVerbatim: boolean;
}

export function loadPromptSet(c: Config): PromptSet {
  const file = c.prompts.predictor.template;
  let predict = PREDICT_PROMPT;
  if (file !== undefined) {
    try {
      predict = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    } catch (e) {
      throw new TceError('CONFIG_INVALID', `config: prompts.predictor.template: cannot read ${file}: ${(e as Error).message}`, 'give the path of a text file with the predictor\'s prompt, relative to the working directory');
    }
    if (predict.trim() === '') throw new TceError('CONFIG_INVALID', `config: prompts.predictor.template: ${file} is empty`, 'put the predictor\'s prompt in it');
  }
  return {
    predict,
    predictTemplateSha: file === undefined ? null : createHash('sha256').update(predict).digest('hex'),
    predictorAnswer: predictorAnswerSpec(c.prompts.predictor),
    planVerbatim: c.prompts.planVerbatim,
  };
}
