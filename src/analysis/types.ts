// The result of one analysis: everything reports, tables and the decision
// read. Plain JSON (no Dates, no typed arrays) so the database path and the
// Arrow path can be compared with deepEqual.
import type { ClassScore, Distribution } from './metrics';
import type { Interval } from './stats';
import type { Claim } from './claims';

/** P(original wrong | warned) against P(original wrong | not warned), over
 * the samples where the tool answered: a tool whose warnings do not pick
 * out wrong originals is uninformative, however often it warns. */
export interface Informativeness {
  warned: number; warnedWrong: number; pWrongWarned: number; pWrongWarnedCi: Interval;
  notWarned: number; notWarnedWrong: number; pWrongNotWarned: number; pWrongNotWarnedCi: Interval;
  /** Newcombe interval of P(wrong | warned) - P(wrong | not warned). */
  diffCi: Interval;
  /** The difference interval is above 0; null when a group is empty. */
  informative: boolean | null;
}

export interface ToolMetrics {
  tool: string;
  /** Rows in tool_calls with this name. */
  calls: number;
  /** Samples where the tool was called at least once. */
  samplesCalled: number;
  /** Among those samples, the share with a scene revision (DESIGN). */
  pReviseGivenTool: number;
  /** Mean of tool_calls.model_revised_after over the calls that have it. */
  meanRevisedAfter: number;
  /** Calls whose response said "doubtful" or "implausible". */
  warnings: number;
  /** Warned samples where the scene was kept anyway. */
  warningsIgnored: number;
  informativeness: Informativeness;
}

export interface Validity {
  calls: number;
  parsed: number; knownTool: number; requiredArgsPresent: number; schemaValid: number; executedOk: number;
  /** All five checks passed. */
  valid: number;
  callStatus: Record<string, number>;
}

export interface FineClassRow { fineClass: string; n: number; correct: number; accuracy: number; baselineCorrect: number; saves: number; breaks: number }

export interface Latency {
  /** Per request (table turns). */
  ttftMs: Distribution; decodeMs: Distribution; turnMs: Distribution; queueWaitMs: Distribution;
  promptTokens: Distribution; completionTokens: Distribution;
  /** Per sample (table predictions). */
  sampleMs: Distribution; predictMs: Distribution; verifyMs: Distribution;
  turns: number;
  throughputSamplesPerS: number | null;
}

export interface ConditionStats {
  /** Intervals of the condition alone, on its own samples. */
  accuracy: Interval; macroF1: Interval;
  /** Difference from the baseline, on the samples both have (nVsBaseline). */
  accuracyDiff: Interval; macroF1Diff: Interval;
  nVsBaseline: number;
  /** This condition's samples the baseline lacks (left out of the difference). */
  leftOutVsBaseline: number;
  /** Per metric: its difference interval contains 0. */
  withinNoiseAccuracy: boolean; withinNoiseMacroF1: boolean;
  /** Both difference intervals contain 0. */
  withinNoise: boolean;
}

/** What a result is, read from the experiment's own row: the greedy
 * baseline (no verifier), the oracle, a condition offering tools, the
 * verifier without tools, or a staged run's first answer (derived). */
export type ConditionRole = 'baseline' | 'oracle' | 'tool' | 'control' | 'first_answer';

/** A rule comparator (no model): rule_baselines. */
export interface RuleBaseline {
  rule: string;
  tools: string[];
  n: number; correct: number;
  accuracy: number; macroF1: number;
  accuracyCi: Interval; macroF1Ci: Interval;
  saves: number; breaks: number; net: number;
  /** Samples whose scene the rule changed. */
  changed: number;
  perScene: SceneFlips[];
}

export interface SceneFlips { scene: string; n: number; correct: number; saves: number; breaks: number }

export interface ConditionResult {
  experimentId: string;
  conditionName: string;
  verifierSize: string | null;
  pipeline: string;
  /** "condition" or "condition_size", e.g. oracle_8b. */
  label: string;
  role: ConditionRole;
  /** Tools offered to the model (experiments.tools_enabled). */
  toolsOffered: string[];
  /** For a derived result (a staged run's first answer): the experiment it is read from. */
  derivedFrom: string | null;
  synthetic: boolean;
  backend: string | null;
  /** Samples with an answer: every metric, interval and test is over these. */
  n: number; nLabelled: number; nUnlabelled: number; nUnparseable: number;
  /** Samples whose requests failed (server error, timeout): no answer, left
   * out of every metric, counted here. */
  nFailed: number;
  /** Samples the experiment was to run (experiments.total_samples), when recorded. */
  nPlanned: number | null;
  /** The experiment's stored status (completed, interrupted, running). */
  runStatus: string | null;
  /** Why no claim about this condition is drawn (failed: too many failed
   * samples; incomplete), or null: set by the analysis from run.maxFailedShare. */
  problem?: string | null;
  correct: number;
  /** correct / n (all samples: the plan's denominator). */
  accuracy: number;
  /** correct / labelled samples. */
  accuracyLabelled: number;
  macroF1: number;
  perClass: Array<ClassScore & { scene: string }>;
  /** 6x6 counts: rows GT (5 classes, unlabelled), columns predicted (5, unparseable). */
  confusion: number[][];
  fineClass: FineClassRow[];
  /** Per ground-truth scene: saves and breaks against the flip reference. */
  perScene: SceneFlips[];
  nRevised: number; revisionRate: number;
  nSceneRevised: number; revisionAccuracy: number;
  saves: number; breaks: number; net: number; mcnemarP: number;
  /** Where the saves/breaks reference came from. */
  flipReference: 'baseline_experiment' | 'original_prediction';
  tools: ToolMetrics[];
  /** Samples with at least one warning, and of those the ones where the original was wrong / the scene was revised. */
  warnedSamples: number; warnedOriginalWrong: number; warnedRevised: number;
  /** Samples whose original scene was wrong, and of those the ones a tool warned about. */
  originalWrong: number; originalWrongWarned: number;
  actions: { longAccuracy: number; latAccuracy: number; jointAccuracy: number };
  validity: Validity;
  finalStatus: Record<string, number>;
  latency: Latency;
  stats: ConditionStats | null;
}

export interface SizeComparison {
  conditionName: string;
  id2b: string; id8b: string;
  macroF1_2b: number; macroF1_8b: number;
  accuracy_2b: number; accuracy_8b: number;
  revisionRate_2b: number; revisionRate_8b: number;
  revisionAccuracy_2b: number; revisionAccuracy_8b: number;
  /** 8B minus 2B. */
  macroF1Diff: number; macroF1DiffCi: Interval | null;
  /** Samples right with 8B only / with 2B only, and the exact McNemar p. */
  only8bRight: number; only2bRight: number; mcnemarP: number;
  /** Samples both sizes have (the comparison's set); bootstrap p of the
   * macro-F1 difference and its Holm correction across the size family. */
  n: number; p: number; pHolm: number;
  /** Holm-corrected p < 0.05 on macro-F1. */
  significant: boolean;
}

export interface Decision {
  gateThreshold: number;
  oracleF1: Record<string, number>;
  /** null when no oracle condition was analysed (ceiling unknown). */
  gatePassed: boolean | null;
  /** The plan's Decision Points, 1-4; null when no decision is drawn
   * (a needed condition missing, incomplete or failed: see refused). */
  outcome: 1 | 2 | 3 | 4 | null;
  /** Why no decision is drawn, one line per condition (empty when one is). */
  refused: string[];
  outcomeTitle: string;
  /** Why, with the numbers. */
  reasons: string[];
  bestReal: { label: string; macroF1Diff: number; net: number; mcnemarP: number; revisionRate: number; revisionAccuracy: number } | null;
  /** Every claim with its comparisons (metric, interval, Holm p). */
  claims: Claim[];
  /** Synthetic runs: the decision checks the pipeline, not the model. */
  simulated: boolean;
  sizeMatters: boolean;
  sizeReasons: string[];
  recommendation: string;
}

export interface AnalysisResult {
  synthetic: boolean;
  backends: string[];
  baselineId: string | null;
  bootstrap: { resamples: number; seed: number };
  conditions: ConditionResult[];
  rules: RuleBaseline[];
  /** Why there are no rule comparators, when there are none. */
  rulesMissing: string | null;
  sizeComparison: SizeComparison[];
  decision: Decision;
  /** How the tool statistics were built: in_sample or cross_fit_K, per analysed experiment's record. */
  toolStatsModes: string[];
  /** Experiments still running were analysed (--partial): the numbers are partial, no decision. */
  partial: boolean;
  /** The suite analysed (the run timestamp shared by its experiment ids), when one. */
  suite: string | null;
}
