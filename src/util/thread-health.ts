// A thread's health while it runs: event-loop utilization and garbage-collection pauses, measured in
// the thread itself (performance.eventLoopUtilization() and 'gc' performance entries are per thread).
// Used by the benchmark on the main thread and by NodeHost in each node worker (its metrics()).
import { PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Plain numbers, so they travel in a node's metrics counters. */
export interface ThreadHealthCounters {
  /** Event-loop utilization since the last reset, 0..1 (the share of time the loop was not idle). */
  elu: number;
  gcCount: number;
  /** Sum and longest of the GC pauses since the last reset, ms. */
  gcPauseMs: number;
  gcMaxPauseMs: number;
}

export class ThreadHealth {
  private since: EventLoopUtilization = performance.eventLoopUtilization();
  private gcCount = 0;
  private gcPauseMs = 0;
  private gcMaxPauseMs = 0;
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      this.gcCount++;
      this.gcPauseMs += e.duration;
      if (e.duration > this.gcMaxPauseMs) this.gcMaxPauseMs = e.duration;
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  counters(): ThreadHealthCounters {
    const u = performance.eventLoopUtilization(this.since);
    return { elu: u.utilization, gcCount: this.gcCount, gcPauseMs: this.gcPauseMs, gcMaxPauseMs: this.gcMaxPauseMs };
  }

  reset(): void {
    this.since = performance.eventLoopUtilization();
    this.gcCount = 0;
    this.gcPauseMs = 0;
    this.gcMaxPauseMs = 0;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
