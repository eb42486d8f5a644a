// PFADD, PFCOUNT, PFMERGE and PFDEBUG through the RESP server, compared byte for byte with redis-server (skipped with a
// message when it is not installed): replies, errors, keyspace events and the HLL values' bytes (read with GETRANGE
// around the cached cardinality, which PFCOUNT writes back on Redis and not here: src/resp/commands/hyperloglog.ts).
// And the same HLLs through the Cluster API: batch pfadd and pfmerge, pfCount, on every replica alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onPath } from '../../bench/resp-targets.js';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { SimpleConn } from '../../bench/resp-proto.js';
import { mulberry32 } from '../../src/util/random.js';
import { againstRedis, randomConversations, sameAsRedis, NO_REDIS, words as c, type Step } from './helpers.js';

const KEYS = ['h1', 'h2', 'h3', 's'];

/** The bytes of a key's value but its cached cardinality (bytes 8 to 15): magic, encoding and registers. */
function layout(key: string): string[][] {
  return [['GETRANGE', key, '0', '7'], ['GETRANGE', key, '16', '-1']];
}

/**
 * A random script: PFADDs of a few or of thousands of elements (so values turn dense), PFCOUNTs of one or several
 * keys, PFMERGEs, PFDEBUGs (which look up their key as a write does, and may make a value dense), a plain string to be refused, an HLL broken by a SETRANGE, and the values' bytes read back. A
 * subscriber (connection 1) hears the string, generic and keymiss events.
 */
function script(seed: number): Step[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Printable, without '$' (transcript() reads `$1` as a connection's id).
  const element = (): string => (rnd() < 0.1 ? '' : String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => 37 + Math.floor(rnd() * 90))));
  const steps: Step[] = [
    [1, [c('CONFIG SET notify-keyspace-events E$gm'), c('PSUBSCRIBE __keyevent@0__:*')]],
    [0, [c('SET s notanhll')]],
  ];
  for (let i = 0; i < 40; i++) {
    const key = pick(KEYS);
    const x = rnd();
    const cmds: string[][] = [];
    if (x < 0.5) {
      const n = rnd() < 0.15 ? 500 + Math.floor(rnd() * 1500) : Math.floor(rnd() * 6);
      cmds.push(['PFADD', key, ...Array.from({ length: n }, element)]);
    } else if (x < 0.7) cmds.push(['PFCOUNT', ...KEYS.filter(() => rnd() < 0.5), key]);
    else if (x < 0.8) cmds.push(['PFMERGE', key, ...KEYS.filter(() => rnd() < 0.4)]);
    else if (x < 0.85) cmds.push(['PFDEBUG', pick(['ENCODING', 'DECODE', 'TODENSE', 'encoding', 'decode', 'GETREG']), key]);
    // Break h3's first opcodes, marking its cache stale as PFADD would: Redis would answer a valid cache's count
    // for registers changed under it, where threadraft, which does not write the count back, counts them.
    else if (x < 0.9) cmds.push(['SETRANGE', 'h3', '15', `\x80${pick(['\x7f', '\x00', '\x80', 'A', '\x7f\xfe'])}`]);
    else cmds.push(['DEL', key]);
    if (rnd() < 0.5) cmds.push(...layout(key));
    steps.push([0, cmds]);
  }
  steps.push([0, KEYS.flatMap(layout)]);
  return steps;
}

const FIXED: Step[] = [
  [0, [c('CONFIG GET hll-sparse-max-bytes'), c('CONFIG SET hll-sparse-max-bytes 3000')]],
  [0, [c('PFADD h'), c('PFADD h'), c('PFCOUNT h'), c('PFADD h a b c'), c('PFADD h a'), c('PFCOUNT h nokey'), ...layout('h'), c('OBJECT ENCODING h')]],
  [0, [c('PFMERGE m'), c('PFMERGE m2 h nokey'), c('PFCOUNT m m2'), ...layout('m2'), c('PFADD'), c('PFCOUNT'), c('PFMERGE')]],
  [0, [c('SET str x'), c('PFADD str a'), c('PFCOUNT str'), c('PFCOUNT h str'), c('PFMERGE h str'), c('PFMERGE str h'), c('PFADD h z')]],
  [0, [c('SETRANGE h 17 \xfe'), c('PFCOUNT h'), c('PFCOUNT h m'), c('PFMERGE m h'), c('PFADD h q'), ...layout('h')]],
  [0, [c('MULTI'), c('PFADD t 1 2 3'), c('PFCOUNT t'), c('PFMERGE t2 t'), c('EXEC'), ...layout('t2')]],
  // Its runs one register short (the XZERO's last bit cleared), g is broken at register 16383, where r7803 goes: x's
  // register is set before PFADD meets it, and stays set (INVALIDOBJ all the same), as in Redis's value.
  [0, [c('PFADD g'), c('SETBIT g 143 0'), c('PFADD g x r7803'), ...layout('g'), c('PFCOUNT g'), c('PFCOUNT h g')]],
  // PFDEBUG: the key looked up before the subcommand is read; GETREG makes a sparse value dense, as TODENSE does; a
  // broken sparse value cannot be; no events (the subscriber hears none), the expiry kept.
  [0, [c('PFDEBUG'), c('PFDEBUG ENCODING'), c('PFDEBUG ENCODING h x'), c('PFDEBUG ENCODING nokey'), c('PFDEBUG nosuch nokey'), c('PFDEBUG nosuch h'), c('PFDEBUG NoSuch str')]],
  [0, [c('PFADD d 1 2 3'), c('EXPIRE d 1000'), c('PFDEBUG ENCODING d'), c('PFDEBUG DECODE d'), c('PFDEBUG TODENSE d'), c('PFDEBUG TODENSE d'), c('PFDEBUG ENCODING d'), c('PFDEBUG DECODE d'), c('TTL d'), ...layout('d')]],
  [0, [c('PFADD d2 x'), c('PFDEBUG GETREG d2'), c('PFDEBUG encoding d2'), c('PFDEBUG GETREG d2'), c('PFDEBUG DECODE str'), c('PFDEBUG TODENSE str'), c('PFDEBUG GETREG str')]],
  [0, [c('PFDEBUG DECODE g'), c('PFDEBUG TODENSE g'), c('PFDEBUG GETREG g'), c('PFDEBUG ENCODING g'), ...layout('g')]],
  [0, [c('PFADD d3 a'), c('MULTI'), c('PFDEBUG TODENSE d3'), c('PFDEBUG ENCODING d3'), c('PFDEBUG DECODE nokey'), c('EXEC')]],
  // Two VAL opcodes (é in UTF-8) after runs that cover every register: broken to every read of the registers (Redis
  // 7.0.15 as Debian ships it); a PFADD that needs no promotion does not read them.
  [0, [c('PFADD v a b'), c('APPEND v é'), c('PFCOUNT v'), c('PFCOUNT v h'), c('PFMERGE v2 v'), ...layout('v2'), c('PFADD v c d e f'), ...layout('v'), c('PFCOUNT v')]],
  [0, [c('PFDEBUG DECODE v'), c('PFDEBUG TODENSE v'), c('PFDEBUG GETREG v'), c('PFDEBUG ENCODING v')]],
];

/** INFO stats' keyspace hits and misses of the server at `port`: the keys PFCOUNT and PFMERGE looked up, in order, up to one refused. */
async function lookups(port: number): Promise<number[]> {
  const conn = await SimpleConn.open('127.0.0.1', port);
  try {
    const text = String(await conn.call(['INFO', 'stats']));
    return ['keyspace_hits', 'keyspace_misses'].map((k) => Number(new RegExp(`^${k}:(\\d+)\\r$`, 'm').exec(text)![1]));
  } finally {
    conn.close();
  }
}

test('HyperLogLog commands get the same replies, events, lookups and bytes from threadraft as from Redis', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  const conversations = [{ name: 'PFADD, PFCOUNT, PFMERGE: arities, errors, MULTI', conns: 1, steps: FIXED }, ...randomConversations('THREADRAFT_HLL_SEEDS', script)];
  for (const s of conversations) {
    const before = await Promise.all([lookups(redis.port), lookups(served.port)]);
    await sameAsRedis(redis, served, { ...s, steps: [[0, [c('FLUSHALL')]], ...s.steps] });
    const after = await Promise.all([lookups(redis.port), lookups(served.port)]);
    const grew = (i: number): number[] => after[i]!.map((n, j) => n - before[i]![j]!);
    assert.deepEqual(grew(1), grew(0), `${s.name}: keyspace hits and misses`);
  }
}));

test('the Cluster API: batch pfadd, pfmerge and pftodense, pfCount, errors, and every replica holds the same HLL bytes', async () => {
  const cluster = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    const add = (key: string, elements: string[]) => cluster.batch([{ type: 'pfadd', key, elements }]);
    const first = await add('visitors', Array.from({ length: 2000 }, (_, i) => `user-${i}`));
    assert.equal(first.results[0]!.changed, true);
    assert.equal((await add('visitors', ['user-1'])).results[0]!.changed, false);
    await add('other', Array.from({ length: 1000 }, (_, i) => `user-${i + 1500}`));
    const one = await cluster.pfCount(['visitors']);
    assert.ok(Math.abs(one - 2000) <= 40, `2000 estimated ${one}`);
    const both = await cluster.pfCount(['visitors', 'other', 'absent']);
    assert.ok(Math.abs(both - 2500) <= 50, `2500 estimated ${both}`);
    const merged = await cluster.batch([{ type: 'pfmerge', key: 'all', keys: ['visitors', 'other'] }]);
    assert.equal(merged.results[0]!.ok, true);
    assert.equal(await cluster.pfCount(['all']), both);
    await cluster.put('plain', 'text');
    const refused = await cluster.batch([{ type: 'pfadd', key: 'plain', elements: ['x'] }, { type: 'put', key: 'after', value: '1' }]);
    assert.deepEqual([refused.results[0]!.ok, refused.results[0]!.error, refused.results[1]!.ok], [false, 'NOT_HLL', true]);
    await assert.rejects(cluster.pfCount(['visitors', 'plain']), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.NOT_HLL);
    await assert.rejects(cluster.pfCount([]), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT);
    await assert.rejects(cluster.batch([{ type: 'pfadd', key: 'k', elements: 'x' as never }]), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT);
    const sparse = await cluster.get('other');
    const dense = await cluster.batch([{ type: 'pftodense', key: 'other' }, { type: 'pftodense', key: 'other' }, { type: 'pftodense', key: 'absent' }, { type: 'pftodense', key: 'plain' }]);
    assert.deepEqual(dense.results.map((r) => [r.ok, r.changed, r.error]), [[true, true, undefined], [true, false, undefined], [false, undefined, undefined], [false, undefined, 'NOT_HLL']]);
    assert.ok(sparse instanceof Uint8Array && sparse[4] === 1 && sparse.length < 3000, 'other was sparse');
    const denseValue = dense.results[0]!.current;
    assert.ok(denseValue instanceof Uint8Array && denseValue.length === 12_304 && denseValue[4] === 0, 'other is dense');
    assert.deepEqual(await cluster.get('other'), denseValue);
    assert.equal(await cluster.pfCount(['other']), await cluster.pfCount(['other', 'absent']));
    const stale = await cluster.get('visitors', { consistency: 'stale', node: 1 });
    assert.ok(stale instanceof Uint8Array && Buffer.from(stale).subarray(0, 4).toString() === 'HYLL');
    const check = await cluster.checkReplicas();
    assert.ok(check.consistent, JSON.stringify(check.nodes));
  } finally {
    await cluster.stop();
  }
});
