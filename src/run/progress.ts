// Progress display: a live line per endpoint on a terminal, plain periodic
// lines otherwise, nothing with --quiet. Rendering runs on a timer from
// counters the driver updates anyway, so it never slows the run.
import type { ExperimentProgress } from './experiment';
import type { EndpointLimiter } from './limiter';

export interface ProgressSource {
  label: string;
  experiments: () => ExperimentProgress[];
  limiter: EndpointLimiter | null;
  serverWaiting: () => number | null;
}

function fmtEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  if (s < 90) return `${Math.round(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function progressLine(src: ProgressSource, now: number): string {
  const exps = src.experiments();
  const done = exps.reduce((a, e) => a + e.done, 0);
  const total = exps.reduce((a, e) => a + e.total, 0);
  const failed = exps.reduce((a, e) => a + e.failed, 0);
  const resumed = exps.reduce((a, e) => a + e.resumed, 0);
  const started = Math.min(...exps.map((e) => e.startedAt));
  const secs = Math.max(1e-3, (now - started) / 1000);
  const rate = (done - resumed) / secs;
  const current = exps.find((e) => e.done < e.total)?.conditionId ?? 'done';
  const waiting = src.serverWaiting();
  return `${src.label.padEnd(12)} ${String(done).padStart(6)}/${total} ${rate.toFixed(0).padStart(5)} samples/s  in flight ${String(src.limiter?.inFlight ?? 0).padStart(3)}/${src.limiter?.limit ?? '-'}  server queue ${waiting ?? '-'}  errors ${failed}  ETA ${fmtEta((total - done) / rate)}  [${current}]`;
}

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private lines = 0;
  private readonly tty: boolean;

  constructor(private readonly sources: () => ProgressSource[], private readonly quiet: boolean, private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY) && !process.env['CI'];
  }

  start(): void {
    if (this.quiet) return;
    this.timer = setInterval(() => this.render(), this.tty ? 250 : 10_000);
    this.timer.unref();
  }

  render(): void {
    const now = performance.now();
    const lines = this.sources().map((s) => progressLine(s, now));
    if (this.tty) {
      if (this.lines) this.out.write(`\x1b[${this.lines}A`);
      for (const l of lines) this.out.write(`\x1b[2K${l}\n`);
      this.lines = lines.length;
    } else {
      for (const l of lines) this.out.write(`${l}\n`);
    }
  }

  /** Prints a message above the live lines. */
  log(line: string): void {
    if (this.quiet) return;
    if (this.tty && this.lines) {
      this.out.write(`\x1b[${this.lines}A\x1b[0J`);
      this.lines = 0;
    }
    this.out.write(`${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.quiet) this.render();
    this.lines = 0;
  }
}
