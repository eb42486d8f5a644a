// Just enough RESP for the RESP benchmark (RESP2; RESP3's types are parsed for the differential test): encode a
// command, parse replies from a byte stream, and a one-request-at-a-time connection for readiness checks (PING,
// INFO). No client library: the load generator must be cheap and its cost visible, and the harness must not
// depend on the server under test.
import { connect, type Socket } from 'node:net';

/** An integer past JavaScript's safe ones (Redis's are 64-bit) is a bigint, exact. */
export type RespValue = string | number | bigint | null | RespError | Resp3 | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

/**
 * A reply of a type only RESP3 has (after HELLO 3), kept apart from the RESP2 look-alikes so that a null `_` is
 * not taken for `$-1`: `type` is its first byte; `value` the text (`,` `(` `=` `!`: as sent), true/false (`#`),
 * null (`_`) or the items (`%` a map's keys and values in turn, `~` a set, `>` a push).
 */
export class Resp3 {
  constructor(readonly type: string, readonly value: RespValue | boolean) {}
}

/** A command as a RESP array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');
/** Nesting deeper than this is not a reply of any command the benchmark or the tests send (COMMAND INFO nests 9 deep). */
const MAX_DEPTH = 12;

/** One reply starting at `off` (bulk strings decoded with `encoding`: 'latin1' keeps their bytes), or undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, off: number, depth = 0, encoding: BufferEncoding = 'utf8'): { value: RespValue; end: number } | undefined {
  if (off >= buf.length) return undefined;
  const lineEnd = buf.indexOf(CRLF, off);
  if (lineEnd < 0) return undefined;
  const type = buf[off];
  const line = buf.toString('latin1', off + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // '+'
      return { value: line, end: next };
    case 0x2d: // '-'
      return { value: new RespError(line), end: next };
    case 0x3a: {
      // ':'
      const n = Number(line);
      return { value: Number.isSafeInteger(n) ? n : BigInt(line), end: next };
    }
    case 0x24: {
      // '$'
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (!Number.isInteger(len)) throw new Error(`bad bulk length ${line}`);
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString(encoding, next, next + len), end: next + len + 2 };
    }
    case 0x2a: {
      // '*'
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      return parseItems(buf, next, n, depth, encoding);
    }
    // RESP3 (after HELLO 3)
    case 0x5f: // '_'
      return { value: new Resp3('_', null), end: next };
    case 0x23: // '#'
      return { value: new Resp3('#', line === 't'), end: next };
    case 0x2c: // ','
    case 0x28: // '('
      return { value: new Resp3(String.fromCharCode(type), line), end: next };
    case 0x3d: // '='
    case 0x21: {
      // '!'
      const len = Number(line);
      if (!Number.isInteger(len) || len < 0) throw new Error(`bad blob length ${line}`);
      if (buf.length < next + len + 2) return undefined;
      return { value: new Resp3(String.fromCharCode(type), buf.toString(encoding, next, next + len)), end: next + len + 2 };
    }
    case 0x25: // '%'
    case 0x7e: // '~'
    case 0x3e: {
      // '>'
      const r = parseItems(buf, next, type === 0x25 ? 2 * Number(line) : Number(line), depth, encoding);
      return r && { value: new Resp3(String.fromCharCode(type), r.value), end: r.end };
    }
    default:
      throw new Error(`unexpected RESP type byte 0x${(type ?? 0).toString(16)}`);
  }
}

/** `n` replies in a row from `at`: an aggregate's items. */
function parseItems(buf: Buffer, at: number, n: number, depth: number, encoding: BufferEncoding): { value: RespValue[]; end: number } | undefined {
  if (!Number.isInteger(n) || n < 0 || depth >= MAX_DEPTH) throw new Error(`bad aggregate length ${n}`);
  const items: RespValue[] = [];
  for (let i = 0; i < n; i++) {
    const r = parseReply(buf, at, depth + 1, encoding);
    if (r === undefined) return undefined;
    items.push(r.value);
    at = r.end;
  }
  return { value: items, end: at };
}

/**
 * Splits a byte stream into replies: `push` a chunk, get the complete replies it finished. The partial
 * tail is kept (bounded by what the server sends for one reply).
 */
export class ReplyReader {
  private pending: Buffer = Buffer.alloc(0);

  /** `encoding`: of bulk strings; 'latin1' gives one character per byte (binary replies kept exactly). */
  constructor(private readonly encoding: BufferEncoding = 'utf8') {}

  push(chunk: Buffer): RespValue[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: RespValue[] = [];
    let off = 0;
    for (;;) {
      const r = parseReply(buf, off, 0, this.encoding);
      if (r === undefined) break;
      out.push(r.value);
      off = r.end;
    }
    this.pending = off >= buf.length ? Buffer.alloc(0) : buf.subarray(off);
    return out;
  }
}

/** A connection that sends one command at a time and awaits its reply (for setup and checks, not load). */
export class SimpleConn {
  private readonly reader = new ReplyReader();
  private waiting: { resolve(v: RespValue): void; reject(e: Error): void } | undefined;
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const v of this.reader.push(chunk)) {
        const w = this.waiting;
        this.waiting = undefined;
        w?.resolve(v);
      }
    });
    const onGone = (err?: Error): void => {
      this.closedError = err ?? new Error('connection closed');
      this.waiting?.reject(this.closedError);
      this.waiting = undefined;
    };
    socket.on('error', onGone);
    socket.on('close', () => onGone());
  }

  static open(host: string, port: number, timeoutMs = 2000): Promise<SimpleConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new SimpleConn(socket));
      });
    });
  }

  call(args: ReadonlyArray<string | Buffer>, timeoutMs = 5000): Promise<RespValue> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.waiting) return Promise.reject(new Error('SimpleConn: one command at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${String(args[0])}: no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs one command on a fresh connection. */
export async function callOnce(host: string, port: number, args: string[], timeoutMs = 5000): Promise<RespValue> {
  const c = await SimpleConn.open(host, port, timeoutMs);
  try {
    return await c.call(args, timeoutMs);
  } finally {
    c.close();
  }
}

/** `field:value` lines of an INFO reply. */
export function infoFields(info: RespValue): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof info !== 'string') return out;
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}
