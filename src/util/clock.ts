// The real wall clock of this thread, captured when the module loads: a test that replaces Date.now() afterwards
// (to make keys expire) changes what the reads are judged at, but not the measure of how far behind the leader's
// pending writes a read must be judged (boundedReadTime).
export const realWallNow: () => number = Date.now;

/**
 * The time a barrier read judges expiry at: the caller's clock `now` (which a test may have moved), moved back by as
 * much as the real clock `wall`, read with it, is past `bound`, the leader's readBound (src/node/host.ts).
 */
export function boundedReadTime(now: number, wall: number, bound: number): number {
  return now - Math.max(0, wall - bound);
}

/** Unix time in whole seconds (Redis's time(NULL)): what SLOWLOG, the latency monitor and LASTSAVE report. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Unix time in microseconds (Redis's gettimeofday: TIME, MONITOR's timestamps): the wall clock's millisecond, and the
 * microseconds within it from the monotonic clock. The monotonic clock alone (timeOrigin + now()) drifts from the wall
 * clock as NTP slews it: TIME was seen 1.2 ms past Date.now(). Its reading is used only while it falls inside the
 * wall clock's current millisecond, else that millisecond's start.
 */
export function unixMicros(): number {
  const wall = Date.now();
  const precise = performance.timeOrigin + performance.now();
  return Math.floor((precise >= wall && precise < wall + 1 ? precise : wall) * 1000);
}
