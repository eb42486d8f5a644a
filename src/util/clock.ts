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
