// Key commands: DEL/UNLINK, EXISTS, the EXPIRE family, TTL/PTTL, PERSIST, TYPE, RENAME/RENAMENX, COPY, DUMP,
// RESTORE, KEYS, SCAN, DBSIZE, FLUSHDB.
import type { ScanPage, ScanRangeInput } from '../../index.js';
import { keyBytes, keyError, keysError, keyword, MAX_KEY_BYTES, parseInt64, parseInteger } from '../args.js';
import { dumpString, restoreString } from '../dump.js';
import { bytesOf } from './strings.js';
import { MAX_TTL_MS } from '../../cluster/cache-args.js';
import { command, keySpec, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { DB_RANGE, intArg, invalidExpire, NOT_INTEGER, opError, SYNTAX } from '../errors.js';
import { expireTimeArg } from '../expiry.js';
import { globMatch, literalPrefix } from '../glob.js';
import { NOTIFY } from '../keyspace-flags.js';
import { CallPlan, KeysPlan, ReadPlan, WritePlan, type RespOp } from '../plan.js';
import type { ExpireCond } from '../../storage/command.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../reply.js';

function del(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const keys = args.slice(1);
  return keysError(keys) ?? new WritePlan(keys.map((key): RespOp => ({ type: 'delete', key })), (rs) => rs.filter((r) => r.existed === true).length);
}

function exists(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const keys = args.slice(1);
  return keysError(keys) ?? new KeysPlan(keys, (vs) => vs.filter((v) => v !== undefined).length);
}

const NO_SUCH_KEY = new ErrorReply('ERR no such key');

/** RENAME key newkey (OK) and RENAMENX (1, or 0 when newkey exists): the value and its expiry move; an absent key is an error. */
function rename(nx: boolean) {
  return (_ctx: Ctx, args: Buffer[]): Reply | WritePlan => {
    const [, key, to] = args as [Buffer, Buffer, Buffer];
    const op: RespOp = nx ? { type: 'rename', key, to, condition: 'absent' } : { type: 'rename', key, to };
    return keysError([key, to]) ?? new WritePlan([op], (rs) => {
      const r = rs[0];
      if (r?.existed !== true) return NO_SUCH_KEY;
      if (r.error !== undefined) return opError(r.error); // VALUE_TOO_LARGE: under `to` it would not fit maxBytes
      return nx ? (r.ok ? 1 : 0) : OK;
    });
  };
}

/** COPY source destination [DB 0] [REPLACE]: 1 when copied (value and expiry), 0 when the source is absent or the destination present. */
function copy(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const [, key, to] = args as [Buffer, Buffer, Buffer];
  let replace = false;
  for (let i = 3; i < args.length; i++) {
    if (keyword(args[i], 'REPLACE')) replace = true;
    else if (keyword(args[i], 'DB') && i + 1 < args.length) {
      const n = intArg(args[++i]!);
      if (n instanceof ErrorReply) return n;
      if (n !== 0) return DB_RANGE; // one database (docs/resp.md); Redis checks it here too
    } else return SYNTAX;
  }
  if (key.equals(to)) return new ErrorReply('ERR source and destination objects are the same');
  const op: RespOp = replace ? { type: 'copy', key, to, replace } : { type: 'copy', key, to };
  return keysError([key, to]) ?? new WritePlan([op], (rs) => (rs[0]?.error !== undefined ? opError(rs[0].error) : rs[0]?.ok ? 1 : 0));
}

const STRING_TYPE = new SimpleString('string');
const NONE_TYPE = new SimpleString('none');

function type(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => (vs[0] === undefined ? NONE_TYPE : STRING_TYPE));
}

/** EXPIRE's NX | XX | GT | LT, with Redis's errors for the combinations it refuses. */
function expireCondition(args: Buffer[]): ExpireCond | undefined | ErrorReply {
  const seen = new Set<ExpireCond>();
  for (const a of args.slice(3)) {
    if (keyword(a, 'NX')) seen.add('nx');
    else if (keyword(a, 'XX')) seen.add('xx');
    else if (keyword(a, 'GT')) seen.add('gt');
    else if (keyword(a, 'LT')) seen.add('lt');
    else return new ErrorReply(`ERR Unsupported option ${a.toString('utf8', 0, 64)}`);
  }
  if (seen.has('nx') && seen.size > 1) return new ErrorReply('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (seen.has('gt') && seen.has('lt')) return new ErrorReply('ERR GT and LT options at the same time are not compatible');
  // The op takes one condition. XX GT is GT (a key without expiry counts as an infinite one, never "greater");
  // XX LT is not LT (LT sets an expiry on a key without one): it has a condition of its own.
  if (seen.has('xx') && seen.has('lt')) return 'xx-lt';
  if (seen.has('gt')) return 'gt';
  if (seen.has('lt')) return 'lt';
  return seen.has('xx') ? 'xx' : seen.has('nx') ? 'nx' : undefined;
}

/**
 * EXPIRE key seconds, PEXPIRE key ms, EXPIREAT key unix-seconds, PEXPIREAT key unix-ms, each with NX|XX|GT|LT.
 * A time at or before now deletes the key (Redis's rule); the reply is 1 when the expiry was set (or the key deleted).
 */
function expire(unit: 1 | 1000, absolute: boolean, name: string) {
  return (_ctx: Ctx, args: Buffer[]): Reply | WritePlan => {
    const key = args[1]!;
    const bad = keyError(key);
    if (bad) return bad;
    // The options before the time, as Redis checks them (EXPIRE k abc FOO: the option is the error).
    const condition = expireCondition(args);
    if (condition instanceof ErrorReply) return condition;
    const ms = expireTimeArg(args[2]!, unit, absolute, name);
    if (ms instanceof ErrorReply) return ms;
    const op: RespOp & { type: 'expire' } = absolute ? { type: 'expire', key, atMs: ms } : { type: 'expire', key, ttlMs: ms };
    if (condition) op.condition = condition;
    return new WritePlan([op], (rs) => (rs[0]?.ok ? 1 : 0));
  };
}

function persist(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const key = args[1]!;
  return keyError(key) ?? new WritePlan([{ type: 'persist', key }], (rs) => (rs[0]?.ok ? 1 : 0));
}

/**
 * TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 when the key is absent, -1 when it has no expiry, else `shown` of the
 * remaining ms (`ttl`; TTL rounds as Redis: (ms + 500) / 1000) or of the expiry in ms since the epoch (`expiresAt`;
 * EXPIRETIME truncates as Redis).
 */
function expiry(read: 'ttl' | 'expiresAt', shown: (ms: number) => number) {
  return (ctx: Ctx, args: Buffer[]): Reply | ReadPlan | WritePlan => {
    const key = args[1]!;
    const bad = keyError(key);
    if (bad) return bad;
    // Inside MULTI: a `ttl` op of the transaction's batch, read at the entry's time (rate limiters send SET NX EX,
    // INCRBY and PTTL in one MULTI).
    if (ctx.conn.multi) {
      return new WritePlan([{ type: 'ttl', key }], (rs) => {
        const r = rs[0];
        if (!r?.ok) return -2;
        const ms = read === 'ttl' ? r.ttlMs : r.expiresAt;
        return ms === undefined || ms < 0 ? -1 : shown(ms);
      });
    }
    const { cluster, keyspace } = ctx.server;
    const opts = ctx.conn.readOptions;
    return new ReadPlan(async () => {
      const ms = await cluster[read](key, opts);
      return () => {
        keyspace.looked(key, ms !== undefined);
        return ms === undefined ? -2 : ms === Infinity ? -1 : shown(ms);
      };
    });
  };
}

const asIs = (ms: number): number => ms;

/** DBSIZE: size(), in the connection's order; inside MULTI a size op of EXEC's batch. */
function dbsize(ctx: Ctx): ReadPlan | WritePlan {
  if (ctx.conn.multi) return new WritePlan([{ type: 'size' }], (rs) => rs[0]?.n ?? 0);
  const { cluster } = ctx.server;
  const opts = ctx.conn.readOptions;
  return new ReadPlan(() => cluster.size(opts));
}

/**
 * FLUSHDB and FLUSHALL [ASYNC|SYNC]: a clear() of its own, in the connection's order; inside MULTI a clear op of EXEC's
 * batch (the commands after it in the transaction see no key).
 */
function flushdb(ctx: Ctx, args: Buffer[]): Reply | CallPlan | WritePlan {
  if (args.length > 2 || (args.length === 2 && !keyword(args[1], 'ASYNC') && !keyword(args[1], 'SYNC'))) return SYNTAX;
  if (ctx.conn.multi) return new WritePlan([{ type: 'clear' }], () => OK);
  const { cluster, tracking } = ctx.server;
  const by = ctx.conn.id;
  return new CallPlan(async () => {
    // Accepted now (a call runs as it is handed to the cluster): it touches every WATCH (../watches.ts). Its client-side
    // caching messages go when it is answered, not when applied (../tracking.ts).
    await tracking.ownWrite({}, (tag) => cluster.clearTagged(tag));
    // Answered in the connection's order: every tracking connection is told that everything changed (./tracking.ts).
    return () => {
      tracking.flush(by);
      tracking.deliverOwn();
      return OK;
    };
  });
}

/**
 * RANDOMKEY: Cluster.randomKey(), a read of the connection's consistency (inside MULTI: refused, as SCAN). Nil when
 * there is no key. As Redis's, it looks up no key: no keyspace hit or miss.
 */
function randomkey(ctx: Ctx): ReadPlan {
  const { cluster } = ctx.server;
  const opts = ctx.conn.readOptions;
  return new ReadPlan(async () => {
    const k = await cluster.randomKey(opts);
    return k === undefined ? null : keyBytes(k);
  });
}

/** Scan pages of this many keys while KEYS walks the whole key space. */
const KEYS_PAGE = 10_000;

function range(prefix: Buffer): ScanRangeInput {
  return prefix.length > 0 ? { prefix } : {};
}

/** KEYS pattern: every page of the range the pattern's literal prefix allows, filtered by the pattern. */
function keys(ctx: Ctx, args: Buffer[]): ReadPlan {
  const pattern = args[1]!;
  const { cluster } = ctx.server;
  const opts = ctx.conn.readOptions;
  const prefix = literalPrefix(pattern);
  if (prefix.length > MAX_KEY_BYTES) return new ReadPlan(async () => []); // no key is that long: nothing matches
  return new ReadPlan(async () => {
    const out: Buffer[] = [];
    const r = range(prefix);
    let cursor: string | undefined;
    do {
      const page: ScanPage = await cluster.scan(r, { limit: KEYS_PAGE, ...opts, ...(cursor === undefined ? {} : { cursor }) });
      for (const [k] of page.items) {
        const b = keyBytes(k);
        if (globMatch(pattern, b)) out.push(b);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    return out;
  });
}

interface ScanArgs {
  match: Buffer | undefined;
  count: number;
  type: string | undefined;
}

function scanArgs(args: Buffer[]): ScanArgs | ErrorReply {
  const o: ScanArgs = { match: undefined, count: 10, type: undefined };
  for (let i = 2; i < args.length; i += 2) {
    const v = args[i + 1];
    if (v === undefined) return SYNTAX;
    if (keyword(args[i], 'MATCH')) o.match = v;
    else if (keyword(args[i], 'COUNT')) {
      const n = parseInteger(v);
      if (n === null) return NOT_INTEGER;
      if (n < 1) return SYNTAX;
      o.count = Math.min(n, 10_000);
    } else if (keyword(args[i], 'TYPE')) o.type = v.toString('latin1').toLowerCase();
    else return SYNTAX;
  }
  return o;
}

/**
 * A SCAN cursor as Redis reads one (strtoul): decimal digits after an optional sign, leading zeros allowed, empty
 * meaning 0. A negative one is strtoul's 2^64 less it: no cursor handed out, except -0, which is 0.
 */
function scanCursor(b: Buffer): number | null {
  const signed = b.length > 0 && (b[0] === 0x2b || b[0] === 0x2d);
  const digits = signed ? b.subarray(1) : b;
  if ((signed && digits.length === 0) || digits.length > 20) return null;
  for (const c of digits) if (c < 0x30 || c > 0x39) return null;
  const n = digits.length === 0 ? 0 : Number(digits.toString('latin1'));
  if (b[0] === 0x2d && n !== 0) return null;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * SCAN cursor [MATCH p] [COUNT n] [TYPE t]. The cluster's cursor is an opaque string; the client gets an integer
 * that names it in a bounded table (context.ts). A MATCH pattern's literal prefix narrows the range scanned, and
 * COUNT keys of that range are read per call (Redis's meaning: work done, not keys returned).
 */
function scan(ctx: Ctx, args: Buffer[]): Reply | ReadPlan {
  const id = scanCursor(args[1]!);
  if (id === null) return new ErrorReply('ERR invalid cursor');
  const o = scanArgs(args);
  if (o instanceof ErrorReply) return o;
  const { cluster, cursors } = ctx.server;
  let from: { cursor: string; prefix: Buffer } | undefined;
  if (id !== 0) {
    from = cursors.get(id);
    if (!from) return new ErrorReply('ERR invalid cursor (unknown or forgotten: the server keeps the most recent SCAN cursors only)');
  }
  const prefix = from?.prefix ?? (o.match ? literalPrefix(o.match) : Buffer.alloc(0));
  if (prefix.length > MAX_KEY_BYTES) return ['0', []]; // no key is that long: nothing matches
  const opts = ctx.conn.readOptions;
  const { keyspace } = ctx.server;
  return new ReadPlan(async () => {
    const page = await cluster.scan(range(prefix), { limit: o.count, ...opts, ...(from ? { cursor: from.cursor } : {}) });
    const found: Buffer[] = [];
    for (const [k] of page.items) {
      const b = keyBytes(k);
      if (!o.match || globMatch(o.match, b)) found.push(b);
    }
    const next = page.cursor === undefined ? 0 : cursors.add(page.cursor, prefix);
    return () => {
      // With TYPE, Redis looks each key matched up to read its type (keyspace hits); every key here is a string.
      if (o.type !== undefined) for (const b of found) keyspace.looked(b, true);
      return [String(next), o.type === undefined || o.type === 'string' ? found : []];
    };
  });
}

/** DUMP key: the value serialized as Redis does (./dump.ts), nil when absent. */
function dump(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const key = args[1]!;
  return keyError(key) ?? new KeysPlan([key], (vs) => (vs[0] === undefined ? null : dumpString(bytesOf(vs[0]))));
}

const BUSYKEY = new ErrorReply('BUSYKEY Target key name already exists.');

/**
 * RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], in Redis 7.0's order: the options, then (without
 * REPLACE) BUSYKEY when the key exists, then the ttl and the payload. A put, conditional on the key being absent
 * without REPLACE; an expiry already past deletes. IDLETIME and FREQ are checked and have no effect (eviction
 * follows write order, docs/cache.md).
 */
function restore(ctx: Ctx, args: Buffer[]): Reply | KeysPlan | WritePlan {
  const [, key, ttlArg, payload] = args as [Buffer, Buffer, Buffer, Buffer];
  let replace = false;
  let absolute = false;
  let idle = false;
  let freq = false;
  for (let j = 4; j < args.length; j++) {
    const more = args.length - j - 1;
    if (keyword(args[j], 'REPLACE')) replace = true;
    else if (keyword(args[j], 'ABSTTL')) absolute = true;
    else if (keyword(args[j], 'IDLETIME') && more >= 1 && !freq) {
      const n = parseInt64(args[++j]!);
      if (n === null) return NOT_INTEGER;
      if (n < 0n) return new ErrorReply('ERR Invalid IDLETIME value, must be >= 0');
      idle = true;
    } else if (keyword(args[j], 'FREQ') && more >= 1 && !idle) {
      const n = parseInt64(args[++j]!);
      if (n === null) return NOT_INTEGER;
      if (n < 0n || n > 255n) return new ErrorReply('ERR Invalid FREQ value, must be >= 0 and <= 255');
      freq = true;
    } else return SYNTAX;
  }
  const bad = keyError(key);
  if (bad) return bad;
  const put = restorePut(ctx, key, ttlArg, payload, absolute);
  if (put instanceof ErrorReply) {
    if (replace) return put;
    const check = new KeysPlan([key], (vs) => (vs[0] === undefined ? put : BUSYKEY));
    check.lookups = 'none'; // Redis checks with lookupKeyWrite: no keyspace hit or miss
    return check;
  }
  const past = put.atMs !== undefined && put.atMs <= Date.now();
  // REPLACE with a ttl already past deletes the key (keyspace event "del" when it existed, as Redis's).
  if (replace && past) return new WritePlan([{ type: 'delete', key }], () => OK);
  if (!replace) put.condition = 'absent';
  const plan = new WritePlan([put], (rs) => (rs[0]?.ok ? OK : BUSYKEY));
  plan.events = (rs) => (rs[0]?.ok && !past ? [[NOTIFY.generic, 'restore', key]] : []);
  return plan;
}

/** RESTORE's put: the value from the payload, its expiry from the ttl (0: none); or the error Redis gives. */
function restorePut(ctx: Ctx, key: Buffer, ttlArg: Buffer, payload: Buffer, absolute: boolean): (RespOp & { type: 'put' }) | ErrorReply {
  const ttl = parseInt64(ttlArg);
  if (ttl === null) return NOT_INTEGER;
  if (ttl < 0n) return new ErrorReply('ERR Invalid TTL value, must be >= 0');
  const max = ctx.server.cluster.options.maxValueBytes;
  const value = restoreString(payload, max);
  if (value === 'version-or-checksum') return new ErrorReply('ERR DUMP payload version or checksum are wrong');
  if (value === 'format') return new ErrorReply('ERR Bad data format');
  if (value === 'too-large') return new ErrorReply(`ERR INVALID_ARGUMENT the value is over ${max} bytes, the limit`);
  if (!Buffer.isBuffer(value)) return new ErrorReply(`ERR DUMP payload holds a value of RDB type ${value.type}: threadraft keeps strings only`);
  const put: RespOp & { type: 'put' } = { type: 'put', key, value };
  if (ttl === 0n) return put;
  // The cluster's longest expiry: 100 years ahead (Redis allows more; docs/resp.md).
  if (absolute ? ttl - BigInt(Date.now()) > BigInt(MAX_TTL_MS) : ttl > BigInt(MAX_TTL_MS)) return invalidExpire('restore');
  if (absolute) put.atMs = Number(ttl);
  else put.ttlMs = Number(ttl);
  return put;
}

/**
 * MOVE key db: there is one database (CONFIG GET databases: 1), so there is nowhere to move a key; Redis's errors,
 * the same-database one for db 0 (checked before the key is looked up, as Redis does).
 */
function move(_ctx: Ctx, args: Buffer[]): Reply {
  const db = intArg(args[2]!);
  if (db instanceof ErrorReply) return db;
  return db === 0 ? new ErrorReply('ERR source and destination objects are the same') : DB_RANGE;
}

const WG = ['write'];

export const KEY_COMMANDS: CommandSpec[] = [
  command('del', -2, WG, 'generic', 'Deletes one or more keys.', del, { keys: [keySpec('RM delete', 1, -1)], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'],  }),
  command('unlink', -2, ['write', 'fast'], 'generic', 'Asynchronously deletes one or more keys.', del, { keys: [keySpec('RM delete', 1, -1)], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], since: '4.0.0' }),
  command('exists', -2, ['readonly', 'fast'], 'generic', 'Determines whether one or more keys exist.', exists, { keys: [keySpec('RO', 1, -1)], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'],  }),
  // Eviction here follows write order (docs/cache.md), never reads: TOUCH counts as EXISTS does and changes nothing.
  command('touch', -2, ['readonly', 'fast'], 'generic', 'Returns the number of existing keys out of those specified after updating the time they were last accessed.', exists, { keys: [keySpec('RO', 1, -1)], tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], since: '3.2.1' }),
  command('expire', -3, ['write', 'fast'], 'generic', 'Sets the expiration time of a key in seconds.', expire(1000, false, 'expire'), { keys: [keySpec('RW update', 1)] }),
  command('pexpire', -3, ['write', 'fast'], 'generic', 'Sets the expiration time of a key in milliseconds.', expire(1, false, 'pexpire'), { keys: [keySpec('RW update', 1)], since: '2.6.0' }),
  command('expireat', -3, ['write', 'fast'], 'generic', 'Sets the expiration time of a key to a Unix timestamp.', expire(1000, true, 'expireat'), { keys: [keySpec('RW update', 1)], since: '1.2.0' }),
  command('pexpireat', -3, ['write', 'fast'], 'generic', 'Sets the expiration time of a key to a Unix milliseconds timestamp.', expire(1, true, 'pexpireat'), { keys: [keySpec('RW update', 1)], since: '2.6.0' }),
  command('ttl', 2, ['readonly', 'fast'], 'generic', 'Returns the expiration time in seconds of a key.', expiry('ttl', (ms) => Math.floor((ms + 500) / 1000)), { keys: [keySpec('RO access', 1)], tips: ['nondeterministic_output'] }),
  command('pttl', 2, ['readonly', 'fast'], 'generic', 'Returns the expiration time in milliseconds of a key.', expiry('ttl', asIs), { keys: [keySpec('RO access', 1)], tips: ['nondeterministic_output'], since: '2.6.0' }),
  command('expiretime', 2, ['readonly', 'fast'], 'generic', 'Returns the expiration time of a key as a Unix timestamp.', expiry('expiresAt', (ms) => Math.floor(ms / 1000)), { keys: [keySpec('RO access', 1)], since: '7.0.0' }),
  command('pexpiretime', 2, ['readonly', 'fast'], 'generic', 'Returns the expiration time of a key as a Unix milliseconds timestamp.', expiry('expiresAt', asIs), { keys: [keySpec('RO access', 1)], since: '7.0.0' }),
  command('persist', 2, ['write', 'fast'], 'generic', 'Removes the expiration time of a key.', persist, { keys: [keySpec('RW update', 1)], since: '2.2.0' }),
  command('type', 2, ['readonly', 'fast'], 'generic', 'Determines the type of value stored at a key.', type, { keys: [keySpec('RO', 1)] }),
  command('rename', 3, ['write'], 'generic', 'Renames a key and overwrites the destination.', rename(false), { keys: [keySpec('RW access delete', 1), keySpec('OW update', 2)],  }),
  command('renamenx', 3, ['write', 'fast'], 'generic', 'Renames a key only when the target key name doesn\'t exist.', rename(true), { keys: [keySpec('RW access delete', 1), keySpec('OW insert', 2)],  }),
  command('copy', -3, ['write', 'denyoom'], 'generic', 'Copies the value of a key to a new key.', copy, { keys: [keySpec('RO access', 1), keySpec('OW update', 2)], since: '6.2.0' }),
  command('move', 3, ['write', 'fast'], 'generic', 'Moves a key to another database.', move, { keys: [keySpec('RW access update', 1)] }),
  command('dump', 2, ['readonly'], 'generic', 'Returns a serialized representation of the value stored at a key.', dump, { keys: [keySpec('RO access', 1)], tips: ['nondeterministic_output'], since: '2.6.0' }),
  command('restore', -4, ['write', 'denyoom'], 'generic', 'Creates a key from the serialized representation of a value.', restore, { keys: [keySpec('OW update', 1)], since: '2.6.0', acl: ['keyspace', 'dangerous'] }),
  command('keys', 2, ['readonly'], 'generic', 'Returns all key names that match a pattern.', keys, { tips: ['request_policy:all_shards', 'nondeterministic_output_order'], acl: ['keyspace', 'dangerous'] }),
  command('scan', -2, ['readonly'], 'generic', 'Iterates over the key names in the database.', scan, { tips: ['nondeterministic_output', 'request_policy:special'], since: '2.8.0' }),
  command('randomkey', 1, ['readonly'], 'generic', 'Returns a random key name from the database.', randomkey, { tips: ['request_policy:all_shards', 'nondeterministic_output'],  }),
  command('dbsize', 1, ['readonly', 'fast'], 'server', 'Returns the number of keys in the database.', dbsize, { tips: ['request_policy:all_shards', 'response_policy:agg_sum'], acl: ['keyspace'] }),
  command('flushdb', -1, ['write'], 'server', 'Remove all keys from the current database.', flushdb, { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], acl: ['keyspace', 'dangerous'] }),
  command('flushall', -1, ['write'], 'server', 'Removes all keys from all databases.', flushdb, { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], acl: ['keyspace', 'dangerous'] }),
];
