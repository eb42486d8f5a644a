// Replies: a small value tree a command handler returns, and the writer that encodes a run of them as
// RESP2 or RESP3 into one buffer (one socket.write per batch of replies).
//
// A handler returns plain values where it can (a Buffer or string is a bulk string, a number an integer,
// null a null bulk, an array an array), and the wrapper classes below for the other types. The protocol of
// the connection decides how nulls, maps, sets, doubles and booleans look on the wire.

export class SimpleString {
  constructor(readonly text: string) {}
}

export class ErrorReply {
  /**
   * `text` is the whole line after '-', with its prefix: "ERR syntax error", "WRONGPASS ...". `latin1`: its
   * characters are bytes (a client's arguments echoed as they came, as Redis does), written one byte each.
   */
  /**
   * `counted`: INFO errorstats counted this error already (a script's error that a command inside it answered, as
   * Redis's ignore_error_stats_update says): the reply that carries it out is not counted again.
   */
  constructor(readonly text: string, readonly latin1 = false, readonly counted = false) {}
}

/** RESP3 map (`%`); RESP2: a flat array of keys and values. */
export class MapReply {
  constructor(readonly entries: Array<[Reply, Reply]>) {}
}

/** RESP3 set (`~`); RESP2: an array. */
export class SetReply {
  constructor(readonly items: Reply[]) {}
}

/** RESP3 boolean (`#`); RESP2: the integer 1 or 0. */
export class BoolReply {
  constructor(readonly value: boolean) {}
}

/**
 * RESP3 double (`,`); RESP2: a bulk string. Written as Redis 7.2's d2string writes it for a finite value JavaScript
 * prints without an exponent (an integral value as an integer, else the shortest decimal: `0.215`).
 */
export class DoubleReply {
  constructor(readonly value: number) {}
}

/** RESP3 verbatim string (`=` with a format, e.g. INFO's "txt"); RESP2: a bulk string. */
export class VerbatimReply {
  constructor(readonly format: string, readonly text: string) {}
}

/** RESP3 push (`>`): pub/sub messages and (un)subscribe confirmations; RESP2: an array. */
export class PushReply {
  private readonly encoded: Array<RawReply | undefined> = [undefined, undefined];

  constructor(readonly items: Reply[]) {}

  /** Its bytes in `protocol`, encoded once for however many subscribers a message goes to. */
  in(protocol: Protocol): RawReply {
    const i = protocol - 2;
    let raw = this.encoded[i];
    if (raw === undefined) {
      const w = (encoder ??= new ReplyWriter());
      w.protocol = protocol;
      w.write(this);
      const chunks = w.take();
      this.encoded[i] = raw = new RawReply(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    }
    return raw;
  }
}

/** The writer PushReply encodes with (one for the module: a message is encoded once, then copied to each subscriber). */
let encoder: ReplyWriter | undefined;

/** Several replies to one command, written one after the other: SUBSCRIBE a b answers once per channel. */
export class Replies {
  constructor(readonly list: Reply[]) {}
}

/** The null array (RESP2 `*-1`, RESP3 `_`): EXEC aborted by WATCH. */
export const NULL_ARRAY = Symbol('null array');

/** Bytes already encoded, written as they are (the same in both protocols): the common constant replies. */
export class RawReply {
  constructor(readonly bytes: Buffer) {}

  /** Its bytes in either protocol (a MONITOR line, pushed as a message is: ../connection.ts). */
  in(): RawReply {
    return this;
  }
}

/**
 * Nothing written: a reply silenced by CLIENT REPLY (it keeps its place: messages held for it wait for it), a command
 * Redis does not answer (MONITOR when monitoring).
 */
export const NO_REPLY = new RawReply(Buffer.alloc(0));

/**
 * What of a reply CLIENT REPLY OFF or SKIP silences still goes out: its pushes, the (P|S)SUBSCRIBE and UNSUBSCRIBE
 * confirmations, which Redis writes whatever the reply mode (its CLIENT_PUSHING), in RESP2 as in RESP3.
 */
export function unsilenced(r: Reply): Reply {
  if (r instanceof PushReply) return r;
  if (!(r instanceof Replies)) return NO_REPLY;
  const pushes = r.list.filter((x) => x instanceof PushReply);
  return pushes.length === 0 ? NO_REPLY : new Replies(pushes);
}

export type Reply =
  | Buffer
  | string
  | number
  | null
  | Reply[]
  | SimpleString
  | ErrorReply
  | MapReply
  | SetReply
  | BoolReply
  | DoubleReply
  | VerbatimReply
  | RawReply
  | PushReply
  | Replies
  | typeof NULL_ARRAY;

export const OK = new RawReply(Buffer.from('+OK\r\n'));
export const QUEUED = new RawReply(Buffer.from('+QUEUED\r\n'));
export const PONG = new RawReply(Buffer.from('+PONG\r\n'));

/** A 64-bit integer's decimal text as an integer reply (a number while it is a safe one). */
export function integerReply(text: string): Reply {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : new RawReply(Buffer.from(`:${text}\r\n`, 'latin1'));
}

/** A HELP reply as Redis gives it: an array of status lines. */
export function helpReply(lines: string[]): Reply {
  return lines.map((l) => new SimpleString(l));
}

export function error(text: string): ErrorReply {
  return new ErrorReply(text);
}

export function isError(r: Reply): r is ErrorReply {
  return r instanceof ErrorReply;
}

export type Protocol = 2 | 3;

const CRLF = Buffer.from('\r\n');
const NULL_BULK_2 = Buffer.from('$-1\r\n');
const NULL_ARRAY_2 = Buffer.from('*-1\r\n');
const NULL_3 = Buffer.from('_\r\n');
/** Values at least this long are written as their own chunk (a view), not copied into the reply buffer. */
const LARGE_BYTES = 16 * 1024;
const INITIAL_BYTES = 16 * 1024;
const SMALL_INTS: Buffer[] = Array.from({ length: 64 }, (_, i) => Buffer.from(`:${i}\r\n`));

/**
 * Encodes replies into a growing buffer; `take()` returns what was written as one Buffer or, when large
 * values were appended as views, a list of chunks (for cork/writev).
 */
export class ReplyWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private len = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(public protocol: Protocol = 2) {}

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.chunkBytes + this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private ascii(s: string): void {
    this.room(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  private bytes(b: Uint8Array): void {
    if (b.length >= LARGE_BYTES) {
      this.seal();
      this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.chunkBytes += b.length;
      return;
    }
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Move what is in `buf` to the chunk list (its own copy: `buf` is reused). */
  private seal(): void {
    if (this.len === 0) return;
    this.chunks.push(Buffer.from(this.buf.subarray(0, this.len)));
    this.chunkBytes += this.len;
    this.len = 0;
  }

  /** Everything written since the last take, as chunks to write in order; [] when nothing. */
  take(): Buffer[] {
    let out: Buffer[];
    if (this.chunks.length === 0) {
      if (this.len === 0) return [];
      const one = Buffer.allocUnsafe(this.len);
      this.buf.copy(one, 0, 0, this.len);
      this.len = 0;
      out = [one];
    } else {
      this.seal();
      out = this.chunks;
      this.chunks = [];
      this.chunkBytes = 0;
    }
    // One large run must not pin a large buffer to an idle connection.
    if (this.buf.length > INITIAL_BYTES * 4) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }

  bulk(b: Uint8Array): void {
    this.ascii(`$${b.length}\r\n`);
    this.bytes(b);
    this.bytes(CRLF);
  }

  write(r: Reply): void {
    if (r === null) return this.bytes(this.protocol === 3 ? NULL_3 : NULL_BULK_2);
    if (r instanceof Uint8Array) return this.bulk(r);
    if (r instanceof RawReply) return this.bytes(r.bytes);
    switch (typeof r) {
      case 'string':
        return this.bulk(Buffer.from(r, 'utf8'));
      case 'number':
        if (Number.isInteger(r) && r >= 0 && r < SMALL_INTS.length) return this.bytes(SMALL_INTS[r]!);
        return this.ascii(`:${Number.isFinite(r) ? Math.trunc(r) : 0}\r\n`);
      case 'symbol':
        return this.bytes(this.protocol === 3 ? NULL_3 : NULL_ARRAY_2);
      default:
        break;
    }
    if (Array.isArray(r)) {
      this.ascii(`*${r.length}\r\n`);
      for (const item of r) this.write(item);
      return;
    }
    this.writeTyped(r);
  }

  private writeTyped(r: SimpleString | ErrorReply | MapReply | SetReply | BoolReply | DoubleReply | VerbatimReply | PushReply | Replies): void {
    if (r instanceof SimpleString) return this.line('+', r.text);
    if (r instanceof PushReply) {
      this.ascii(`${this.protocol === 3 ? '>' : '*'}${r.items.length}\r\n`);
      for (const item of r.items) this.write(item);
      return;
    }
    if (r instanceof Replies) {
      for (const item of r.list) this.write(item);
      return;
    }
    if (r instanceof ErrorReply) return this.line('-', r.text, r.latin1 ? 'latin1' : 'utf8');
    if (r instanceof MapReply) {
      this.ascii(this.protocol === 3 ? `%${r.entries.length}\r\n` : `*${r.entries.length * 2}\r\n`);
      for (const [k, v] of r.entries) {
        this.write(k);
        this.write(v);
      }
      return;
    }
    if (r instanceof SetReply) {
      this.ascii(`${this.protocol === 3 ? '~' : '*'}${r.items.length}\r\n`);
      for (const item of r.items) this.write(item);
      return;
    }
    if (r instanceof BoolReply) return this.ascii(this.protocol === 3 ? (r.value ? '#t\r\n' : '#f\r\n') : r.value ? ':1\r\n' : ':0\r\n');
    if (r instanceof DoubleReply) {
      const text = String(r.value);
      return this.protocol === 3 ? this.ascii(`,${text}\r\n`) : this.bulk(Buffer.from(text, 'latin1'));
    }
    const text = Buffer.from(r.text, 'utf8');
    if (this.protocol === 2) return this.bulk(text);
    this.ascii(`=${text.length + 4}\r\n${r.format}:`);
    this.bytes(text);
    this.bytes(CRLF);
  }

  /** A simple string or error line: CR and LF inside would break the framing, so they become spaces. */
  private line(prefix: string, text: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    const safe = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
    this.bytes(Buffer.from(`${prefix}${safe}\r\n`, encoding));
  }
}
