// A thread's health while it runs: event-loop utilization and garbage-collection pauses, measured in
// the thread itself (performance.eventLoopUtilization() and 'gc' performance entries are per thread).
// Used by the benchmark on the main thread and by NodeHost in each node worker (its metrics()).
import { readFileSync } from 'node:fs';
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

/**
 * CPU time this thread has used, ms (Linux: utime + stime of /proc/thread-self/stat, in USER_HZ ticks of 10 ms);
 * undefined where that file does not exist. For a storage pool thread, whose event loop never idles (piscina
 * waits for tasks in Atomics.wait), CPU time is what tells how busy it was.
 */
export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name (field 2) may hold spaces
    return (Number(fields[11]) + Number(fields[12])) * 10; // fields 14 and 15 of the whole line
  } catch {
    return undefined;
  }
}

/** A storage pool thread's health: its CPU share of the wall time (not its event loop's) and its GC pauses. */
export interface PoolHealthCounters {
  poolCpu: number;
  poolGcCount: number;
  poolGcPauseMs: number;
  poolGcMaxPauseMs: number;
}

export class ThreadHealth {
  private since: EventLoopUtilization = performance.eventLoopUtilization();
  private cpuSince = threadCpuMs();
  private wallSince = performance.now();
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

  /** For a pool thread: CPU share instead of event-loop utilization (0 where the CPU time cannot be read). */
  poolCounters(): PoolHealthCounters {
    const cpu = threadCpuMs();
    const wall = performance.now() - this.wallSince;
    const share = cpu !== undefined && this.cpuSince !== undefined && wall > 0 ? (cpu - this.cpuSince) / wall : 0;
    return { poolCpu: Math.min(1, share), poolGcCount: this.gcCount, poolGcPauseMs: this.gcPauseMs, poolGcMaxPauseMs: this.gcMaxPauseMs };
  }

  reset(): void {
    this.since = performance.eventLoopUtilization();
    this.cpuSince = threadCpuMs();
    this.wallSince = performance.now();
    this.gcCount = 0;
    this.gcPauseMs = 0;
    this.gcMaxPauseMs = 0;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
