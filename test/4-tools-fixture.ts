// Hand-built inputs for the tool tests (layer 4x): samples laid out from
// FIXTURE.md's confusion and co-occurrence tables, without images or
// waypoints (waypoint tests use small inputs whose percentiles are worked
// out by hand). Not a test file itself.
import { SCENES, type LatAction, type LongAction, type Scene } from '../src/domain/enums';
import type { GreedyPrediction, Sample } from '../src/domain/sample';
import { FINE_CONFUSION, FINE_ROWS, GT_ACTIONS, PRED_COLUMNS, SCENE_OF_ROW } from '../src/domain/published-figures';

export function sample(sampleId: number, sceneGt: Scene | null, longActionGt: LongAction | null = 'null', latActionGt: LatAction | null = 'null', waypointsGt: Array<[number, number]> | null = null): Sample {
  return { sampleId, chumUri: null, sceneGt, longActionGt, latActionGt, fineClass: null, oddLabel: null, location: null, waypointsGt, image: null, imageMime: null };
}

export function greedyOf(sampleId: number, scene: Scene | null): GreedyPrediction {
  return { sampleId, scene, longAction: null, latAction: null, waypoints: null, generatedText: scene === null ? 'garbled' : `FINAL_SCENE: ${scene}` };
}

/** 8,613 samples reproducing the published figures exactly (the fixture
 * generator's tables; the tests' expected values are worked out by hand
 * from FIXTURE.md, not read from these). */
export function publishedFixture(): { samples: Sample[]; greedy: Map<number, GreedyPrediction> } {
  const samples: Sample[] = [];
  const greedy = new Map<number, GreedyPrediction>();
  let id = 1;
  for (const gt of [...SCENES, null]) {
    const rows = FINE_ROWS.filter((r) => SCENE_OF_ROW[r] === gt);
    const actions = gt === null ? [['null', 'null', 13] as const] : GT_ACTIONS[gt];
    const actionList = actions.flatMap(([l, a, n]) => Array.from({ length: n }, () => [l as LongAction, a as LatAction] as const));
    let k = 0;
    for (const row of rows) {
      FINE_CONFUSION[row].forEach((n, c) => {
        const col = PRED_COLUMNS[c]!;
        for (let i = 0; i < n; i++, k++, id++) {
          const [l, a] = actionList[k]!;
          samples.push(sample(id, gt, l, a));
          greedy.set(id, greedyOf(id, col === 'NULL' ? null : col));
        }
      });
    }
  }
  return { samples, greedy };
}
