// The real wall clock of this thread, captured when the module loads: a test that replaces Date.now() afterwards
// (to make keys expire) changes what the reads are judged at, but not the measure of how far behind the leader's
// pending writes a read must be judged (src/cluster/reads.ts, readNow).
export const realWallNow: () => number = Date.now;
