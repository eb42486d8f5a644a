// MONITOR, as Redis 7.0 feeds it: every connection in monitor mode gets a line for each command any connection of
// this server ran, once it ran (as its reply is written), in the order they ran:
//   +1700000000.123456 [0 127.0.0.1:50000] "set" "key" "value"
// its arguments quoted as Redis's sdscatrepr quotes them, passwords redacted (./slowlog.ts). Not fed: a command
// refused before it ran (unknown, arity, NOAUTH), and the administrative ones Redis keeps from monitors (CONFIG,
// SLOWLOG, LATENCY, CLIENT LIST/KILL/PAUSE, SHUTDOWN, DEBUG, MONITOR...). A transaction's commands are fed as EXEC
// runs them, then EXEC. A monitor is a replica to Redis: it may not run commands that read or write keys or publish
// (`-ERR Replica can't interact with the keyspace`), and CLIENT PAUSE does not hold it. Writes made through the
// Cluster API, not through this server, are not fed. A monitor that does not read what it is fed is closed at the
// Pub/Sub output bound (maxPubsubOutputBytes), as a slow subscriber is.
import { redacted } from './slowlog.js';
import { RawReply } from './reply.js';
import { unixMicros } from '../util/clock.js';

/** A connection in monitor mode: fed a line, `own` when it ran the command itself (right after that command's reply). */
export interface Monitor {
  readonly id: number;
  feed(line: RawReply, own: boolean): void;
}

export class Monitors {
  private readonly monitors = new Map<number, Monitor>();

  /** `fed`: whether Redis feeds monitors the command of this full name (./dispatch.ts monitored: by its flags). */
  constructor(private readonly fed: (name: string) => boolean) {}

  /** `m` becomes a monitor; false when it is one already. */
  add(m: Monitor): boolean {
    if (this.monitors.has(m.id)) return false;
    this.monitors.set(m.id, m);
    return true;
  }

  remove(id: number): void {
    this.monitors.delete(id);
  }

  has(id: number): boolean {
    return this.monitors.has(id);
  }

  /**
   * Feeds every monitor the command `args` (full name `name`) that the client `from` (its id and address) ran; not
   * to `from` itself when its reply was `silenced` (CLIENT REPLY OFF or SKIP, as Redis silences the line with it).
   */
  feed(name: string, args: readonly Buffer[], from: { id: number; addr: string }, silenced: boolean): void {
    if (this.monitors.size === 0 || !this.fed(name)) return;
    this.send(args, from, silenced);
  }

  /** EVAL's `args` fed whatever its flags say (as Redis's evalCommand feeds it), then the commands its script ran. */
  feedScript(args: readonly Buffer[], calls: ReadonlyArray<[string, Buffer[]]>, from: { id: number; addr: string }, silenced: boolean): void {
    if (this.monitors.size === 0) return;
    this.send(args, from, silenced);
    for (const [name, callArgs] of calls) this.feed(name, callArgs, LUA, false);
  }

  private send(args: readonly Buffer[], from: { id: number; addr: string }, silenced: boolean): void {
    const line = new RawReply(monitorLine(redacted(args), from.addr, unixMicros()));
    for (const m of this.monitors.values()) if (m.id !== from.id || !silenced) m.feed(line, m.id === from.id);
  }
}

/** Where MONITOR says a script's commands come from, as Redis's. */
const LUA = { id: -1, addr: 'lua' };

/** Redis's monitor line of `args` run by `addr` at `us` (µs since the epoch). */
export function monitorLine(args: readonly Buffer[], addr: string, us: number): Buffer {
  const parts = [`+${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')} [0 ${addr}]`];
  for (const a of args) parts.push(quoted(a));
  return Buffer.from(`${parts.join(' ')}\r\n`, 'latin1');
}

const ESCAPED: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b' };

/** Redis's sdscatrepr: in double quotes, `\` `"` and the C escapes escaped, other bytes outside printable ASCII as `\xhh`. */
export function quoted(b: Buffer): string {
  let s = '"';
  let from = 0; // the bytes from here on are copied as they are, up to the next one to escape
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22) continue;
    s += b.toString('latin1', from, i) + (ESCAPED[c] ?? `\\x${c.toString(16).padStart(2, '0')}`);
    from = i + 1;
  }
  return `${s}${b.toString('latin1', from)}"`;
}
