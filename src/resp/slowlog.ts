// The slow log, as Redis 7's SLOWLOG keeps it: the commands that took at least `slowerThanUs` (µs), newest first,
// at most `maxLen` of them. An entry keeps a command's first 32 arguments (the last of them then says how many more
// there were) and each argument's first 128 bytes (then how many more), as Redis does, so an entry stays small
// whatever the command was. A command's time is from its dispatch to its reply (INFO commandstats' time, see
// ./command-stats.ts): for a write, the cluster's whole round. A command queued in MULTI is logged as EXEC answers
// it, with the transaction's time (its commands are one cluster write); EXEC itself is not logged, as on Redis.
import { unixSeconds } from '../util/clock.js';
import { keyword } from './args.js';

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;

/** The largest slowlog-max-len CONFIG SET takes (Redis takes any): 10,000 entries of at most ~5 KiB each. */
export const MAX_SLOWLOG_LEN = 10_000;

const REDACTED = Buffer.from('(redacted)');

export interface SlowLogEntry {
  id: number;
  /** Unix time in seconds when it was logged. */
  time: number;
  /** Microseconds from its dispatch to its reply. */
  us: number;
  args: Buffer[];
  /** The client's address (`ip:port`) and name. */
  addr: string;
  name: string;
}

export class SlowLog {
  /** Commands taking at least this many µs are logged; a negative threshold logs none (slowlog-log-slower-than). */
  slowerThanUs = 10_000;
  /** The entries kept (slowlog-max-len). */
  private maxLen = 128;
  /** Oldest first, the log being the last maxLen of them (the older ones are dropped in bulk); read newest first. */
  private entries: SlowLogEntry[] = [];
  private nextId = 0;

  /** Logs the command `args` that took `us` µs if it is slow, and drops the oldest entries past maxLen. */
  add(args: readonly Buffer[], us: number, client: { addr: string; name: string }): void {
    if (this.slowerThanUs < 0) return;
    if (us >= this.slowerThanUs) {
      this.entries.push({ id: this.nextId++, time: unixSeconds(), us: Math.floor(us), args: kept(redacted(args)), addr: client.addr, name: client.name });
    }
    this.trim();
  }

  setMaxLen(n: number): void {
    this.maxLen = n;
    if (this.entries.length > n) this.entries.splice(0, this.entries.length - n);
  }

  get maxLength(): number {
    return this.maxLen;
  }

  /** The newest `count` entries (all when count is undefined), newest first. */
  newest(count?: number): SlowLogEntry[] {
    const n = Math.min(count ?? this.length, this.length);
    return this.entries.slice(this.entries.length - n).reverse();
  }

  get length(): number {
    return Math.min(this.entries.length, this.maxLen);
  }

  /** Empties the log; entry ids go on from where they were, as on Redis. */
  reset(): void {
    this.entries = [];
  }

  /** Drops the entries past maxLen once there are 64 of them (a slow command's entry then costs no shift of the rest). */
  private trim(): void {
    if (this.entries.length >= this.maxLen + 64) this.entries.splice(0, this.entries.length - this.maxLen);
  }
}

/** An entry's copy of the arguments, cut as Redis cuts them (copied: an argument may be a slice of a large read buffer). */
function kept(args: readonly Buffer[]): Buffer[] {
  const n = Math.min(args.length, MAX_ARGS);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (n !== args.length && i === n - 1) {
      out.push(Buffer.from(`... (${args.length - n + 1} more arguments)`));
      break;
    }
    const a = args[i]!;
    out.push(a.length > MAX_ARG_BYTES ? Buffer.concat([a.subarray(0, MAX_ARG_BYTES), Buffer.from(`... (${a.length - MAX_ARG_BYTES} more bytes)`)]) : Buffer.from(a));
  }
  return out;
}

/**
 * The arguments with passwords replaced by `(redacted)`, as Redis logs and monitors them (./monitor.ts): AUTH's, HELLO's AUTH pair, and
 * CONFIG SET requirepass's value, ACL SETUSER's user and rules. Redis redacts as the command parses them (an AUTH of more than 3 arguments, a
 * HELLO with a bad version, stop first); here they always are, so no password is ever logged.
 */
export function redacted(args: readonly Buffer[]): readonly Buffer[] {
  const name = args[0];
  if (keyword(name, 'AUTH')) return args.map((a, i) => (i === 0 ? a : REDACTED));
  const out = [...args];
  if (keyword(name, 'HELLO')) {
    for (let i = 2; i < out.length; i++) {
      if (keyword(out[i], 'AUTH') && i + 2 < out.length) {
        out[i + 1] = REDACTED;
        out[i + 2] = REDACTED;
        i += 2;
      } else if (keyword(out[i], 'SETNAME')) {
        i++;
      }
    }
    return out;
  }
  if (keyword(name, 'ACL') && keyword(out[1], 'SETUSER')) return args.map((a, i) => (i < 2 ? a : REDACTED));
  if (keyword(name, 'CONFIG') && keyword(out[1], 'SET')) {
    for (let i = 2; i + 1 < out.length; i += 2) if (keyword(out[i], 'REQUIREPASS')) out[i + 1] = REDACTED;
    return out;
  }
  return args;
}
