// ACL LOG: the failed authentications (AUTH, HELLO ... AUTH), as Redis 7.2 logs them (addACLLogEntry in acl.c).
// The default user is the only one and may run every command, so a wrong password is the only denial there is.
// A failure like one of the 10 newest entries (same object, username and context, within 60 s of its last update)
// counts there and moves it to the front; else it is a new entry. At most ACL_LOG_MAX_LEN entries, newest first.

/** Redis's acllog-max-len default. */
export const ACL_LOG_MAX_LEN = 128;
/** Failures this close together are one entry (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA). */
const GROUPING_MS = 60_000;
/** Entries looked at for one to group with (Redis's `toscan`). */
const GROUPING_SCAN = 10;

export interface AclLogEntry {
  count: number;
  /** Always `auth` here. */
  reason: 'auth';
  /** `multi` for a failure inside MULTI. */
  context: 'toplevel' | 'multi';
  /** The command as the client named it (`AUTH`, `hello`). */
  object: Buffer;
  username: Buffer;
  /** CLIENT INFO's line of the client at its last failure, without the newline. */
  clientInfo: string;
  entryId: number;
  /** ms since the epoch. */
  createdAt: number;
  updatedAt: number;
}

export class AclLog {
  private entries: AclLogEntry[] = [];
  private nextId = 0;
  /** Every failed authentication since the start (INFO's acl_access_denied_auth: neither RESET nor RESETSTAT clears it). */
  authFailures = 0;

  authFailed(failure: Pick<AclLogEntry, 'context' | 'object' | 'username' | 'clientInfo'>, now = Date.now()): void {
    this.authFailures++;
    const scanned = this.entries.slice(0, GROUPING_SCAN);
    const i = scanned.findIndex((e) => e.context === failure.context && Math.abs(now - e.updatedAt) <= GROUPING_MS
      && e.object.equals(failure.object) && e.username.equals(failure.username));
    if (i >= 0) {
      const [e] = this.entries.splice(i, 1);
      e!.count++;
      e!.clientInfo = failure.clientInfo;
      e!.updatedAt = now;
      this.entries.unshift(e!);
      return;
    }
    this.entries.unshift({ count: 1, reason: 'auth', ...failure, entryId: this.nextId++, createdAt: now, updatedAt: now });
    if (this.entries.length > ACL_LOG_MAX_LEN) this.entries.length = ACL_LOG_MAX_LEN;
  }

  /** The newest `count` entries (all without a count), newest first. */
  newest(count?: number): readonly AclLogEntry[] {
    return count === undefined ? this.entries : this.entries.slice(0, count);
  }

  /** ACL LOG RESET (the entry ids go on from where they were, as Redis's). */
  reset(): void {
    this.entries = [];
  }
}
