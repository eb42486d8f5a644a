// The in-memory Raft log (§5.3): entries from snapshotIndex+1 to lastIndex, plus the commit/apply/stable pointers.
import { assert } from './assert.js';
import type { Entry } from './types.js';

export function entryBytes(e: Entry): number {
  return e.data.length;
}

export class RaftLog {
  /** Every entry up to snapshotIndex is covered by a snapshot and no longer held here. */
  snapshotIndex: number;
  snapshotTerm: number;
  /** entries[i].index === snapshotIndex + 1 + i */
  private entries: Entry[];
  /** Figure 2 commitIndex. */
  commit: number;
  /** Figure 2 lastApplied: advanced only by advance(), i.e. once the host applied. */
  applied: number;
  /** The host persisted the log up to here (told by advance()). */
  stabled: number;
  /**
   * Entries up to here were handed out in a Ready for persisting (stabled <= handedOut): with several Readies
   * in flight (asynchronous storage writes), a new Ready carries only what no earlier one did.
   */
  handedOut: number;
  /** Committed entries up to here were handed out in a Ready for applying (applied <= applying <= commit). */
  applying: number;

  constructor(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[], commit: number, applied: number) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = [];
    this.commit = 0;
    this.applied = 0;
    this.stabled = snapshotIndex;
    this.handedOut = snapshotIndex;
    this.applying = 0;
    if (entries.length > 0) this.appendContiguous(entries);
    this.stabled = this.lastIndex;
    this.handedOut = this.lastIndex;
    this.commit = commit;
    this.applied = applied;
    this.applying = applied;
    this.checkInvariants();
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  get length(): number {
    return this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.snapshotTerm;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1]?.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Entries [lo, hi] (inclusive), both within the log. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo > this.snapshotIndex && hi <= this.lastIndex, () => `slice [${lo}, ${hi}] outside (${this.snapshotIndex}, ${this.lastIndex}]`);
    return this.entries.slice(lo - this.snapshotIndex - 1, hi - this.snapshotIndex);
  }

  /** Entries from `lo` whose data fits in `maxBytes`; at least one when `atLeastOne`. */
  sliceBytes(lo: number, maxBytes: number, atLeastOne: boolean): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= this.lastIndex; i++) {
      const e = this.entry(i);
      assert(e !== undefined, () => `sliceBytes: missing entry ${i}`);
      const size = entryBytes(e);
      if (bytes + size > maxBytes && !(atLeastOne && out.length === 0)) break;
      out.push(e);
      bytes += size;
    }
    return out;
  }

  /** Append entries that continue the log exactly (lastIndex + 1, ...). */
  private appendContiguous(ents: readonly Entry[]): void {
    let expect = this.lastIndex + 1;
    let prevTerm = this.lastTerm();
    for (const e of ents) {
      assert(e.index === expect, () => `entries not contiguous: expected index ${expect}, got ${e.index}`);
      assert(e.term >= prevTerm, () => `entry terms decrease at index ${e.index}: ${e.term} < ${prevTerm}`);
      this.entries.push(e);
      expect++;
      prevTerm = e.term;
    }
  }

  /**
   * Append `ents`, first truncating any conflicting suffix at ents[0].index (§5.3: "delete the existing
   * entry and all that follow it"). Committed entries are never truncated.
   */
  append(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    assert(first.index > this.commit, () => `truncating committed entry ${first.index} (commit ${this.commit})`);
    assert(first.index <= this.lastIndex + 1, () => `append leaves a gap: ${first.index} after ${this.lastIndex}`);
    if (first.index <= this.lastIndex) {
      this.entries.length = first.index - this.snapshotIndex - 1;
      // The host truncates its stored log at ents[0].index too; those entries must be persisted again.
      this.stabled = Math.min(this.stabled, first.index - 1);
      this.handedOut = Math.min(this.handedOut, first.index - 1);
    }
    this.appendContiguous(ents);
  }

  /** The first entry of `ents` that is not in the log with the same term, or 0. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (this.term(e.index) !== e.term) return e.index;
    }
    return 0;
  }

  /**
   * The AppendEntries receiver rule (Figure 2): returns the index of the last new entry, or undefined if the
   * log does not contain an entry at prevLogIndex whose term matches prevLogTerm.
   */
  maybeAppend(prevLogIndex: number, prevLogTerm: number, leaderCommit: number, ents: readonly Entry[]): number | undefined {
    if (this.term(prevLogIndex) !== prevLogTerm) return undefined;
    const lastNew = prevLogIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) this.append(ents.slice(conflict - prevLogIndex - 1));
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * etcd's findConflictByTerm: the largest index <= `index` whose term is <= `term` (or the snapshot index).
   * Both sides use it to skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex);
    while (i > this.snapshotIndex) {
      const t = this.term(i);
      if (t !== undefined && t <= term) return i;
      i--;
    }
    return Math.max(i, 0);
  }

  commitTo(index: number): void {
    if (index <= this.commit) return;
    assert(index <= this.lastIndex, () => `commit ${index} beyond lastIndex ${this.lastIndex}`);
    this.commit = index;
  }

  /** The host persisted entries handed out in a Ready: only the prefix still in the log counts (a later truncation may have replaced the rest). */
  stableTo(persisted: readonly Entry[]): void {
    for (let i = persisted.length - 1; i >= 0; i--) {
      const e = persisted[i];
      if (e !== undefined && e.index > this.snapshotIndex && this.term(e.index) === e.term) {
        this.stabled = Math.max(this.stabled, e.index);
        return;
      }
    }
  }

  /** Entries not yet handed out for persisting. */
  unstableEntries(): Entry[] {
    const from = Math.max(this.handedOut, this.snapshotIndex) + 1;
    return from > this.lastIndex ? [] : this.slice(from, this.lastIndex);
  }

  /** A Ready took `entries` to persist and `committed` to apply: the next Ready starts after them. */
  handOut(entries: readonly Entry[], committed: readonly Entry[]): void {
    const lastEntry = entries[entries.length - 1];
    if (lastEntry !== undefined) this.handedOut = Math.max(this.handedOut, lastEntry.index);
    const lastCommitted = committed[committed.length - 1];
    if (lastCommitted !== undefined) this.applying = Math.max(this.applying, lastCommitted.index);
  }

  /** Committed entries not yet handed out for applying, at most maxBytes of data (at least one entry). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    const from = Math.max(this.applying, this.snapshotIndex) + 1;
    if (from > this.commit) return [];
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i <= this.commit; i++) {
      const e = this.entry(i);
      assert(e !== undefined, () => `committed entry ${i} missing`);
      if (out.length > 0 && bytes + entryBytes(e) > maxBytes) break;
      out.push(e);
      bytes += entryBytes(e);
    }
    return out;
  }

  hasNextCommittedEntries(): boolean {
    return Math.max(this.applying, this.snapshotIndex) < this.commit;
  }

  /** The state machine covers everything up to `index`: drop those entries (log compaction, §7). */
  compact(index: number, term: number): void {
    assert(index <= this.applied, () => `compact(${index}) beyond applied ${this.applied}`);
    assert(this.term(index) === term, () => `compact(${index}): term ${term} does not match the log's ${this.term(index)}`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.checkInvariants();
  }

  /** A snapshot from the leader replaces the whole log (§7). */
  restore(index: number, term: number): void {
    assert(index > this.commit, () => `restore(${index}) not beyond commit ${this.commit}`);
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.commit = index;
    this.stabled = Math.min(this.stabled, index);
    this.handedOut = Math.min(this.handedOut, index);
  }

  checkInvariants(): void {
    assert(this.commit <= this.lastIndex, () => `commit ${this.commit} > lastIndex ${this.lastIndex}`);
    assert(this.applied <= this.commit, () => `applied ${this.applied} > commit ${this.commit}`);
    assert(this.snapshotIndex <= this.commit, () => `snapshotIndex ${this.snapshotIndex} > commit ${this.commit}`);
    assert(this.stabled <= this.lastIndex, () => `stabled ${this.stabled} > lastIndex ${this.lastIndex}`);
    assert(this.handedOut <= this.lastIndex, () => `handedOut ${this.handedOut} > lastIndex ${this.lastIndex}`);
    assert(this.applying <= this.commit, () => `applying ${this.applying} > commit ${this.commit}`);
    const first = this.entries[0];
    assert(first === undefined || first.index === this.snapshotIndex + 1, 'first entry does not follow the snapshot');
    const last = this.entries[this.entries.length - 1];
    assert(last === undefined || last.index === this.lastIndex, 'last entry index does not match the log length');
  }
}
