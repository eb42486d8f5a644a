// A thread's health while it runs: event-loop utilization, garbage-collection pauses, and (Linux) the CPU time it
// used and the time it spent runnable but waiting for a CPU, measured in the thread itself
// (performance.eventLoopUtilization(), 'gc' performance entries and /proc/thread-self are per thread). The wait is
// what an oversubscribed machine adds to every hop of a write: on two cores shared by the cluster's threads, a node
// woken by a message or a finished fsync often waits for a core before it runs (docs/benchmarks.md, item 25).
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
  /** Linux: CPU time over wall time since the last reset, 0..1 (absent where /proc/thread-self/schedstat is not). */
  cpu?: number;
  /** Linux: time runnable but waiting for a CPU (the run queue) over wall time since the last reset. */
  waited?: number;
}

/** A thread's scheduler times, ns: on a CPU, and runnable waiting for one. */
export interface SchedTimes {
  runNs: number;
  waitNs: number;
}

/** Parse /proc/<tid>/schedstat: "<ns on a CPU> <ns waiting on a run queue> <timeslices>". */
export function parseSchedstat(text: string): SchedTimes | undefined {
  const f = text.trim().split(/\s+/);
  const runNs = Number(f[0]);
  const waitNs = Number(f[1]);
  return f.length >= 2 && Number.isFinite(runNs) && Number.isFinite(waitNs) ? { runNs, waitNs } : undefined;
}

/**
 * This thread's scheduler times (Linux; undefined where the kernel does not keep them: no file, or "0 0 0", what a
 * kernel without scheduler accounting prints; the calling thread is running, so its own run time is never 0).
 */
export function threadSched(): SchedTimes | undefined {
  try {
    const t = parseSchedstat(readFileSync('/proc/thread-self/schedstat', 'latin1'));
    return t !== undefined && t.runNs > 0 ? t : undefined;
  } catch {
    return undefined;
  }
}

/** CPU and run-queue shares of the wall time between two readings (undefined when either is missing). */
export function schedShares(from: SchedTimes | undefined, to: SchedTimes | undefined, wallMs: number): { cpu: number; waited: number } | undefined {
  if (from === undefined || to === undefined || !(wallMs > 0)) return undefined;
  const wallNs = wallMs * 1e6;
  return { cpu: Math.min(1, (to.runNs - from.runNs) / wallNs), waited: (to.waitNs - from.waitNs) / wallNs };
}

/**
 * CPU time this thread has used, ms (Linux: utime + stime of /proc/thread-self/stat, in USER_HZ ticks of 10 ms);
 * undefined where that file does not exist. For a storage pool thread, whose event loop never idles (piscina
 * waits for tasks in Atomics.wait), CPU time is what tells how busy it was.
 */
export function threadCpuMs(): number | undefined {
  const t = threadCpuTimes();
  return t === undefined ? undefined : t.userMs + t.systemMs;
}

/** This thread's CPU time in user and in system mode, ms (as threadCpuMs, which adds them); undefined off Linux. */
export function threadCpuTimes(): { userMs: number; systemMs: number } | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name (field 2) may hold spaces
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 }; // fields 14 and 15 of the whole line
  } catch {
    return undefined;
  }
}

/**
 * A thread's own memory as its V8 isolate accounts it: the JS heap in use, and `external`, the memory outside the
 * heap that the thread's objects hold (Buffers and ArrayBuffers: log entries, values, frames; LMDB's bindings).
 * Not the process's RSS, which also counts what the C library keeps after a free (docs/api.md, "Memory").
 */
export interface ThreadMemory {
  heapUsedBytes: number;
  externalBytes: number;
}

/** This thread's ThreadMemory (process.memoryUsage() is per thread for the heap and external figures). */
export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, externalBytes: m.external };
}

/** Its heap in use and external memory together. */
export function memoryBytes(m: ThreadMemory): number {
  return m.heapUsedBytes + m.externalBytes;
}

/** The storage pool thread's ThreadMemory, in a node's metrics (always, unlike its health figures). */
export interface PoolMemoryCounters {
  poolHeapUsedBytes: number;
  poolExternalBytes: number;
}

export function poolMemory(): PoolMemoryCounters {
  const m = threadMemory();
  return { poolHeapUsedBytes: m.heapUsedBytes, poolExternalBytes: m.externalBytes };
}

/** A storage pool thread's health: its CPU share of the wall time (not its event loop's) and its GC pauses. */
export interface PoolHealthCounters {
  poolCpu: number;
  /** Linux: the pool thread's run-queue wait over wall time (see ThreadHealthCounters.waited). */
  poolWaited?: number;
  poolGcCount: number;
  poolGcPauseMs: number;
  poolGcMaxPauseMs: number;
}

export class ThreadHealth {
  private since: EventLoopUtilization = performance.eventLoopUtilization();
  private cpuSince = threadCpuMs();
  private schedSince = threadSched();
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
    const c: ThreadHealthCounters = { elu: u.utilization, gcCount: this.gcCount, gcPauseMs: this.gcPauseMs, gcMaxPauseMs: this.gcMaxPauseMs };
    const sh = schedShares(this.schedSince, threadSched(), performance.now() - this.wallSince);
    if (sh !== undefined) {
      c.cpu = sh.cpu;
      c.waited = sh.waited;
    }
    return c;
  }

  /** For a pool thread: CPU share instead of event-loop utilization (0 where the CPU time cannot be read). */
  poolCounters(): PoolHealthCounters {
    const wall = performance.now() - this.wallSince;
    const sh = schedShares(this.schedSince, threadSched(), wall);
    const out: PoolHealthCounters = { poolCpu: 0, poolGcCount: this.gcCount, poolGcPauseMs: this.gcPauseMs, poolGcMaxPauseMs: this.gcMaxPauseMs };
    if (sh !== undefined) {
      out.poolCpu = sh.cpu; // ns, not 10 ms ticks
      out.poolWaited = sh.waited;
    } else {
      const cpu = threadCpuMs();
      out.poolCpu = cpu !== undefined && this.cpuSince !== undefined && wall > 0 ? Math.min(1, (cpu - this.cpuSince) / wall) : 0;
    }
    return out;
  }

  reset(): void {
    this.since = performance.eventLoopUtilization();
    this.cpuSince = threadCpuMs();
    this.schedSince = threadSched();
    this.wallSince = performance.now();
    this.gcCount = 0;
    this.gcPauseMs = 0;
    this.gcMaxPauseMs = 0;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
