// Majority arithmetic (§5.2, §5.3): the only place that knows what "a majority" is.

/** The number of voters that forms a majority. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest value that at least a majority of `values` are >= to.
 * With match indexes this is the highest index replicated on a majority (§5.3);
 * with read rounds it is the highest round a majority acknowledged (§6.4).
 */
export function quorumValue(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => b - a);
  const v = sorted[majority(values.length) - 1];
  return v ?? 0;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Tallies granted / rejected votes among `voterCount` voters (§5.2). */
export function voteResult(votes: ReadonlyMap<number, boolean>, voterCount: number): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const g of votes.values()) {
    if (g) granted++;
    else rejected++;
  }
  const q = majority(voterCount);
  if (granted >= q) return 'won';
  if (rejected > voterCount - q) return 'lost';
  return 'pending';
}
