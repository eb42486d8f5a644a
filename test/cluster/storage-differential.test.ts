// Differential test of the two storages through the public API: the same seeded random calls (every codec) on a
// memory cluster and an LMDB cluster must give the same results, types included (a Buffer is not a Uint8Array),
// and the same errors. No expiry is short enough to pass during a run, and what only a clock decides is compared
// loosely: a finite ttl() is "finite", a revision is its type. The storage conformance suite checks the stores
// themselves (test/storage/); this checks what a caller sees, whichever thread answers (LMDB's reads run on the
// main thread, memory's in the node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual, inspect } from 'node:util';
import { Cluster, type CodecName } from '../../src/index.js';
import { Prng } from '../sim/prng.js';

type Call = [string, ...unknown[]];

function generator(codec: CodecName, r: Prng): () => Call {
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
  const keys = ['a', 'b', 'c', Buffer.from('d'), 'n'];
  const values: unknown[] = codec === 'raw'
    ? ['1', 'x', '', Buffer.from('by'), new Uint8Array([1, 2]), '10', '-3']
    : [1, 'x', { a: 1 }, [1, 2], null, 3.5, 'str', 10];
  const consistency = (): { consistency: string } => ({ consistency: pick(['linearizable', 'lease', 'stale']) });
  return (): Call => {
    const k = pick(keys);
    const v = pick(values);
    switch (pick(['get', 'put', 'put', 'putTtl', 'delete', 'cas', 'incr', 'decr', 'append', 'getMany', 'has', 'ttl', 'expire', 'persist', 'size', 'scan', 'revision', 'batch', 'conditions', 'move', 'msetnx', 'clear'])) {
      case 'get': return ['get', k, consistency()];
      case 'put': return ['put', k, v];
      case 'putTtl': return ['put', k, v, pick([{ ttlMs: 100_000 }, { ttlMs: 200_000 }, { keepTtl: true }])];
      case 'delete': return ['delete', k];
      case 'cas': return ['cas', k, pick([undefined, ...values]), pick([undefined, ...values])];
      case 'incr': return ['incr', k, pick([1, -2, 100])];
      case 'decr': return ['decr', k, pick([1, 5])];
      case 'append': return ['append', k, pick(['z', Buffer.from('q')])];
      case 'getMany': return ['getMany', [k, pick(keys)], consistency()];
      case 'has': return ['has', k, consistency()];
      case 'ttl': return ['ttl', k, consistency()];
      case 'expire': return ['expire', k, pick([100_000, 50_000, 0])];
      case 'persist': return ['persist', k];
      case 'size': return ['size', consistency()];
      case 'scan': return ['scan', pick([{ prefix: '' }, { prefix: 'a' }, { start: 'b' }]), { limit: 3 }];
      case 'revision': return ['revision', k];
      case 'batch': return ['batch', [{ type: 'get', key: k }, { type: 'put', key: pick(keys), value: pick(['1', 'y', Buffer.from('z')]) }, { type: 'incr', key: pick(keys) }, { type: 'append', key: pick(keys), value: 'w' }, { type: 'setrange', key: pick(keys), offset: pick([0, 2]), value: pick(['é', Buffer.from([0xc3])]) }]];
      case 'move': return ['batch', [{ type: 'rename', key: k, to: pick(keys), ...(r.chance(0.5) ? { condition: 'absent' } : {}) }, { type: 'copy', key: pick(keys), to: 'n', replace: r.chance(0.5) }]];
      case 'conditions': return ['batch', [{ type: 'put', key: k, value: 'p', condition: pick(['absent', 'present']) }, { type: 'expire', key: k, ttlMs: 50_000, condition: pick(['nx', 'xx', 'gt', 'lt', 'xx-lt']) }, { type: 'persist', key: pick(keys) }, { type: 'check', key: k, revision: pick([0, 1]) }]];
      case 'msetnx': return ['batch', [{ type: 'msetnx', entries: [[k, 'm'], [pick(keys), Buffer.from('mb')]] }, ...(r.chance(0.3) ? [{ type: 'get', key: k }, { type: 'clear' }, { type: 'put', key: pick(keys), value: 'after' }] : [])]];
      default: return r.chance(0.2) ? ['clear'] : r.chance(0.3) ? ['clear', { prefix: pick(['a', 'n', Buffer.from('d'), 'x']) }] : ['size'];
    }
  };
}

async function call(c: Cluster<unknown>, [name, ...args]: Call): Promise<unknown> {
  try {
    return await (c as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return `error ${err.code}: ${err.message}`;
  }
}

function loose([name]: Call, result: unknown): unknown {
  if (name === 'ttl' && typeof result === 'number' && Number.isFinite(result)) return 'finite';
  if (name === 'revision') return typeof result;
  return result;
}

for (const codec of ['raw', 'json', 'msgpack'] as const) {
  test(`${codec}: the same calls on a memory and an LMDB cluster give the same results, types included`, async () => {
    const memory = await Cluster.start<unknown>({ nodes: 1, storage: 'memory', codec });
    const lmdb = await Cluster.start<unknown>({ nodes: 1, storage: 'lmdb', codec, sync: false });
    try {
      const seed = 100 + ['raw', 'json', 'msgpack'].indexOf(codec);
      const next = generator(codec, new Prng(seed));
      const history: string[] = [];
      for (let i = 0; i < 400; i++) {
        const c = next();
        history.push(inspect(c, { depth: 3, breakLength: Infinity }));
        const [m, l] = [loose(c, await call(memory, c)), loose(c, await call(lmdb, c))];
        assert.ok(isDeepStrictEqual(m, l), `seed ${seed}, call ${i}: ${history[i]}\n  memory: ${inspect(m, { depth: 5 })}\n  lmdb:   ${inspect(l, { depth: 5 })}\n  before: ${history.slice(-8, -1).join(' | ')}`);
      }
    } finally {
      await memory.stop();
      await lmdb.stop();
    }
  });
}
