// The contract between the synthetic fixture's images and the simulated
// vision of the simulator: each visual cue is drawn with exact palette
// colours, so the simulator can "see" a cue by counting pixels of that colour
// in the decoded image (never by a side channel to ground truth).
// Colours are chosen far from the road/sky/grass background colours and
// from each other; antialiasing is never used, so counts are exact.

export const CUES = [
  'cone',            // orange traffic cones (nominal_triggers, incident_zone)
  'barrier',         // red/white barriers (nominal_triggers, incident_zone)
  'emergency_light', // blue/red flashing lights on a vehicle (incident_zone)
  'crash_debris',    // wrecked vehicle / debris (incident_zone)
  'water',           // standing water on the road (flooded)
  'flagger_vest',    // hi-vis vest of a person (flagger)
  'flag',            // the flag / stop paddle held by the person (flagger)
  'horse',           // a horse (mounted_police)
] as const;
export type Cue = (typeof CUES)[number];

/** RGB triplets. Background colours are listed so drawings avoid them. */
export const CUE_COLORS: Record<Cue, readonly [number, number, number]> = {
  cone: [255, 120, 0],
  barrier: [220, 20, 60],
  emergency_light: [0, 90, 255],
  crash_debris: [90, 90, 110],
  water: [40, 150, 200],
  flagger_vest: [200, 255, 0],
  flag: [255, 0, 200],
  horse: [120, 70, 20],
};

export const BACKGROUND_COLORS = {
  sky: [150, 200, 235],
  grass: [70, 140, 60],
  road: [60, 60, 60],
  laneMarking: [240, 240, 240],
  car: [30, 30, 140],
} as const;

/** Minimum number of pixels of a cue colour for the cue to count as seen. */
export const CUE_MIN_PIXELS = 12;
