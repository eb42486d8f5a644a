// Redis's instantaneous metrics, INFO stats' instantaneous_ops_per_sec, instantaneous_input_kbps and
// instantaneous_output_kbps: every 100 ms each counter's rate per second since the previous sample is recorded, and a
// metric is the mean of its last 16 samples (1.6 s), as Redis's trackInstantaneousMetric and getInstantaneousMetric
// (server.c) compute them, in whole units.

/** How often a sample is taken (Redis's serverCron `run_with_period(100)`). */
export const SAMPLE_PERIOD_MS = 100;
/** Samples per metric (Redis's STATS_METRIC_SAMPLES). */
export const SAMPLES = 16;

interface Track {
  samples: number[];
  idx: number;
  lastCount: number;
}

export class InstantaneousMetrics<Name extends string> {
  private readonly tracks = new Map<Name, Track>();
  private lastTime: number;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `counters` reads the counters' totals now, by name; `clock` is a monotonic time in ms. Nothing is sampled until
   * start().
   */
  constructor(
    private readonly counters: () => Record<Name, number>,
    private readonly clock: () => number = () => Math.floor(performance.now()),
  ) {
    for (const [name, c] of Object.entries(counters()) as Array<[Name, number]>) {
      this.tracks.set(name, { samples: new Array<number>(SAMPLES).fill(0), idx: 0, lastCount: c });
    }
    this.lastTime = this.clock();
  }

  /** Sample every SAMPLE_PERIOD_MS until close() (an unref'd timer: it keeps no process alive). */
  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_PERIOD_MS).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample of each counter: its increase since the previous sample, per second (0 if no time passed). */
  sample(): void {
    const now = this.clock();
    const t = now - this.lastTime;
    const counts = this.counters();
    this.tracks.forEach((track, name) => {
      const c = counts[name];
      track.samples[track.idx] = t > 0 ? Math.trunc(((c - track.lastCount) * 1000) / t) : 0;
      track.idx = (track.idx + 1) % SAMPLES;
      track.lastCount = c;
    });
    this.lastTime = now;
  }

  /** The metric of a counter: the mean of its samples, rounded down. */
  value(name: Name): number {
    let sum = 0;
    for (const s of this.tracks.get(name)!.samples) sum += s;
    return Math.trunc(sum / SAMPLES);
  }

  /** The metric of a counter of bytes in KiB per second, with two decimals (INFO's `instantaneous_*_kbps`). */
  kbps(name: Name): string {
    return (this.value(name) / 1024).toFixed(2);
  }

  /** CONFIG RESETSTAT: every sample forgotten, the counters read again (Redis's resetServerStats). */
  reset(): void {
    const counts = this.counters();
    this.tracks.forEach((track, name) => {
      track.samples.fill(0);
      track.idx = 0;
      track.lastCount = counts[name];
    });
    this.lastTime = this.clock();
  }
}
