// String commands: GET, SET and its variants, MGET/MSET(NX), counters, APPEND, STRLEN, SETRANGE, GETRANGE/SUBSTR, LCS.
import type { Value } from '../../index.js';
import { asBuffer, valueBytes } from '../../storage/codec.js';
import { clampInt64, INT64_MIN, keyError, keysError, keyword, parseInt64, valueError } from '../args.js';
import { lcs, type LcsOptions } from '../lcs.js';
import { command, keySpec, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { arityError, NOT_FLOAT, NOT_INTEGER, opError, SYNTAX } from '../errors.js';
import { isFloatText } from '../../storage/float80.js';
import { expiryArg, type Expiry } from '../expiry.js';
import { KeysPlan, WritePlan, type RespOp, type RespOpResult } from '../plan.js';
import { ErrorReply, integerReply, OK, type Reply } from '../reply.js';

/** A found value as a reply (a counter written by INCR is stored as a string: the same bytes). */
function valueReply(v: Value | undefined): Reply {
  return v === undefined ? null : (v as Reply);
}

/** The `current` of a `get` op's result, as a reply. */
function currentReply(r: RespOpResult | undefined): Reply {
  const v = r?.current;
  return r?.ok && v !== undefined && v !== null ? (v as Reply) : null;
}

function checkValue(ctx: Ctx, key: Buffer, value: Buffer): ErrorReply | undefined {
  return keyError(key) ?? valueError(value, ctx.server.cluster.options.maxValueBytes);
}

function get(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => valueReply(vs[0]));
}

interface SetArgs {
  condition?: 'absent' | 'present';
  get: boolean;
  expiry?: Expiry;
  keepTtl: boolean;
  persist: boolean;
  /** GETEX: the expiry's value is wrong. Redis looks the key up first: a missing key is nil, not this error. */
  expiryError?: ErrorReply;
}

const EXPIRY_OPTIONS = ['EX', 'PX', 'EXAT', 'PXAT'];

/**
 * SET's options (from index 3) or GETEX's (from 2), as Redis 7 parses them: in any order, an option given again is
 * taken again (the last expiry wins, and only it is checked, after the others); NX with XX, or two kinds of expiry
 * (EX with PX, KEEPTTL or PERSIST with any), is a syntax error.
 */
function stringOptions(args: Buffer[], command: 'set' | 'getex'): SetArgs | ErrorReply {
  const o: SetArgs = { get: false, keepTtl: false, persist: false };
  const set = command === 'set';
  let kind: string | undefined; // the expiry option given: one of EXPIRY_OPTIONS, KEEPTTL or PERSIST
  let time: Buffer | undefined;
  for (let i = set ? 3 : 2; i < args.length; i++) {
    const a = args[i]!;
    const name = a.length <= 7 ? a.toString('latin1').toUpperCase() : '';
    if (set && name === 'NX' && o.condition !== 'present') o.condition = 'absent';
    else if (set && name === 'XX' && o.condition !== 'absent') o.condition = 'present';
    else if (set && name === 'GET') o.get = true;
    else if (((set && name === 'KEEPTTL') || (!set && name === 'PERSIST')) && (kind === undefined || kind === name)) kind = name;
    else if (EXPIRY_OPTIONS.includes(name) && (kind === undefined || kind === name) && i + 1 < args.length) {
      kind = name;
      time = args[++i];
    } else return SYNTAX;
  }
  o.keepTtl = kind === 'KEEPTTL';
  o.persist = kind === 'PERSIST';
  if (time !== undefined) {
    const e = expiryArg(time, kind === 'EX' || kind === 'EXAT' ? 1000 : 1, kind!.length === 4, command);
    if (e instanceof ErrorReply && set) return e;
    if (e instanceof ErrorReply) o.expiryError = e;
    else o.expiry = e;
  }
  return o;
}

/** The op of SET: a put, its expiry a time-to-live (EX/PX) or a time (EXAT/PXAT: already past, the key is deleted, as Redis does). */
function putOps(key: Buffer, value: Buffer, o: SetArgs): RespOp[] {
  const put: RespOp & { type: 'put' } = { type: 'put', key, value };
  if (o.condition) put.condition = o.condition;
  if (o.keepTtl) put.keepTtl = true;
  if (o.expiry?.kind === 'at') put.atMs = Math.max(0, o.expiry.ms);
  else if (o.expiry) put.ttlMs = o.expiry.ms;
  return [put];
}

function set(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  const o = stringOptions(args, 'set');
  if (o instanceof ErrorReply) return o;
  const bad = checkValue(ctx, key, value);
  if (bad) return bad;
  const ops = putOps(key, value, o);
  if (o.get) return new WritePlan([{ type: 'get', key }, ...ops], (rs) => currentReply(rs[0]));
  return new WritePlan(ops, (rs) => (rs[0]?.ok ? OK : null));
}

function setnx(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'put', key, value, condition: 'absent' }], (rs) => (rs[0]?.ok ? 1 : 0));
}

/** SETEX key seconds value, PSETEX key ms value. */
function setex(unit: 1 | 1000, name: string) {
  return (ctx: Ctx, args: Buffer[]): Reply | WritePlan => {
    const [, key, time, value] = args as [Buffer, Buffer, Buffer, Buffer];
    const e = expiryArg(time, unit, false, name);
    if (e instanceof ErrorReply) return e;
    return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'put', key, value, ttlMs: e.ms }], () => OK);
  };
}

function getset(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'get', key }, { type: 'put', key, value }], (rs) => currentReply(rs[0]));
}

function getdel(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const key = args[1]!;
  return keyError(key) ?? new WritePlan([{ type: 'get', key }, { type: 'delete', key }], (rs) => currentReply(rs[0]));
}

/** GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]: without an option a plain read. */
function getex(ctx: Ctx, args: Buffer[]): Reply | WritePlan | KeysPlan {
  const key = args[1]!;
  const bad = keyError(key);
  if (bad) return bad;
  const o = stringOptions(args, 'getex');
  if (o instanceof ErrorReply) return o;
  const err = o.expiryError;
  if (err) return new KeysPlan([key], (vs) => (vs[0] === undefined ? null : err));
  if (o.persist) return new WritePlan([{ type: 'get', key }, { type: 'persist', key }], (rs) => currentReply(rs[0]));
  const e = o.expiry;
  if (e === undefined) return get(ctx, args);
  const expire: RespOp = e.kind === 'ttl' ? { type: 'expire', key, ttlMs: e.ms } : { type: 'expire', key, atMs: e.ms };
  return new WritePlan([{ type: 'get', key }, expire], (rs) => currentReply(rs[0]));
}

function mget(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const keys = args.slice(1);
  return keysError(keys) ?? new KeysPlan(keys, (vs) => vs.map((v) => valueReply(v)));
}

function pairs(ctx: Ctx, args: Buffer[], name: string): Array<[Buffer, Buffer]> | ErrorReply {
  if (args.length % 2 !== 1) return arityError(name);
  const entries: Array<[Buffer, Buffer]> = [];
  for (let i = 1; i < args.length; i += 2) {
    const key = args[i]!;
    const value = args[i + 1]!;
    const bad = checkValue(ctx, key, value);
    if (bad) return bad;
    entries.push([key, value]);
  }
  return entries;
}

function mset(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const entries = pairs(ctx, args, 'mset');
  return entries instanceof ErrorReply ? entries : new WritePlan(entries.map(([key, value]) => ({ type: 'put', key, value })), () => OK);
}

/** MSETNX: one msetnx op, all or nothing where it stands among the batch's ops (inside MULTI too). */
function msetnx(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const entries = pairs(ctx, args, 'msetnx');
  return entries instanceof ErrorReply ? entries : new WritePlan([{ type: 'msetnx', entries }], (rs) => (rs[0]?.ok === true ? 1 : 0));
}

const DECREMENT_OVERFLOW = new ErrorReply('ERR decrement would overflow');

/**
 * INCR, DECR, INCRBY, DECRBY, with Redis's 64-bit integers (the op's `by` as text): `sign` -1 for the DECRs;
 * `fixed` the step of INCR/DECR.
 */
function incr(sign: 1 | -1, fixed: boolean) {
  return (_ctx: Ctx, args: Buffer[]): Reply | WritePlan => {
    const key = args[1]!;
    const bad = keyError(key);
    if (bad) return bad;
    const step = fixed ? 1n : parseInt64(args[2]!);
    if (step === null) return NOT_INTEGER;
    if (sign < 0 && step === INT64_MIN) return DECREMENT_OVERFLOW; // its negation is past 64 bits
    return new WritePlan([{ type: 'incr', key, by: String(sign < 0 ? -step : step) }], (rs) => {
      const r = rs[0];
      if (r?.error !== undefined) return opError(r.error);
      return integerReply(String(r?.value));
    });
  };
}

/**
 * INCRBYFLOAT: the increment is checked here (Redis's reply does not depend on the key then), the key's value by the
 * state machine, which adds them as Redis does (src/storage/float80.ts) and stores the text replied.
 */
function incrbyfloat(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const key = args[1]!;
  const bad = keyError(key);
  if (bad) return bad;
  const by = args[2]!.toString('latin1');
  if (!isFloatText(by)) return NOT_FLOAT;
  return new WritePlan([{ type: 'incrbyfloat', key, by }], (rs) => {
    const r = rs[0];
    if (r?.error !== undefined) return opError(r.error);
    return String(r?.value); // ASCII: a bulk string
  });
}

const LCS_TOO_LARGE = new ErrorReply('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: a read of both keys (absent: empty), then ./lcs.ts. */
function lcsCommand(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const keys = [args[1]!, args[2]!];
  const bad = keysError(keys);
  if (bad) return bad;
  const o = lcsOptions(args);
  // Redis reads both keys before it reads the options: an error in them still counts the lookups.
  return new KeysPlan(keys, (vs) => (o instanceof ErrorReply ? o : lcs(bytesOf(vs[0]), bytesOf(vs[1]), o) ?? LCS_TOO_LARGE));
}

function lcsOptions(args: Buffer[]): LcsOptions | ErrorReply {
  const o: LcsOptions = { len: false, idx: false, minMatchLen: 0, withMatchLen: false };
  for (let i = 3; i < args.length; i++) {
    if (keyword(args[i], 'IDX')) o.idx = true;
    else if (keyword(args[i], 'LEN')) o.len = true;
    else if (keyword(args[i], 'WITHMATCHLEN')) o.withMatchLen = true;
    else if (keyword(args[i], 'MINMATCHLEN') && i + 1 < args.length) {
      const n = parseInt64(args[++i]!);
      if (n === null) return NOT_INTEGER;
      o.minMatchLen = clampInt64(n, 0); // a negative one is 0, as Redis takes it
    } else return SYNTAX;
  }
  if (o.len && o.idx) return new ErrorReply('ERR If you want both the length and indexes, please just use IDX.');
  return o;
}

/** APPEND: the new length is the append op's `n`. */
function append(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'append', key, value }], (rs) => lengthReply(rs, 'append'));
}

/** A length reply from an append or setrange op's result. */
function lengthReply(rs: RespOpResult[], name: string): Reply {
  const r = rs[0];
  if (r?.error !== undefined) return opError(r.error);
  if (r?.n === undefined) return new ErrorReply(`ERR INTERNAL ${name} returned no length`);
  return r.n;
}

/**
 * SETRANGE key offset value: Redis's order of checks (the offset's syntax, then its sign); an offset past the safe
 * integers cannot fit any value, and goes as the largest safe one (the op refuses it unless the value is empty).
 */
function setrange(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, at, value] = args as [Buffer, Buffer, Buffer, Buffer];
  const offset = parseInt64(at);
  if (offset === null) return NOT_INTEGER;
  if (offset < 0n) return new ErrorReply('ERR offset is out of range');
  const n = clampInt64(offset); // not negative: checked above
  return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'setrange', key, offset: n, value }], (rs) => lengthReply(rs, 'setrange'));
}

/** GETRANGE key start end (and SUBSTR): Redis's inclusive byte range, negative indexes from the end. */
function getrange(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const [, key, a, b] = args as [Buffer, Buffer, Buffer, Buffer];
  const s = parseInt64(a);
  const e = parseInt64(b);
  if (s === null || e === null) return NOT_INTEGER;
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    return byteRange(bytesOf(vs[0]), s, e);
  });
}

const EMPTY = Buffer.alloc(0);

/** A value's bytes (absent: none). */
export function bytesOf(v: Value | undefined): Buffer {
  return v === undefined ? EMPTY : typeof v === 'string' ? Buffer.from(v) : asBuffer(v);
}

/** Redis's getrangeCommand on a string of `bytes`. */
function byteRange(bytes: Buffer, s64: bigint, e64: bigint): Buffer {
  if (s64 < 0n && e64 < 0n && s64 > e64) return EMPTY;
  const r = indexRange(s64, e64, bytes.length);
  return r.start > r.end ? EMPTY : bytes.subarray(r.start, r.end + 1);
}

/**
 * An inclusive range of indexes as Redis normalizes one (GETRANGE, BITCOUNT, BITPOS): negative ones count from the
 * end, then both are clamped to [0, total - 1]; `start > end` is an empty range. Computed in 64 bits, as Redis's
 * long longs.
 */
export function indexRange(start: bigint, end: bigint, total: number): { start: number; end: number } {
  const len = BigInt(total);
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  return { start: Number(start), end: Number(end) };
}

function strlen(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    const v = vs[0];
    return v === undefined ? 0 : valueBytes(v);
  });
}

const W = ['write', 'denyoom'];
const WF = ['write', 'denyoom', 'fast'];
const R = ['readonly', 'fast'];

/** SET's key flags for COMMAND GETKEYSANDFLAGS (Redis's setGetKeys): read too with GET, else overwritten. */
function setKeyFlags(argv: Buffer[]): string[] {
  return argv.slice(3).some((a) => keyword(a, 'GET')) ? ['RW', 'access', 'update'] : ['OW', 'update'];
}

export const STRING_COMMANDS: CommandSpec[] = [
  command('get', 2, R, 'string', 'Returns the string value of a key.', get, { keys: [keySpec('RO access', 1)] }),
  command('set', -3, W, 'string', 'Sets the string value of a key, ignoring its type. The key is created if it does not exist.', set, { keys: [keySpec('RW access update variable_flags', 1, 0, 1, 'RW and ACCESS due to the optional `GET` argument')], keyFlags: setKeyFlags }),
  command('setnx', 3, WF, 'string', 'Set the string value of a key only when the key does not exist.', setnx, { keys: [keySpec('OW insert', 1)] }),
  command('setex', 4, W, 'string', 'Sets the string value and expiration time of a key.', setex(1000, 'setex'), { keys: [keySpec('OW update', 1)], since: '2.0.0' }),
  command('psetex', 4, W, 'string', 'Sets both string value and expiration time in milliseconds of a key.', setex(1, 'psetex'), { keys: [keySpec('OW update', 1)], since: '2.6.0' }),
  command('getset', 3, WF, 'string', 'Returns the previous string value of a key after setting it to a new value.', getset, { keys: [keySpec('RW access update', 1)] }),
  command('getdel', 2, ['write', 'fast'], 'string', 'Returns the string value of a key after deleting the key.', getdel, { keys: [keySpec('RW access delete', 1)], since: '6.2.0' }),
  command('getex', -2, ['write', 'fast'], 'string', 'Returns the string value of a key after setting its expiration time.', getex, { keys: [keySpec('RW access update', 1, 0, 1, 'RW and UPDATE because it changes the TTL')], since: '6.2.0' }),
  command('mget', -2, R, 'string', 'Atomically returns the string values of one or more keys.', mget, { keys: [keySpec('RO access', 1, -1)], tips: ['request_policy:multi_shard'],  }),
  command('mset', -3, W, 'string', 'Atomically creates or modifies the string values of one or more keys.', mset, { keys: [keySpec('OW update', 1, -1, 2)], tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], since: '1.0.1' }),
  command('msetnx', -3, W, 'string', 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.', msetnx, { keys: [keySpec('OW insert', 1, -1, 2)], tips: ['request_policy:multi_shard', 'response_policy:agg_min'], since: '1.0.1' }),
  command('incr', 2, WF, 'string', 'Increments the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', incr(1, true), { keys: [keySpec('RW access update', 1)] }),
  command('decr', 2, WF, 'string', 'Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', incr(-1, true), { keys: [keySpec('RW access update', 1)] }),
  command('incrby', 3, WF, 'string', 'Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', incr(1, false), { keys: [keySpec('RW access update', 1)] }),
  command('decrby', 3, WF, 'string', 'Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn\'t exist.', incr(-1, false), { keys: [keySpec('RW access update', 1)] }),
  command('incrbyfloat', 3, WF, 'string', 'Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', incrbyfloat, { keys: [keySpec('RW access update', 1)], since: '2.6.0' }),
  command('append', 3, WF, 'string', 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.', append, { keys: [keySpec('RW insert', 1)], since: '2.0.0' }),
  command('strlen', 2, R, 'string', 'Returns the length of a string value.', strlen, { keys: [keySpec('RO', 1)], since: '2.2.0' }),
  command('setrange', 4, W, 'string', 'Overwrites a part of a string value with another by an offset. Creates the key if it doesn\'t exist.', setrange, { keys: [keySpec('RW update', 1)], since: '2.2.0' }),
  command('getrange', 4, ['readonly'], 'string', 'Returns a substring of the string stored at a key.', getrange, { keys: [keySpec('RO access', 1)], since: '2.4.0' }),
  command('lcs', -3, ['readonly'], 'string', 'Finds the longest common substring.', lcsCommand, { keys: [keySpec('RO access', 1, 1)], since: '7.0.0' }),
  command('substr', 4, ['readonly'], 'string', 'Returns a substring from a string value.', getrange, { keys: [keySpec('RO access', 1)] }),
];
