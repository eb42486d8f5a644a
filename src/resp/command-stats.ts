// Per-command statistics, as Redis 7's INFO commandstats, latencystats and errorstats count them: the calls of each
// command (a subcommand by its full name, `client|list`), their time, the calls refused before they ran (arity,
// NOAUTH) and those that answered an error; each command's latency percentiles; the error replies by their code.
// A command's time here is from its dispatch to its reply: for a write, the cluster's whole round (Redis's is the
// command's own execution). Bounded: one entry per command of the table, and at most MAX_ERROR_CODES error codes.
import { fixedExact } from '../util/printf.js';
import { ErrorReply, type Reply } from './reply.js';

/**
 * Redis's per-command latency histogram (LATENCY_HISTOGRAM_MIN_VALUE, MAX_VALUE and PRECISION): an HdrHistogram
 * from 1 ns to 1 s with 2 significant digits. Its layout: 256 sub-buckets, so values below 256 ns have a slot each,
 * and each power of two above is cut into 128 slots twice as wide as the previous power's; 23 buckets reach past
 * 1 s, (23 + 1) · 128 slots in all. Times are clamped to [1 ns, 1 s] as Redis clamps them.
 */
const SUB_BUCKET_HALF_MAGNITUDE = 7;
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const MAX_NS = 1_000_000_000;
const SLOTS = (23 + 1) * SUB_BUCKET_HALF_COUNT;

/** The slot of `v` ns (an integer in [1, 2^31)), as HdrHistogram's counts_index. */
export function nsSlot(v: number): number {
  const bucket = Math.max(31 - Math.clz32(v) - SUB_BUCKET_HALF_MAGNITUDE, 0);
  return ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + (v >>> bucket) - SUB_BUCKET_HALF_COUNT;
}

/** Slot `i`'s lowest and highest value (lowest_equivalent_value, highest_equivalent_value). */
export function nsSlotRange(i: number): [number, number] {
  const bucket = Math.max((i >> SUB_BUCKET_HALF_MAGNITUDE) - 1, 0);
  const sub = i < 2 * SUB_BUCKET_HALF_COUNT ? i : (i & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  const low = sub * 2 ** bucket;
  return [low, low + 2 ** bucket - 1];
}

/** A command's latencies: the count per slot (a Map: most commands touch a few dozen of the 3,072 slots). */
class NsHistogram {
  private readonly counts = new Map<number, number>();
  total = 0;

  record(ns: number): void {
    const slot = nsSlot(Math.min(MAX_NS, Math.max(1, Math.round(ns))));
    this.counts.set(slot, (this.counts.get(slot) ?? 0) + 1);
    this.total++;
  }

  /** The slots counted, lowest first: [slot, count]. */
  sorted(): Array<[number, number]> {
    return [...this.counts].sort(([a], [b]) => a - b);
  }

  /**
   * For each of `ps` (in any order), hdr_value_at_percentile as Redis's copy of it computes it: the slot where the
   * count reaches p/100 of the total, rounded half up (at least 1), read as its highest value (its lowest for 0, as -0).
   */
  atPercentiles(ps: readonly number[]): number[] {
    const slots = this.sorted();
    return ps.map((p) => {
      const target = Math.max(1, Math.trunc((Math.min(p, 100) / 100) * this.total + 0.5));
      let seen = 0;
      for (const [slot, n] of slots) {
        seen += n;
        if (seen >= target) return nsSlotRange(slot)[p === 0 ? 0 : 1];
      }
      return 0;
    });
  }

  /**
   * Redis's fillCommandCDF: HdrHistogram's logarithmic iteration from 1024 ns, doubling. At each level the count of
   * every slot up to the level's own, written as that slot's highest value in whole µs (1, 2, 4, 8, 16, 33, 66, ...),
   * where the count grows. A level past the last slot (2^30 ns) reports the last slot's highest value with every count.
   */
  cumulative(): Array<[number, number]> {
    const slots = this.sorted();
    const out: Array<[number, number]> = [];
    let cumulative = 0;
    let previous = 0;
    let j = 0;
    for (let level = 1024; cumulative < this.total; level *= 2) {
      let highest: number;
      const limit = nsSlot(level);
      if (limit >= SLOTS) {
        cumulative = this.total;
        highest = nsSlotRange(SLOTS - 1)[1];
      } else {
        while (j < slots.length && slots[j]![0] <= limit) cumulative += slots[j++]![1];
        highest = nsSlotRange(limit)[1];
      }
      if (cumulative > previous) out.push([Math.floor(highest / 1000), cumulative]);
      previous = cumulative;
    }
    return out;
  }
}

interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  latency: NsHistogram | undefined;
}

/** One command's LATENCY HISTOGRAM: its calls and the cumulative counts at Redis's power-of-two bounds (µs). */
export interface CommandHistogram {
  name: string;
  calls: number;
  /** [bound in µs, values at or below it], a bound only where the count grows. */
  buckets: Array<[number, number]>;
}

/** Redis keeps 128 error codes, then stops adding (ERROR_STATS_NUMBER). */
const MAX_ERROR_CODES = 128;

/** INFO latencystats' percentiles when the server starts (Redis's latency-tracking-info-percentiles). */
const DEFAULT_PERCENTILES: readonly number[] = [50, 99, 99.9];

/**
 * The errors inside a reply (a script's, a table of its redis.pcall replies and of its own {err = ...}), as Redis
 * counts them: each one INFO errorstats counted already (a command inside the script answered it) is a failed call of
 * the command whose reply carries it (afterErrorReply with ERR_REPLY_FLAG_NO_STATS_UPDATE), returned as their number;
 * the others go to `fresh`, each counted in errorstats, together one failed call.
 */
function countedErrors(reply: readonly Reply[], fresh: ErrorReply[]): number {
  let n = 0;
  for (const r of reply) {
    if (r instanceof ErrorReply) {
      if (r.counted) n++;
      else fresh.push(r);
    } else if (Array.isArray(r)) n += countedErrors(r, fresh);
  }
  return n;
}

export class CommandStats {
  private readonly commands = new Map<string, CommandStat>();
  /** CONFIG SET latency-tracking: whether each call's time is recorded (the histograms kept are still read). */
  latencyTracking = true;
  /** CONFIG SET latency-tracking-info-percentiles: INFO latencystats' percentiles, in the order given. */
  percentiles: readonly number[] = DEFAULT_PERCENTILES;
  private readonly errors = new Map<string, number>();
  /** Every error reply (INFO's total_error_replies), those refused before running included. */
  errorReplies = 0;

  /** `name` ran and was answered after `ms`; `reply` an error makes it a failed call. */
  called(name: string, ms: number, reply: unknown): void {
    const s = this.stat(name);
    s.calls++;
    s.usec += ms * 1000;
    if (this.latencyTracking) (s.latency ??= new NsHistogram()).record(ms * 1e6);
    if (reply instanceof ErrorReply) {
      s.failed++;
      if (!reply.counted) this.error(reply);
    } else if (Array.isArray(reply)) {
      const fresh: ErrorReply[] = [];
      s.failed += countedErrors(reply, fresh) + (fresh.length > 0 ? 1 : 0);
      for (const e of fresh) this.error(e);
    }
  }

  /**
   * `name` was queued inside MULTI and answered at EXEC: a call of its own, with a latency sample of 0 (its own part
   * of EXEC, as Redis times each queued command alone inside EXEC; the transaction's round is EXEC's time).
   */
  calledInExec(name: string, reply: unknown): void {
    this.called(name, 0, reply);
  }

  /** Refused before it ran (`name` undefined: an unknown command or subcommand, which no command counts). */
  rejected(name: string | undefined, reply: ErrorReply): void {
    if (name !== undefined) this.stat(name).rejected++;
    this.error(reply);
  }

  /** An error reply: counted by its code, the first word (ERR, WRONGTYPE, EXECABORT, ...). */
  error(reply: ErrorReply): void {
    this.errorReplies++;
    const space = reply.text.indexOf(' ');
    const code = space < 0 ? reply.text : reply.text.slice(0, space);
    const n = this.errors.get(code);
    if (n !== undefined) this.errors.set(code, n + 1);
    else if (this.errors.size < MAX_ERROR_CODES) this.errors.set(code, 1);
  }

  reset(): void {
    this.commands.clear();
    this.errors.clear();
    this.errorReplies = 0;
  }

  /** INFO commandstats: `cmdstat_<name>` of every command called, refused or failed since the start or RESETSTAT. */
  commandstats(): Array<[string, string]> {
    return this.sorted().map(([name, s]) => [
      `cmdstat_${name}`,
      `calls=${s.calls},usec=${Math.round(s.usec)},usec_per_call=${(s.calls === 0 ? 0 : s.usec / s.calls).toFixed(2)},rejected_calls=${s.rejected},failed_calls=${s.failed}`,
    ]);
  }

  /**
   * INFO latencystats: each command's times at `percentiles`, in µs (`p50=...,p99=...`); none while latency tracking
   * is off, as Redis leaves the section empty then.
   */
  latencystats(): Array<[string, string]> {
    if (!this.latencyTracking) return [];
    const lines: Array<[string, string]> = [];
    for (const [name, s] of this.sorted()) {
      const h = s.latency;
      if (h === undefined) continue;
      const ns = h.atPercentiles(this.percentiles);
      const values = this.percentiles.map((p, i) => `p${percentileText(p)}=${(ns[i]! / 1000).toFixed(3)}`);
      lines.push([`latency_percentiles_usec_${name}`, values.join(',')]);
    }
    return lines;
  }

  /** INFO errorstats: `errorstat_<code>:count=<n>`. */
  errorstats(): Array<[string, string]> {
    return [...this.errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
  }

  /**
   * LATENCY HISTOGRAM: each command called, of `names` when given (a container's name gives its subcommands too),
   * as Redis's fillCommandCDF (NsHistogram.cumulative).
   */
  histograms(names: readonly string[] | undefined): CommandHistogram[] {
    const all = this.sorted();
    // Redis: every command, or each name in the order given (again if given again), then its subcommands.
    const chosen = names === undefined ? all : names.flatMap((n) => all.filter(([name]) => name === n || name.startsWith(`${n}|`)));
    const out: CommandHistogram[] = [];
    for (const [name, s] of chosen) {
      if (s.latency === undefined) continue;
      out.push({ name, calls: s.latency.total, buckets: s.latency.cumulative() });
    }
    return out;
  }

  private stat(name: string): CommandStat {
    let s = this.commands.get(name);
    if (s === undefined) {
      s = { calls: 0, usec: 0, rejected: 0, failed: 0, latency: undefined };
      this.commands.set(name, s);
    }
    return s;
  }

  /** By name (Redis lists them in its hash table's order). */
  private sorted(): Array<[string, CommandStat]> {
    return [...this.commands].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** A percentile as Redis writes it, in INFO's field names and CONFIG GET: "%f" without trailing zeros (99.9, 0, -0). */
export function percentileText(p: number): string {
  return fixedExact(p, 6).replace(/\.?0+$/, '');
}
