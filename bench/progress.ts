// The progress display: a bar per scenario (its throughput, and the time left for the whole suite), or a
// line per scenario when stderr is not a terminal. Progress goes to stderr, so stdout can carry --json.
import cliProgress from 'cli-progress';

export interface ScenarioProgress {
  onProgress: ((opsDone: number, elapsedMs: number) => void) | undefined;
  stop(): void;
}

/** "1h02m", "2m05s", "12s". */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * The suite's time left: the estimates of the scenarios not begun, plus what is left of the current one,
 * scaled by how long the finished scenarios took against their estimates (bounded to [0.5, 3]).
 */
export class SuiteTimer {
  private index = -1;
  private startedAt = 0;
  private doneActualMs = 0;
  private doneEstimatedMs = 0;

  constructor(
    private readonly estimatesMs: readonly number[],
    private readonly now: () => number = () => performance.now(),
  ) {
    if (estimatesMs.some((e) => !(e >= 0))) throw new Error('estimates must be non-negative');
  }

  /** Scenario `i` (0-based) begins; the previous one, if any, ended now. */
  begin(i: number): void {
    if (i < 0 || i >= this.estimatesMs.length) throw new Error(`scenario ${i} of ${this.estimatesMs.length}`);
    const t = this.now();
    if (this.index >= 0) {
      this.doneActualMs += t - this.startedAt;
      this.doneEstimatedMs += this.estimatesMs[this.index]!;
    }
    this.index = i;
    this.startedAt = t;
  }

  get position(): { index: number; count: number } {
    return { index: this.index, count: this.estimatesMs.length };
  }

  leftMs(): number {
    const scale = this.doneEstimatedMs > 0 ? Math.min(3, Math.max(0.5, this.doneActualMs / this.doneEstimatedMs)) : 1;
    if (this.index < 0) return this.estimatesMs.reduce((a, b) => a + b, 0) * scale;
    const current = Math.max(0, this.estimatesMs[this.index]! * scale - (this.now() - this.startedAt));
    const later = this.estimatesMs.slice(this.index + 1).reduce((a, b) => a + b, 0) * scale;
    return current + later;
  }
}

export class SuiteProgress {
  readonly timer: SuiteTimer;

  constructor(estimatesMs: readonly number[], private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.timer = new SuiteTimer(estimatesMs);
  }

  private where(): string {
    const { index, count } = this.timer.position;
    return `${index + 1}/${count}, suite ~${formatLeft(this.timer.leftMs())} left`;
  }

  /** A line (not a bar) for steps that have none, e.g. compare's raw LMDB floor. */
  note(text: string): void {
    this.stream.write(`${text} (${this.where()})\n`);
  }

  /** A bar for one load of `totalMs` (a scenario, or one row of compare). */
  bar(label: string, totalMs: number): ScenarioProgress {
    if (!this.stream.isTTY) {
      this.stream.write(`running ${label} (${this.where()})...\n`);
      return { onProgress: undefined, stop() {} };
    }
    const bar = new cliProgress.SingleBar(
      { stream: this.stream, format: `${label.slice(0, 40).padEnd(40)} [{bar}] {percentage}% | {rate} ops/s | {where}`, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalMs, 0, { rate: 0, where: this.where() });
    let lastOps = 0;
    let lastMs = 0;
    return {
      onProgress: (ops, elapsedMs) => {
        const rate = elapsedMs > lastMs ? Math.round(((ops - lastOps) * 1000) / (elapsedMs - lastMs)) : 0;
        lastOps = ops;
        lastMs = elapsedMs;
        bar.update(Math.min(totalMs, elapsedMs), { rate, where: this.where() });
      },
      stop: () => bar.stop(),
    };
  }
}
