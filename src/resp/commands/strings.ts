// String commands: GET, SET and its variants, MGET/MSET(NX), counters, APPEND, STRLEN.
import type { Value } from '../../index.js';
import { keyError, keysError, keyword, parseInteger, valueError } from '../args.js';
import { command, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { arityError, NOT_INTEGER, opError, SYNTAX } from '../errors.js';
import { expiryArg, ttlOf, type Expiry } from '../expiry.js';
import { KeysPlan, WritePlan, type RespOp, type RespOpResult } from '../plan.js';
import { ErrorReply, OK, type Reply } from '../reply.js';

/** A found value as a reply (a counter written by INCR is stored as a string: the same bytes). */
function valueReply(ctx: Ctx, v: Value | undefined): Reply {
  if (v === undefined) {
    ctx.server.stats.keyspaceMisses++;
    return null;
  }
  ctx.server.stats.keyspaceHits++;
  return v as Reply;
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
  return keyError(key) ?? new KeysPlan([key], (vs) => valueReply(ctx, vs[0]));
}

interface SetArgs {
  condition?: 'absent' | 'present';
  get: boolean;
  expiry?: Expiry;
  keepTtl: boolean;
}

/** SET's options, in any order, each at most once, as Redis parses them. */
function setOptions(args: Buffer[]): SetArgs | ErrorReply {
  const o: SetArgs = { get: false, keepTtl: false };
  for (let i = 3; i < args.length; i++) {
    const a = args[i]!;
    if (keyword(a, 'NX') && o.condition === undefined) o.condition = 'absent';
    else if (keyword(a, 'XX') && o.condition === undefined) o.condition = 'present';
    else if (keyword(a, 'GET') && !o.get) o.get = true;
    else if (keyword(a, 'KEEPTTL') && !o.keepTtl && o.expiry === undefined) o.keepTtl = true;
    else if (o.expiry === undefined && !o.keepTtl && (keyword(a, 'EX') || keyword(a, 'PX') || keyword(a, 'EXAT') || keyword(a, 'PXAT'))) {
      const unit = keyword(a, 'EX') || keyword(a, 'EXAT') ? 1000 : 1;
      const e = expiryArg(args[++i], unit, a.length === 4, 'set');
      if (e instanceof ErrorReply) return args[i] === undefined ? SYNTAX : e;
      o.expiry = e;
    } else return SYNTAX;
  }
  return o;
}

/**
 * The ops of SET: a put, and for EXAT/PXAT an `expire` at that time in the same batch (a time already past
 * deletes the key, as Redis does). With NX or XX the put may not happen, and the expire must not touch a key it
 * did not write: the time becomes a time-to-live counted from now instead, which expires the key a queueing
 * delay (well under a millisecond to a few) after the instant asked for.
 */
function putOps(key: Buffer, value: Buffer, o: SetArgs): RespOp[] {
  const put: RespOp & { type: 'put' } = { type: 'put', key, value };
  if (o.condition) put.condition = o.condition;
  if (o.keepTtl) put.keepTtl = true;
  if (o.expiry?.kind === 'at' && !o.condition) return [put, { type: 'expire', key, atMs: Math.max(0, o.expiry.ms) }];
  if (o.expiry) put.ttlMs = Math.max(1, ttlOf(o.expiry));
  return [put];
}

function set(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  const o = setOptions(args);
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
  if (args.length === 2) return get(ctx, args);
  const a = args[2]!;
  if (keyword(a, 'PERSIST')) {
    if (args.length !== 3) return SYNTAX;
    return new WritePlan([{ type: 'get', key }, { type: 'persist', key }], (rs) => currentReply(rs[0]));
  }
  const isEx = keyword(a, 'EX') || keyword(a, 'EXAT');
  if (!isEx && !keyword(a, 'PX') && !keyword(a, 'PXAT')) return SYNTAX;
  if (args.length !== 4) return SYNTAX;
  const e = expiryArg(args[3], isEx ? 1000 : 1, a.length === 4, 'getex');
  if (e instanceof ErrorReply) return e;
  const expire: RespOp = e.kind === 'ttl' ? { type: 'expire', key, ttlMs: e.ms } : { type: 'expire', key, atMs: e.ms };
  return new WritePlan([{ type: 'get', key }, expire], (rs) => currentReply(rs[0]));
}

function mget(ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const keys = args.slice(1);
  return keysError(keys) ?? new KeysPlan(keys, (vs) => vs.map((v) => valueReply(ctx, v)));
}

function pairs(ctx: Ctx, args: Buffer[], name: string): RespOp[] | ErrorReply {
  if (args.length % 2 !== 1) return arityError(name);
  const ops: RespOp[] = [];
  for (let i = 1; i < args.length; i += 2) {
    const key = args[i]!;
    const value = args[i + 1]!;
    const bad = checkValue(ctx, key, value);
    if (bad) return bad;
    ops.push({ type: 'put', key, value });
  }
  return ops;
}

function mset(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const ops = pairs(ctx, args, 'mset');
  return ops instanceof ErrorReply ? ops : new WritePlan(ops, () => OK);
}

/** MSETNX: a `check` that each key is absent (revision 0), then the puts: all or nothing, in a batch of its own. */
function msetnx(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const puts = pairs(ctx, args, 'msetnx');
  if (puts instanceof ErrorReply) return puts;
  const checks: RespOp[] = puts.map((p) => ({ type: 'check', key: p.key, revision: 0 }));
  return new WritePlan([...checks, ...puts], (rs) => (rs.slice(0, checks.length).every((r) => r.ok) ? 1 : 0), true);
}

/** INCR, DECR, INCRBY, DECRBY: `sign` -1 for the DECRs; `fixed` the step of INCR/DECR. */
function incr(sign: 1 | -1, fixed: boolean) {
  return (_ctx: Ctx, args: Buffer[]): Reply | WritePlan => {
    const key = args[1]!;
    const bad = keyError(key);
    if (bad) return bad;
    const step = fixed ? 1 : parseInteger(args[2]!);
    if (step === null) return NOT_INTEGER;
    return new WritePlan([{ type: 'incr', key, by: sign * step }], (rs) => {
      const r = rs[0];
      if (r?.error !== undefined) return opError(r.error);
      const n = Number(r?.value);
      return Number.isSafeInteger(n) ? n : NOT_INTEGER;
    });
  };
}

/**
 * APPEND: the new length is the append op's `n`. A `get` of the key follows it because a command of exactly one op
 * whose result is `{ ok: true, n }` loses its `n` on the way back from the node (src/node/applied.ts's isPlain does
 * not look at `n`); the length of the value read is the answer then.
 */
function append(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkValue(ctx, key, value) ?? new WritePlan([{ type: 'append', key, value }, { type: 'get', key }], (rs) => {
    const r = rs[0];
    if (r?.error !== undefined) return opError(r.error);
    if (r?.n !== undefined) return r.n;
    const v = rs[1]?.current;
    return v === undefined || v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  });
}

function strlen(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => {
    const v = vs[0];
    return v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  });
}

const W = ['write', 'denyoom'];
const WF = ['write', 'denyoom', 'fast'];
const R = ['readonly', 'fast'];

export const STRING_COMMANDS: CommandSpec[] = [
  command('get', 2, R, 'string', 'Returns the string value of a key.', get),
  command('set', -3, W, 'string', 'Sets the string value of a key, ignoring its type. The key is created if it does not exist.', set),
  command('setnx', 3, WF, 'string', 'Set the string value of a key only when the key does not exist.', setnx),
  command('setex', 4, W, 'string', 'Sets the string value and expiration time of a key.', setex(1000, 'setex'), { since: '2.0.0' }),
  command('psetex', 4, W, 'string', 'Sets both string value and expiration time in milliseconds of a key.', setex(1, 'psetex'), { since: '2.6.0' }),
  command('getset', 3, WF, 'string', 'Returns the previous string value of a key after setting it to a new value.', getset),
  command('getdel', 2, ['write', 'fast'], 'string', 'Returns the string value of a key after deleting the key.', getdel, { since: '6.2.0' }),
  command('getex', -2, ['write', 'fast'], 'string', 'Returns the string value of a key after setting its expiration time.', getex, { since: '6.2.0' }),
  command('mget', -2, R, 'string', 'Atomically returns the string values of one or more keys.', mget, { keys: [1, -1, 1] }),
  command('mset', -3, W, 'string', 'Atomically creates or modifies the string values of one or more keys.', mset, { keys: [1, -1, 2], since: '1.0.1' }),
  command('msetnx', -3, W, 'string', 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.', msetnx, { keys: [1, -1, 2], since: '1.0.1' }),
  command('incr', 2, WF, 'string', 'Increments the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', incr(1, true)),
  command('decr', 2, WF, 'string', 'Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', incr(-1, true)),
  command('incrby', 3, WF, 'string', 'Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', incr(1, false)),
  command('decrby', 3, WF, 'string', 'Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn\'t exist.', incr(-1, false)),
  command('append', 3, WF, 'string', 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.', append, { since: '2.0.0' }),
  command('strlen', 2, R, 'string', 'Returns the length of a string value.', strlen, { since: '2.2.0' }),
];
