// The suite's bulk load while the suite runs (load-thread.ts drives it from
// a worker thread): each batch a run writer commits is inserted as soon as
// it is on disk, so that after the last sample only the last batches are
// left to load. All experiments of one suite phase share one transaction,
// committed when the phase has ended: a failed or killed run leaves every
// experiment of the open phase out of the database, as the load at the end
// did (the run folders keep them for `--resume` or `tce load`).
//
// Only a run folder that starts empty, for an experiment the database does
// not hold, is streamed: each of its samples is then in exactly one batch.
// A resumed folder (earlier batches, failed attempts to supersede, samples
// already loaded) goes through the ordinary per-experiment load at the
// phase's end, inside the same transaction.
import path from 'node:path';
import { RUN_TABLES, type RunTable } from './arrow-schema';
import { BatchIndex, insertRows, loadExperiment, loadedLine, refuseOtherRun, upsertExperiment, type LoadResult } from './bulk-load';
import type { DB } from './db';
import { EXPERIMENT_FILE, readExperimentFile } from './run-dir';
import { readRunBatch, readRunBatches } from './run-reader';
import { TextStore } from './texts';
import { TceError } from '../util/errors';

interface PhaseExperiment {
  dir: string;
  streamed: boolean;
  finished: boolean;
  seen: Set<number>;
  counts: Record<RunTable, number>;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export class StreamLoad {
  private readonly texts: TextStore;
  private readonly total: LoadResult = { experiments: 0, predictions: 0, turns: 0, toolCalls: 0, skipped: 0 };
  private phase: Map<string, PhaseExperiment> | null = null;
  private readonly holds;

  constructor(private readonly db: DB, private readonly log: (line: string) => void) {
    this.texts = new TextStore(db);
    this.holds = db.prepare('SELECT 1 FROM predictions WHERE experiment_id = ? LIMIT 1').pluck();
  }

  beginPhase(): void {
    if (this.phase) throw new Error('StreamLoad: a phase is already open');
    this.db.exec('BEGIN');
    this.phase = new Map();
  }

  /** An experiment's run folder was opened; `fresh`: it held no batch. */
  opened(id: string, dir: string, fresh: boolean): void {
    const phase = this.open();
    const row = readExperimentFile(dir);
    refuseOtherRun(this.db, id, row, path.join(dir, EXPERIMENT_FILE));
    const streamed = fresh && this.holds.get(id) === undefined;
    phase.set(id, { dir, streamed, finished: false, seen: new Set(), counts: { predictions: 0, turns: 0, tool_calls: 0 } });
  }

  /** Batch `batch` of the experiment's folder is committed on disk. */
  committed(id: string, batch: number): void {
    const x = this.experiment(id);
    if (!x.streamed) return;
    const b = readRunBatch(x.dir, batch, { textAsBytes: true });
    const idx = new BatchIndex(b);
    for (const sid of idx.predRow.keys()) {
      if (x.seen.has(sid)) throw new TceError('RUN_DIR_INVALID', `${b.paths.predictions}: sample ${sid} is already in an earlier batch of this run`);
      x.seen.add(sid);
    }
    for (const t of RUN_TABLES) {
      const cells = b.tables[t].cells;
      x.counts[t] += insertRows(this.db, t, [{ cells, rows: range(b.tables[t].length), digests: undefined }], this.texts);
    }
  }

  /** The experiment's final row is on disk (experiment.json). */
  finished(id: string): void {
    const x = this.experiment(id);
    if (x.finished) return;
    x.finished = true;
    if (!x.streamed) return;
    const file = path.join(x.dir, EXPERIMENT_FILE);
    const row = readExperimentFile(x.dir);
    refuseOtherRun(this.db, id, row, file);
    upsertExperiment(this.db, row, file);
    this.log(loadedLine(id, x.counts));
    this.add(x.counts, 0);
  }

  /** Loads the phase's resumed folders and commits the phase. */
  commitPhase(): void {
    const phase = this.open();
    for (const [id, x] of phase) {
      if (x.streamed) { this.finished(id); continue; }
      const copy = { dir: x.dir, file: path.join(x.dir, EXPERIMENT_FILE), row: readExperimentFile(x.dir) };
      const r = loadExperiment(this.db, id, [copy], [readRunBatches(x.dir, { textAsBytes: true })], this.log, this.texts);
      this.add({ predictions: r.predictions, turns: r.turns, tool_calls: r.toolCalls }, r.skipped);
    }
    this.db.exec('COMMIT');
    this.phase = null;
  }

  rollback(): void {
    this.phase = null;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  decision(kind: string, decision: string, detailsJson: string): void {
    this.db.prepare('INSERT INTO run_decisions (kind, decision, details_json) VALUES (?, ?, ?)').run(kind, decision, detailsJson);
  }

  /** The totals. */
  end(): LoadResult {
    if (this.phase) throw new Error('StreamLoad: end() with a phase open');
    return { ...this.total };
  }

  private add(c: Record<RunTable, number>, skipped: number): void {
    this.total.experiments++;
    this.total.predictions += c.predictions;
    this.total.turns += c.turns;
    this.total.toolCalls += c.tool_calls;
    this.total.skipped += skipped;
  }

  private open(): Map<string, PhaseExperiment> {
    if (!this.phase) throw new Error('StreamLoad: no phase open');
    return this.phase;
  }

  private experiment(id: string): PhaseExperiment {
    const x = this.open().get(id);
    if (!x) throw new Error(`StreamLoad: experiment ${id} was not opened in this phase`);
    return x;
  }
}
