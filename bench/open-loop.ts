// Open-loop load (as wrk2 does it): calls are due at a constant rate, call i at start + i / rate, and
// each latency runs from that intended send time, not from when the call was actually sent. A stall of
// the cluster then shows in the latencies of every call that fell due during it (a closed loop would
// record one slow call and simply send less: coordinated omission). Calls in flight are bounded; a call
// held back by the bound still counts its wait, since its intended time does not move.

export interface Clock {
  /** ms on a monotonic clock. */
  now(): number;
  /** Resolves at or after `ms`. */
  sleepUntil(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleepUntil: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms - (performance.timeOrigin + performance.now())))),
};

export interface OpenLoopSpec {
  ratePerSec: number;
  durationMs: number;
  /** Bound on calls in flight (a backstop: far above what the cluster holds at a rate it sustains). */
  maxInFlight: number;
  /** Stop after this many calls (0: no limit). */
  maxCalls?: number;
  /** Stop early when this returns true (checked before each call). */
  stop?: () => boolean;
}

export interface OpenLoopStats {
  sent: number;
  done: number;
  errors: number;
  firstError: string | undefined;
  /** Calls sent more than 1 ms after their intended time (the generator or the in-flight bound fell behind). */
  late: number;
  /**
   * Calls that fell due but were never sent: the run stops sending once it is a whole duration behind
   * (bounded time at a rate far above what the cluster takes). Their latency is unknown, so a run with
   * unsent calls did not sustain its rate.
   */
  unsent: number;
}

/**
 * Runs calls at `spec.ratePerSec`; `call(i)` does the i-th call and resolves with the operations it
 * did; `record(latencyMs, ops, lagMs)` gets each successful call's latency measured from its intended
 * time, and how late it was sent (the generator's own lag: part of the latency, reported apart so that
 * a reader knows the floor it puts under the figures; Node's timers fire at millisecond granularity).
 */
export async function openLoop(
  clock: Clock,
  spec: OpenLoopSpec,
  call: (i: number) => Promise<number>,
  record: (latencyMs: number, ops: number, lagMs: number) => void,
): Promise<OpenLoopStats> {
  if (!(spec.ratePerSec > 0) || !(spec.maxInFlight >= 1)) throw new RangeError('openLoop: rate and maxInFlight must be positive');
  const stats: OpenLoopStats = { sent: 0, done: 0, errors: 0, firstError: undefined, late: 0, unsent: 0 };
  const start = clock.now();
  const end = start + spec.durationMs;
  const intervalMs = 1000 / spec.ratePerSec;
  let inFlight = 0;
  let freed: (() => void) | undefined;
  const settled = new Set<Promise<void>>();
  for (let i = 0; ; i++) {
    const intended = start + i * intervalMs;
    if (intended >= end || (spec.maxCalls !== undefined && spec.maxCalls > 0 && i >= spec.maxCalls) || spec.stop?.()) break;
    if (clock.now() < intended) await clock.sleepUntil(intended);
    while (inFlight >= spec.maxInFlight) await new Promise<void>((r) => (freed = r));
    if (clock.now() > end + spec.durationMs) {
      stats.unsent = Math.ceil((end - intended) / intervalMs);
      break;
    }
    const lagMs = clock.now() - intended;
    if (lagMs > 1) stats.late++;
    inFlight++;
    stats.sent++;
    const p: Promise<void> = call(i).then(
      (ops) => {
        stats.done++;
        record(clock.now() - intended, ops, lagMs);
      },
      (err: unknown) => {
        stats.errors++;
        stats.firstError ??= String(err);
      },
    ).finally(() => {
      inFlight--;
      settled.delete(p);
      const f = freed;
      freed = undefined;
      f?.();
    });
    settled.add(p);
  }
  await Promise.all(settled);
  return stats;
}
