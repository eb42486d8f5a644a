// Per-command statistics, as Redis 7's INFO commandstats, latencystats and errorstats count them: the calls of each
// command (a subcommand by its full name, `client|list`), their time, the calls refused before they ran (arity,
// NOAUTH) and those that answered an error; each command's latency percentiles; the error replies by their code.
// A command's time here is from its dispatch to its reply: for a write, the cluster's whole round (Redis's is the
// command's own execution). Bounded: one entry per command of the table, and at most MAX_ERROR_CODES error codes.
import { ErrorReply } from './reply.js';

/**
 * A command's latencies as Redis's HdrHistogram keeps them (nanoseconds, 2 significant digits): the count per
 * bucket, by the bucket's lowest value. At most 90 buckets per decade: about 730 up to a second, small.
 */
class NsHistogram {
  readonly counts = new Map<number, number>();
  total = 0;

  record(ns: number): void {
    const b = bucketOf(ns);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.total++;
  }

  /** The buckets, lowest first: [lowest value, highest equivalent value, count]. */
  sorted(): Array<[number, number, number]> {
    return [...this.counts].sort(([a], [b]) => a - b).map(([low, n]) => [low, low + widthOf(low) - 1, n]);
  }

  /**
   * For each of `ps` (percents, ascending), the highest value of the bucket where that share of the values is reached
   * (hdr_value_at_percentile), from one pass over the buckets.
   */
  atPercentiles(ps: readonly number[]): number[] {
    const out: number[] = [];
    let seen = 0;
    for (const [, high, n] of this.sorted()) {
      seen += n;
      while (out.length < ps.length && seen >= Math.max(1, Math.ceil((ps[out.length]! / 100) * this.total))) out.push(high);
    }
    while (out.length < ps.length) out.push(0);
    return out;
  }
}

/**
 * The width of the bucket of values at `v` ns (an integer, at most Number.MAX_SAFE_INTEGER: bucketOf clamps it, so
 * the loop ends): 1 below 100, then 2 significant digits. The digits are counted by comparing with exact powers of
 * ten (Math.log10 may fall short at one; String(v) costs an allocation per command).
 */
function widthOf(v: number): number {
  let w = 1;
  for (let top = 100; v >= top; top *= 10) w *= 10;
  return w;
}

function bucketOf(ns: number): number {
  const v = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(ns)));
  const w = widthOf(v);
  return Math.floor(v / w) * w;
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

export class CommandStats {
  private readonly commands = new Map<string, CommandStat>();
  private readonly errors = new Map<string, number>();
  /** Every error reply (INFO's total_error_replies), those refused before running included. */
  errorReplies = 0;

  /** `name` ran and was answered after `ms`; `reply` an error makes it a failed call. */
  called(name: string, ms: number, reply: unknown): void {
    const s = this.stat(name);
    s.calls++;
    s.usec += ms * 1000;
    (s.latency ??= new NsHistogram()).record(ms * 1e6);
    if (reply instanceof ErrorReply) {
      s.failed++;
      this.error(reply);
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

  /** INFO latencystats: p50, p99 and p99.9 of each command's times, in µs. */
  latencystats(): Array<[string, string]> {
    const lines: Array<[string, string]> = [];
    for (const [name, s] of this.sorted()) {
      if (s.latency === undefined) continue;
      const [p50, p99, p999] = s.latency.atPercentiles([50, 99, 99.9]).map((ns) => (ns / 1000).toFixed(3));
      lines.push([`latency_percentiles_usec_${name}`, `p50=${p50},p99=${p99},p99.9=${p999}`]);
    }
    return lines;
  }

  /** INFO errorstats: `errorstat_<code>:count=<n>`. */
  errorstats(): Array<[string, string]> {
    return [...this.errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
  }

  /**
   * LATENCY HISTOGRAM: each command called, of `names` when given (a container's name gives its subcommands too),
   * as Redis's fillCommandCDF: cumulative counts at 1024·2^k − 1 ns, each written as whole µs (1, 2, 4, 8, 16, 32, 65, ...).
   */
  histograms(names: readonly string[] | undefined): CommandHistogram[] {
    const all = this.sorted();
    // Redis: every command, or each name in the order given (again if given again), then its subcommands.
    const chosen = names === undefined ? all : names.flatMap((n) => all.filter(([name]) => name === n || name.startsWith(`${n}|`)));
    const out: CommandHistogram[] = [];
    for (const [name, s] of chosen) {
      if (s.latency === undefined) continue;
      const buckets: Array<[number, number]> = [];
      let bound = 1023;
      let cumulative = 0;
      let previous = 0;
      for (const [, high, n] of s.latency.sorted()) {
        while (high > bound) {
          if (cumulative > previous) buckets.push([Math.floor(bound / 1000), cumulative]);
          previous = cumulative;
          bound = bound * 2 + 1;
        }
        cumulative += n;
      }
      if (cumulative > previous) buckets.push([Math.floor(bound / 1000), cumulative]);
      out.push({ name, calls: s.latency.total, buckets });
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
