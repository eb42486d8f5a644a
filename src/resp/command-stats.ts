// Per-command statistics, as Redis 7's INFO commandstats, latencystats and errorstats count them: the calls of each
// command (a subcommand by its full name, `client|list`), their time, the calls refused before they ran (arity,
// NOAUTH) and those that answered an error; each command's latency percentiles; the error replies by their code.
// A command's time here is from its dispatch to its reply: for a write, the cluster's whole round (Redis's is the
// command's own execution). Bounded: one entry per command of the table, and at most MAX_ERROR_CODES error codes.
import { LatencyHistogram } from '../util/histogram.js';
import { ErrorReply } from './reply.js';

interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  latency: LatencyHistogram | undefined;
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
    (s.latency ??= new LatencyHistogram()).recordMs(ms);
    if (reply instanceof ErrorReply) {
      s.failed++;
      this.error(reply);
    }
  }

  /** `name` was queued inside MULTI and answered at EXEC: a call of its own, its time EXEC's (counted there). */
  calledInExec(name: string, reply: unknown): void {
    const s = this.stat(name);
    s.calls++;
    if (reply instanceof ErrorReply) {
      s.failed++;
      this.error(reply);
    }
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
      const q = s.latency.summary();
      lines.push([`latency_percentiles_usec_${name}`, `p50=${(q.p50 * 1000).toFixed(3)},p99=${(q.p99 * 1000).toFixed(3)},p99.9=${(q.p999 * 1000).toFixed(3)}`]);
    }
    return lines;
  }

  /** INFO errorstats: `errorstat_<code>:count=<n>`. */
  errorstats(): Array<[string, string]> {
    return [...this.errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
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
