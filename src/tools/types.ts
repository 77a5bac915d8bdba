// Contract of the tool layer (statistics, tool definitions, oracle, executor).
import type { LatAction, LongAction, Scene } from '../domain/enums';

/** Ground truth bound to a call at execution time (oracle condition only). */
export interface OracleTruth {
  scene: Scene | null;
  longAction: LongAction | null;
  latAction: LatAction | null;
  firstWaypoint: [number, number] | null;
}

export interface ToolInvocation {
  /** Correlation id chosen by the caller, echoed in the outcome. */
  id: number;
  sampleId: number;
  /** Tool name as the model wrote it (may be unknown or null). */
  name: string | null;
  /** Arguments as parsed by the extractor (unvalidated). */
  arguments: unknown;
  /** Tools offered in this condition: others are "unknown tool". */
  offered: readonly string[];
  /** Present only in the oracle condition. */
  oracle?: OracleTruth;
}

/** spec 002's validity record, one per call. */
export interface CallValidity {
  parsed: boolean;
  knownTool: boolean;
  requiredArgsPresent: boolean;
  schemaValid: boolean;
  executedOk: boolean;
  /** "<kind>: <message>", or null when the call executed cleanly. */
  error: string | null;
  /** The kind of `error`, when there is one. */
  errorKind?: ToolErrorKind;
}

export interface ToolOutcome {
  id: number;
  /** The JSON text the model is shown as the tool response. Always present:
   * errors become {"error": ..., "expected": ...}. Every response of a
   * statistical or oracle tool carries "verdict": "plausible" | "doubtful" |
   * "implausible" and, for scene tools, "alternative_scene" when one is
   * suggested (the simulator and reports rely on these two fields). */
  responseJson: string;
  validity: CallValidity;
  /** Time spent executing, microseconds. */
  timeUs: number;
}

export interface ToolExecutor {
  /** Runs a batch; never rejects for a bad call (that is an outcome). */
  executeBatch(calls: readonly ToolInvocation[]): Promise<ToolOutcome[]>;
  close(): Promise<void>;
}

/** Why a call did not execute cleanly; CallValidity.error starts with it. */
export type ToolErrorKind = 'unparsed' | 'unknown_tool' | 'missing_args' | 'invalid_args' | 'tool_failed' | 'timeout';
