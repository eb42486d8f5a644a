// The store's configuration record follows the log: applying a ConfChange entry (which the state machine itself
// ignores, apply.ts) records its configuration with the applied index, in the same transaction, so that a
// snapshot of the state carries the configuration at its index and a reopened store knows it.
import { decodeConfEntry } from '../raft/membership.js';
import { EntryType, type Entry, type Membership } from '../raft/types.js';
import { StorageError, StorageErrorCode } from './errors.js';

/**
 * The configuration after applying `entries`: the latest ConfChange among them (Raft-internal entries the state
 * machine ignores; the store records the configuration with its applied index so that a snapshot carries it).
 */
export function membershipAfter(entries: readonly Entry[], applied: number): Membership | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.index <= applied || e.type !== EntryType.ConfChange) continue;
    const m = decodeConfEntry(e.data);
    if (m === undefined) throw new StorageError(StorageErrorCode.INVALID_ENTRIES, 'state-machine', 'apply', `malformed configuration entry at index ${e.index}`);
    return m;
  }
  return undefined;
}
