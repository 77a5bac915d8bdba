import type { LatAction, LongAction, Scene } from './enums';

/** One dashcam sample with its ground truth, whatever source it came from
 * (MDS dataset, self_consistency.db, JSONL manifest). A NULL scene label
 * means "unlabelled": metrics exclude such samples and say how many. */
export interface Sample {
  sampleId: number;
  chumUri: string | null;
  sceneGt: Scene | null;
  longActionGt: LongAction | null;
  latActionGt: LatAction | null;
  fineClass: string | null;
  oddLabel: string | null;
  location: string | null;
  /** GT waypoints as [x, y] deltas, first waypoint first. */
  waypointsGt: Array<[number, number]> | null;
  /** Encoded image bytes (PNG or JPEG) and their MIME type. */
  image: Uint8Array | null;
  imageMime: 'image/png' | 'image/jpeg' | null;
}

/** The fine-tuned predictor's greedy output for one sample (the baseline).
 * A NULL scene means the generated text could not be parsed; it counts as
 * wrong. */
export interface GreedyPrediction {
  sampleId: number;
  scene: Scene | null;
  longAction: LongAction | null;
  latAction: LatAction | null;
  waypoints: Array<[number, number]> | null;
  /** The raw output; null when the database has no such column. */
  generatedText: string | null;
}
