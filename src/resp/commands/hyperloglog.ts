// HyperLogLog commands (Redis 7.0's, on string values: src/storage/hyperloglog.ts): PFADD, PFCOUNT, PFMERGE, and
// PFDEBUG, Redis's internal command to look into a value.
// PFADD and PFMERGE are the state machine's pfadd and pfmerge ops, so every replica writes the same bytes Redis
// would. PFCOUNT reads the values and counts here; unlike Redis it does not write the count it computed back into
// the value's header (a read here, no log entry): the value keeps its cache marked stale, and a later PFCOUNT counts
// again, to the same figure.
import { keyError, keysError } from '../args.js';
import { command, keySpec, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { opError } from '../errors.js';
import { bytesOf } from './strings.js';
import { KeysPlan, WritePlan } from '../plan.js';
import { error, OK, SimpleString, type Reply } from '../reply.js';
import { hllDecode, hllEncoding, hllRegisters, isHll, pfcount as countOf } from '../../storage/hyperloglog.js';
import type { Value } from '../../index.js';

/** PFADD key [element ...]: 1 when the key is new or a register rose, else 0. */
function pfadd(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const key = args[1]!;
  return keyError(key) ?? new WritePlan([{ type: 'pfadd', key, elements: args.slice(2) }], (rs) => {
    const r = rs[0]!;
    return r.error !== undefined ? opError(r.error) : r.changed === true ? 1 : 0;
  });
}

/**
 * PFCOUNT key [key ...]: the estimate of one HLL (its cached one while valid), or of the union of several. The keys
 * are looked up in order up to one refused, as Redis's.
 */
function pfcount(_ctx: Ctx, args: Buffer[]): Reply | KeysPlan {
  const keys = args.slice(1);
  const error = keysError(keys);
  if (error) return error;
  let counted: ReturnType<typeof countOf> | undefined;
  const count = (vs: Array<Value | undefined>): ReturnType<typeof countOf> => (counted ??= countOf(vs.map((v) => (v === undefined ? undefined : bytesOf(v)))));
  const plan = new KeysPlan(keys, (vs) => {
    const r = count(vs);
    return 'problem' in r ? opError(r.problem) : r.card;
  });
  plan.looks = (vs) => {
    const r = count(vs);
    return 'problem' in r ? r.at + 1 : vs.length;
  };
  return plan;
}

/** PFMERGE destkey [sourcekey ...]: the union written to destkey. */
function pfmerge(_ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const keys = args.slice(1);
  return keysError(keys) ?? new WritePlan([{ type: 'pfmerge', key: keys[0]!, keys: keys.slice(1) }], (rs) => {
    const r = rs[0]!;
    return r.error !== undefined ? opError(r.error) : OK;
  });
}

/**
 * PFDEBUG subcommand key: GETREG (the 16384 registers; a sparse value is first made dense, and written so, as
 * Redis's), TODENSE (1 when it made a sparse value dense, else 0), ENCODING (dense or sparse), DECODE (a sparse
 * value's opcodes). Redis looks the key up as a write does (no keyspace hits or misses, no "keymiss" event) before it
 * reads the subcommand.
 */
function pfdebug(_ctx: Ctx, args: Buffer[]): Reply | WritePlan | KeysPlan {
  const sub = args[1]!;
  const key = args[2]!;
  const name = sub.toString('latin1').toLowerCase();
  const keyErr = keyError(key);
  if (keyErr) return keyErr;
  if (name === 'todense' || name === 'getreg') {
    return new WritePlan([{ type: 'pftodense', key }], (rs) => {
      const r = rs[0]!;
      if (r.error !== undefined) return opError(r.error);
      if (!r.ok) return NO_KEY;
      return name === 'todense' ? (r.changed === true ? 1 : 0) : hllRegisters(bytesOf(r.current!));
    });
  }
  const plan = new KeysPlan([key], ([value]) => {
    if (value === undefined) return NO_KEY;
    const v = bytesOf(value);
    if (!isHll(v)) return opError('NOT_HLL');
    if (name === 'encoding') return new SimpleString(hllEncoding(v));
    if (name !== 'decode') return error(`ERR Unknown PFDEBUG subcommand '${sub.toString()}'`);
    return hllEncoding(v) === 'sparse' ? Buffer.from(hllDecode(v)) : error('ERR HLL encoding is not sparse');
  });
  plan.lookups = 'none';
  return plan;
}

const NO_KEY = error('ERR The specified key does not exist');

export const HYPERLOGLOG_COMMANDS: CommandSpec[] = [
  command('pfadd', -2, ['write', 'denyoom', 'fast'], 'hyperloglog', 'Adds the specified elements to the specified HyperLogLog.', pfadd, { keys: [keySpec('RW insert', 1)], since: '2.8.9' }),
  command('pfcount', -2, ['readonly'], 'hyperloglog', 'Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).', pfcount, {
    keys: [keySpec('RW access', 1, -1, 1, 'RW because it may change the internal representation of the key, and propagate to replicas')], since: '2.8.9',
  }),
  command('pfmerge', -2, ['write', 'denyoom'], 'hyperloglog', 'Merge N different HyperLogLogs into a single one.', pfmerge, { keys: [keySpec('RW access insert', 1), keySpec('RO access', 2, -1)], since: '2.8.9' }),
  command('pfdebug', 3, ['write', 'denyoom', 'admin'], 'hyperloglog', 'Internal commands for debugging HyperLogLog values', pfdebug, { keys: [keySpec('RW access', 2)], since: '2.8.9' }),
];
