// Client-side caching (CLIENT TRACKING) through the RESP server: scripted and seeded random conversations of several
// connections compared byte for byte with redis-server (default mode, BCAST and prefixes, OPTIN/OPTOUT, NOLOOP,
// REDIRECT to a RESP2 subscriber, a broken redirect, FLUSHALL, MULTI, the errors), and what Redis cannot be compared
// on: expired and evicted keys, the table's bound, INFO and CLIENT LIST fields, node-redis's client-side cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, BasicClientSideCache } from 'redis';
import { onPath } from '../../bench/resp-targets.js';
import { Prng } from '../sim/prng.js';
import { againstRedis, encode, endsWith, raw, randomConversations, sameAsRedis, serve, NO_REDIS, words as c, type Raw, type Conversation, type Step } from './helpers.js';
import { ClusterError, ErrorCode, type Cluster } from '../../src/index.js';
import type { ConnectionState, ServerStats } from '../../src/resp/context.js';
import { KeyspaceNotifier } from '../../src/resp/keyspace.js';
import { PubSubRegistry, Subscriptions } from '../../src/resp/pubsub.js';
import { RawReply, type PushReply } from '../../src/resp/reply.js';
import { TrackingTable, trackingOff } from '../../src/resp/tracking.js';

const SCRIPTS: Conversation[] = [
  {
    name: 'RESP3 default mode: reads remembered, one message per change, own writes after their replies, NOLOOP',
    conns: 2,
    steps: [
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON'), c('GET a'), c('MGET b c'), c('EXISTS d'), c('STRLEN e'), c('TTL f'), c('GETRANGE g 0 1')]],
      [0, [c('SET a 1'), c('MSET b 2 c 3'), c('DEL d'), c('SET d 4'), c('APPEND e x'), c('EXPIRE f 100'), c('SET f 1'), c('SET g 1')]],
      [0, [c('SET a 2'), c('SET h 1')]],
      [1, [c('GET a'), c('BITCOUNT h'), c('LCS a h'), c('TYPE i')]],
      [0, [c('INCR a'), c('SETBIT h 0 1'), c('SETBIT h 0 1'), c('SET i v NX'), c('SET i w NX')]],
      // Its own changes: after each reply, before the next command's.
      [1, [c('GET j'), c('SET j 1'), c('PING'), c('GET j'), c('DEL j'), c('GET j'), c('SET j 2'), c('SET j 3')]],
      // A read answered at once (an error) after a write of its own: remembered after that write, as Redis runs them.
      [1, [c('SET m 1'), c('GETRANGE m x y'), c('PING')]],
      [0, [c('SET m 2')]],
      [1, [c('CLIENT TRACKING ON NOLOOP'), c('GET k'), c('SET k 1'), c('GET k')]],
      [0, [c('SET k 2'), c('RENAME k k2'), c('COPY k2 j')]],
      [1, [c('CLIENT TRACKINGINFO'), c('CLIENT GETREDIR'), c('GET l'), c('CLIENT TRACKING OFF'), c('CLIENT TRACKINGINFO'), c('CLIENT GETREDIR')]],
      [0, [c('SET l 1'), c('SET l 2')]],
    ],
  },
  {
    name: 'scripts: a read is remembered as it runs (the script\'s own write of the key before it tells nothing of it), in a transaction too',
    conns: 2,
    steps: [
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON'), c('GET k')]],
      [0, [c('SET k 1')]],
      [1, [['EVAL', "redis.call('GET', KEYS[1]) return redis.call('SET', KEYS[1], 'x')", '1', 'k'], c('PING')]],
      [1, [['EVAL', "redis.call('SET', KEYS[1], 'z') return redis.call('GET', KEYS[1])", '1', 'k'], c('PING')]],
      [0, [c('SET k w')]],
      [1, [c('MULTI'), c('SET k 2'), ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'k'], ['EVAL', "return redis.call('STRLEN', KEYS[1])", '1', 'j'], c('EXEC'), c('PING')]],
      [0, [c('SET k 3'), c('SET j 3')]],
    ],
  },
  {
    name: 'BCAST: prefixes, one message per prefix for the keys of a command, NOLOOP; switching modes',
    conns: 3,
    steps: [
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON BCAST PREFIX b PREFIX a'), c('CLIENT TRACKINGINFO')]],
      [2, [c('HELLO 3'), c('CLIENT TRACKING ON BCAST NOLOOP'), c('GET x')]],
      [0, [c('MSET a2 1 b1 2 c1 3 a1 4')]],
      [0, [c('SET c2 1')]],
      [2, [c('SET a3 1'), c('SET zz 1')]],
      // A script's write is its Lua client's to Redis 7.0's broadcast: NOLOOP does not keep it from its caller.
      [2, [['EVAL', "return redis.call('SET', KEYS[1], 's')", '1', 'a4'], c('PING')]],
      [1, [c('SET b2 1'), c('PING')]],
      [1, [c('CLIENT TRACKING ON PREFIX c'), c('CLIENT TRACKING ON BCAST PREFIX ab'), c('CLIENT TRACKING ON BCAST PREFIX c PREFIX cd'), c('CLIENT TRACKING ON BCAST PREFIX c')]],
      [0, [c('SET cd 1'), c('DEL nothing'), c('FLUSHALL')]],
      [1, [c('CLIENT TRACKING OFF'), c('CLIENT TRACKING ON'), c('GET a1'), c('CLIENT TRACKING ON BCAST')]],
      [0, [c('SET a1 5')]],
    ],
  },
  {
    name: 'OPTIN and OPTOUT with CLIENT CACHING; MULTI; FLUSHDB of its own, alone and inside MULTI',
    conns: 2,
    steps: [
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON OPTIN'), c('GET a'), c('CLIENT CACHING YES'), c('GET b'), c('GET c'), c('CLIENT TRACKINGINFO')]],
      [0, [c('MSET a 1 b 1 c 1')]],
      [1, [c('CLIENT CACHING YES'), c('MULTI'), c('GET a'), c('GET b'), c('EXEC'), c('GET c')]],
      [0, [c('MSET a 2 b 2 c 2')]],
      [1, [c('CLIENT CACHING NO'), c('CLIENT TRACKING ON OPTOUT'), c('CLIENT TRACKING OFF'), c('CLIENT TRACKING ON OPTOUT'), c('GET a'), c('CLIENT CACHING NO'), c('GET b'), c('CLIENT TRACKINGINFO')]],
      [0, [c('MSET a 3 b 3')]],
      [1, [c('GET a'), c('MULTI'), c('SET a 4'), c('GET x'), c('EXEC'), c('PING')]],
      [1, [c('GET a'), c('FLUSHDB'), c('PING')]],
      [0, [c('SET a 5')]],
      // FLUSHDB inside MULTI: the flush message in its place among the transaction's own changes.
      [1, [c('GET a'), c('GET b'), c('MULTI'), c('SET b 6'), c('FLUSHDB'), c('GET a'), c('MSETNX a 7 z 7'), c('EXEC'), c('PING')]],
      [0, [c('SET a 8'), c('SET z 8')]],
    ],
  },
  {
    name: 'REDIRECT: to a RESP2 subscriber of __redis__:invalidate, to a RESP3 connection, then gone (broken)',
    conns: 4,
    steps: [
      [2, [c('SUBSCRIBE __redis__:invalidate')]],
      [1, [c('CLIENT TRACKING ON REDIRECT $2'), c('GET a'), c('GET b'), c('CLIENT TRACKINGINFO')]],
      [0, [c('SET a 1'), c('FLUSHALL')]],
      [3, [c('HELLO 3')]],
      [1, [c('CLIENT TRACKING ON REDIRECT $3'), c('GET a'), c('SET a 2')]],
      [3, [c('QUIT')]],
      [1, [c('HELLO 3'), c('GET b'), c('CLIENT TRACKINGINFO')]],
      [0, [c('SET b 1'), c('SET b 2')]],
      [1, [c('CLIENT TRACKINGINFO'), c('CLIENT TRACKING ON'), c('CLIENT TRACKINGINFO'), c('GET b')]],
      [0, [c('SET b 3')]],
      // A RESP3 connection's flush null, written into the RESP2 message of the connection it redirects to.
      [1, [c('CLIENT TRACKING ON REDIRECT $2'), c('GET b')]],
      [0, [c('FLUSHALL')]],
    ],
  },
  {
    name: 'keyspace events beside the messages: another\'s change told before its events, its own after them (Redis\'s pending keys)',
    conns: 2,
    steps: [
      [0, [c('CONFIG SET notify-keyspace-events KEA')]],
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON'), c('PSUBSCRIBE __keyspace@0__:*'), c('MGET p q r')]],
      [1, [c('MSET p 1 q 2'), c('GET p'), c('GET q'), c('EXPIRE p 100'), c('RENAME p q'), c('PING')]],
      [1, [c('GET q'), c('GET r'), c('MSETNX r 1 s 2'), c('GET r'), c('GET s')]],
      [0, [c('RENAME r s'), c('MSET q 3 r 4'), ['CONFIG', 'SET', 'notify-keyspace-events', '']]],
    ],
  },
  {
    name: 'order: a HELLO after its own write, another connection\'s message before its reply, a transaction reading what it wrote',
    conns: 3,
    steps: [
      [1, [c('HELLO 3'), c('CLIENT TRACKING ON'), c('GET hk'), c('GET hx')]],
      // Its own change is told after SET's reply, in RESP3: the HELLO 2 behind it waits.
      [1, [c('SET hk 1'), c('HELLO 2'), c('PING')]],
      [1, [c('HELLO 3'), c('GET hk')]],
      [2, [c('HELLO 3'), c('CLIENT TRACKING ON REDIRECT $1'), c('GET hx')]],
      // Connection 2's message (redirected here) during the SET, then its own after the reply (behind the reply of
      // a write of the same batch).
      [1, [c('SET hz 1'), c('SET hx 1'), c('PING')]],
      // The SET before the GET in the transaction tells nothing: the GET is remembered after it.
      [1, [c('MULTI'), c('SET mk 1'), c('GET mk'), c('EXEC'), c('PING')]],
      [0, [c('SET mk 2')]],
    ],
  },
  {
    name: 'errors, in Redis\'s order',
    conns: 1,
    steps: [
      [0, [c('CLIENT TRACKING'), c('CLIENT TRACKING MAYBE'), c('CLIENT TRACKING ON FOO'), c('CLIENT TRACKING ON REDIRECT'), c('CLIENT TRACKING ON REDIRECT x'), c('CLIENT TRACKING ON REDIRECT 999999')]],
      [0, [c('CLIENT TRACKING ON REDIRECT $0 REDIRECT $0'), c('CLIENT TRACKING OFF FOO'), c('CLIENT TRACKING ON PREFIX a'), c('CLIENT TRACKING ON BCAST OPTIN'), c('CLIENT TRACKING ON OPTIN OPTOUT')]],
      [0, [c('CLIENT TRACKING ON BCAST PREFIX ab PREFIX a'), c('CLIENT TRACKING ON BCAST PREFIX a PREFIX b'), c('CLIENT TRACKING ON BCAST PREFIX ab'), ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', '']]],
      [0, [c('CLIENT CACHING YES'), c('CLIENT TRACKING OFF'), c('CLIENT CACHING YES'), c('CLIENT TRACKING ON'), c('CLIENT CACHING YES'), c('CLIENT CACHING NO'), c('CLIENT CACHING MAYBE'), c('CLIENT CACHING')]],
      [0, [c('CLIENT TRACKING ON OPTIN'), c('CLIENT TRACKING ON OPTOUT'), c('CLIENT TRACKING ON BCAST'), c('CLIENT GETREDIR x'), c('CLIENT TRACKINGINFO x'), c('CLIENT TRACKINGINFO')]],
    ],
  },
];

const KEYS = ['a', 'b', 'ab', 'c'];

/**
 * A seeded conversation of three connections (RESP3 at first) turning tracking on and off in its modes and
 * redirecting to one another, reading and writing a few keys, in transactions, switching protocols, pipelined.
 */
function randomScript(seed: number, steps: number): Step[] {
  const r = new Prng(seed);
  const out: Step[] = [0, 1, 2].map((i) => [i, [['HELLO', '3']]]);
  // Keyspace events beside the messages, in half the conversations (their relative order is Redis's too).
  out.push([0, [['CONFIG', 'SET', 'notify-keyspace-events', r.chance(0.5) ? 'KEA' : '']]]);
  for (let i = 0; i < steps; i++) {
    const cmds: string[][] = [];
    const conn = r.int(3);
    for (let k = 1 + r.int(4); k > 0; k--) {
      const roll = r.int(16);
      const key = r.pick(KEYS)!;
      const read = (): string[] => r.pick([['GET', key], ['MGET', key, r.pick(KEYS)!], ['EXISTS', key], ['STRLEN', key], ['TTL', key]])!;
      const write = (): string[] => r.pick([['SET', key, `v${i}`], ['INCR', key], ['DEL', key, r.pick(KEYS)!], ['APPEND', key, 'x'], ['SET', key, 'v', 'NX'], ['EXPIRE', key, '100'], ['MSETNX', key, 'm', r.pick(KEYS)!, 'n'], ['PFADD', key, `e${i % 3}`], ['PFMERGE', key, r.pick(KEYS)!]])!;
      if (roll < 4) cmds.push(read());
      else if (roll < 8) cmds.push(write());
      else if (roll === 8) cmds.push(['CLIENT', 'TRACKING', ...r.pick([['ON'], ['ON', 'NOLOOP'], ['ON', 'OPTIN'], ['ON', 'OPTOUT'], ['ON', 'BCAST'], ['ON', 'BCAST', 'PREFIX', 'a'], ['ON', 'BCAST', 'NOLOOP'], ['OFF']])!]);
      else if (roll === 9) cmds.push(['CLIENT', 'CACHING', r.pick(['YES', 'NO'])!]);
      else if (roll === 10) cmds.push(['CLIENT', 'TRACKINGINFO']);
      // Redirects go to connection 0, which runs no MULTI: a message for a connection running EXEC, Redis writes inside
      // EXEC's array, threadraft before it (docs/resp.md, Differences).
      else if (roll === 11 && conn !== 0 && r.chance(0.6)) cmds.push(['MULTI'], read(), r.chance(0.2) ? ['FLUSHDB'] : write(), read(), ['EXEC']);
      // A transaction holding scripts that read or write (not both: a script's read of a key it then writes, Redis
      // remembers after the write; docs/resp.md, Client-side caching).
      else if (roll === 11 && conn !== 0) {
        const script = (): string[] => r.chance(0.5) ? ['EVAL', "return redis.call('GET', KEYS[1])", '1', r.pick(KEYS)!] : ['EVAL', "return redis.call('SET', KEYS[1], 's')", '1', r.pick(KEYS)!];
        cmds.push(['MULTI'], script(), write(), script(), read(), ['EXEC']);
      }
      else if (roll === 12) cmds.push(['CLIENT', 'TRACKING', 'ON', 'REDIRECT', r.pick(['$0', `$${conn}`])!]);
      else if (roll === 13) cmds.push(['HELLO', r.pick(['2', '3'])!]);
      else if (roll === 14 && r.chance(0.2)) cmds.push(['FLUSHALL']);
      // Connection 0, which runs no MULTI (a transaction's events to its own connection: Differences in docs/resp.md).
      else if (roll === 15 && conn === 0 && r.chance(0.3)) cmds.push([r.chance(0.7) ? 'PSUBSCRIBE' : 'PUNSUBSCRIBE', '__keyspace@0__:*']);
      else cmds.push(['PING']);
    }
    out.push([conn, cmds]);
  }
  return out;
}

test('client-side caching conversations get the same bytes from threadraft as from Redis', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  let invalidations = 0;
  const random = randomConversations('THREADRAFT_TRACKING_SEEDS', (seed) => randomScript(seed, 40));
  for (const s of [...SCRIPTS, ...random]) {
    const theirs = await sameAsRedis(redis, served, s);
    invalidations += theirs.join('').split('invalidate\r\n').length - 1;
    // Between scripts: nothing tracked is left behind for the next one (the table outlives connections, as Redis's).
    await Promise.all([redis.port, served.port].map(async (port) => {
      const r = await raw(port);
      r.socket.write(encode('FLUSHALL'));
      await r.until(endsWith('+OK\r\n'));
      r.end();
    }));
  }
  assert.ok(invalidations >= 50, `${invalidations} invalidation messages`);
}));

/** A RESP3 connection with tracking on (`options`), and a reader of what it is sent. */
async function tracker(port: number, ...options: string[]): Promise<Raw> {
  const r = await raw(port);
  r.socket.write(Buffer.concat([encode('HELLO', '3'), encode('CLIENT', 'TRACKING', 'ON', ...options)]));
  await r.until(endsWith('+OK\r\n'));
  return r;
}

const invalidated = (...keys: string[]): string => `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;

test('tracked keys are invalidated by writes through the Cluster API, cluster.clear(), expiry and eviction', async () => {
  const s = await serve({ nodes: 3, storage: 'memory', maxKeys: 20 });
  const t = await tracker(s.port);
  const b = await tracker(s.port, 'BCAST', 'PREFIX', 'api:');
  try {
    const read = async (...keys: string[]): Promise<void> => {
      const before = t.received().length;
      t.socket.write(Buffer.concat(keys.map((k) => encode('GET', k))));
      await t.until((buf) => buf.subarray(before).toString('latin1').split('\r\n').length > keys.length);
    };
    const next = async (r: Raw, text: string): Promise<void> => {
      await r.until((buf) => buf.toString('latin1').includes(text));
    };
    await read('api:1', 'api:2', 'api:3');
    // A put, a batch (rename: both keys), a failed cas (nothing written, nothing sent), a delete.
    await s.cluster.put(Buffer.from('api:1'), Buffer.from('v'));
    await next(t, invalidated('api:1'));
    await next(b, invalidated('api:1'));
    await s.cluster.batch([{ type: 'put', key: Buffer.from('api:2'), value: Buffer.from('x') }]);
    await next(t, invalidated('api:2'));
    const casFailed = await s.cluster.batch([{ type: 'cas', key: Buffer.from('api:3'), expected: Buffer.from('nope'), value: Buffer.from('y') }]);
    assert.equal(casFailed.ok, false);
    await read('api:2');
    await s.cluster.batch([{ type: 'rename', key: Buffer.from('api:1'), to: Buffer.from('api:2') }]);
    await next(t, invalidated('api:2'));
    assert.ok(!t.received().toString('latin1').includes(invalidated('api:3')), 'a rejected batch changed nothing');
    // cluster.clear(): everything changed (a null).
    await s.cluster.clear();
    await next(t, '>2\r\n$10\r\ninvalidate\r\n_\r\n');
    await next(b, '>2\r\n$10\r\ninvalidate\r\n_\r\n');
    // cluster.clear({ prefix }): the keys read under it are invalidated, not the others; a BCAST connection whose
    // prefix it may hold keys of is told everything changed (a null: the keys removed are not known here), one
    // with another prefix nothing.
    const nulls = (buf: Buffer): number => buf.toString('latin1').split('>2\r\n$10\r\ninvalidate\r\n_\r\n').length - 1;
    const z = await tracker(s.port, 'BCAST', 'PREFIX', 'zz:');
    try {
      const [tn, bn] = [nulls(t.received()), nulls(b.received())];
      await read('api:9', 'keep:1');
      await s.cluster.clear({ prefix: 'api:' });
      await next(t, invalidated('api:9'));
      await b.until((buf) => nulls(buf) > bn);
      await s.cluster.put(Buffer.from('keep:1'), Buffer.from('v'));
      await next(t, invalidated('keep:1'));
      await s.cluster.put(Buffer.from('zz:1'), Buffer.from('v'));
      await next(z, invalidated('zz:1'));
      assert.equal(nulls(t.received()), tn, 'no null for a connection that read keys');
      assert.equal(nulls(z.received()), 0, 'no null for a BCAST prefix the cleared one cannot hold');
    } finally {
      z.end();
    }
    // Expiry: purged through the log shortly after its time, whoever wrote it.
    await s.cluster.put(Buffer.from('exp'), Buffer.from('v'), { ttlMs: 150 });
    await read('exp');
    await next(t, invalidated('exp'));
    // Eviction (maxKeys 20): the oldest keys go first.
    await s.cluster.put(Buffer.from('old'), Buffer.from('v'));
    await read('old');
    for (let i = 0; i < 25; i++) await s.cluster.put(Buffer.from(`fill${i}`), Buffer.from('v'));
    await next(t, invalidated('old'));
  } finally {
    t.end();
    b.end();
    await s.stop();
  }
});

test('a script\'s reads are remembered (its read-only commands\' keys, declared or not, as Redis 7.2), EVAL_RO\'s declared keys alone are not, OPTIN holds for the script', async () => {
  const s = await serve({ nodes: 3, storage: 'memory' });
  const t = await tracker(s.port);
  const o = await tracker(s.port, 'OPTIN');
  const w = await raw(s.port);
  try {
    const send = async (r: Raw, ...cmds: string[][]): Promise<void> => {
      const m = `mark-${Math.random()}`;
      r.socket.write(Buffer.concat([...cmds.map((cmd) => encode(...cmd)), encode('PING', m)]));
      await r.until((buf) => buf.toString('latin1').includes(m));
    };
    await send(t,
      ['EVAL', "return {redis.call('GET', KEYS[1]), redis.call('STRLEN', 'undeclared'), redis.call('SET', 'written', 'x').ok}", '1', 'declared'],
      ['EVAL_RO', 'return 1', '1', 'ro-unread'], ['EVALSHA_RO', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '1', 'ro-unread'],
      ['EVAL_RO', "return redis.call('GET', KEYS[1])", '1', 'ro-read']);
    await send(o, ['EVAL', "return redis.call('GET', 'not-opted')", '0'], ['CLIENT', 'CACHING', 'YES'], ['EVAL', "return redis.call('GET', 'opted')", '0']);
    await send(w, ...['declared', 'undeclared', 'ro-unread', 'ro-read', 'not-opted', 'opted'].map((k) => ['SET', k, 'changed']));
    await t.until((buf) => buf.toString('latin1').includes(invalidated('ro-read')));
    await o.until((buf) => buf.toString('latin1').includes(invalidated('opted')));
    await send(t, ['PING']);
    await send(o, ['PING']);
    const tb = t.received().toString('latin1');
    const ob = o.received().toString('latin1');
    for (const k of ['declared', 'undeclared']) assert.ok(tb.includes(invalidated(k)), `${k} invalidated`);
    assert.ok(!tb.includes(invalidated('ro-unread')), 'EVAL_RO\'s declared key it did not read is not remembered');
    assert.ok(!ob.includes(invalidated('not-opted')), 'OPTIN: a script without CLIENT CACHING YES is not remembered');
  } finally {
    t.end();
    o.end();
    w.end();
    await s.stop();
  }
});

test('on one RESP3 connection, keyspace events and invalidations come in Redis\'s order: a write\'s invalidation first (RENAME: both keys, then its events; MSETNX key by key), an expiry\'s event first', async () => {
  const s = await serve();
  const w = await raw(s.port);
  const r = await raw(s.port);
  try {
    let marks = 0;
    const sent = async (c: Raw, ...cmds: string[][]): Promise<number> => {
      const m = `m${++marks}`;
      c.socket.write(Buffer.concat([...cmds.map((a) => encode(...a)), encode('PING', m)]));
      return (await c.until(endsWith(`${m}\r\n`))).length;
    };
    await sent(w, ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'], ['MSET', 'a', '0', 'b', '0']);
    await sent(r, ['HELLO', '3'], ['SUBSCRIBE', ...['a', 'b', 'd', 'e', 't'].map((k) => `__keyspace@0__:${k}`)], ['CLIENT', 'TRACKING', 'ON'], ['MGET', 'a', 'b', 'd', 'e']);
    // The bytes redis-server 7.0.15 writes to that connection for each (one message per pair of lines below).
    const msg = (k: string, e: string): string => `>3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:${k}\r\n$${e.length}\r\n${e}\r\n`;
    const expect = async (cmd: string[], expected: string): Promise<void> => {
      const before = await sent(r, ['MGET', 'a', 'b', 'd', 'e']); // remembered (again)
      w.socket.write(encode(...cmd));
      const got = await r.until((b) => b.length >= before + expected.length);
      assert.equal(got.subarray(before).toString('latin1'), expected, cmd.join(' '));
    };
    await expect(['RENAME', 'a', 'b'], invalidated('a') + invalidated('b') + msg('a', 'rename_from') + msg('b', 'rename_to'));
    await expect(['MSETNX', 'd', '1', 'e', '2'], invalidated('d') + msg('d', 'set') + invalidated('e') + msg('e', 'set'));
    await expect(['MSET', 'd', '3', 'b', '4'], invalidated('d') + msg('d', 'set') + invalidated('b') + msg('b', 'set'));
    // Expiry: Redis notifies "expired", then signals the key.
    await sent(w, ['SET', 't', 'v', 'PX', '1000']);
    const before = await sent(r, ['GET', 't']);
    const expired = msg('t', 'expired') + invalidated('t');
    const got = await r.until((b) => b.length >= before + expired.length);
    assert.equal(got.subarray(before).toString('latin1'), expired);
  } finally {
    w.end();
    r.end();
    await s.stop();
  }
});

test('the tracking table is bounded (trackingTableMaxKeys): the keys remembered longest ago are invalidated; INFO and CLIENT LIST show tracking', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' }, { trackingTableMaxKeys: 3 });
  const t = await tracker(s.port);
  const redirecting = await raw(s.port);
  const info = await raw(s.port);
  try {
    t.socket.write(Buffer.concat(['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => encode('GET', k))));
    await t.until((buf) => buf.toString('latin1').includes(invalidated('k2')));
    assert.match(t.received().toString('latin1'), new RegExp(`${escape(invalidated('k1'))}[\\s\\S]*${escape(invalidated('k2'))}`));
    redirecting.socket.write(encode('CLIENT', 'TRACKING', 'ON', 'REDIRECT', '1', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'b'));
    await redirecting.until(endsWith('+OK\r\n'));
    info.socket.write(Buffer.concat([encode('INFO', 'clients', 'stats'), encode('CLIENT', 'LIST')]));
    const text = (await info.until((buf) => /cmd=client\|list[^\n]*\n\r\n$/.test(buf.toString('latin1')))).toString('latin1');
    assert.match(text, /tracking_clients:2\r\n/);
    assert.match(text, /tracking_total_keys:3\r\ntracking_total_items:3\r\ntracking_total_prefixes:2\r\n/);
    assert.match(text, /id=1 .* flags=t .* redir=0 resp=3 /, "tracking without REDIRECT: 0, as Redis");
    assert.match(text, /id=2 .* flags=tB .* redir=1 resp=2 /);
    // The connection it redirects to goes: the redirect is broken (R).
    t.end();
    await new Promise((r) => setTimeout(r, 50));
    await s.cluster.put(Buffer.from('a1'), Buffer.from('v'));
    redirecting.socket.write(encode('CLIENT', 'INFO'));
    await redirecting.until((buf) => / flags=tRB /.test(buf.toString('latin1')));
  } finally {
    t.end();
    redirecting.end();
    info.end();
    await s.stop();
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('node-redis\'s client-side cache (RESP3, CLIENT TRACKING): hits are served from it, and a write anywhere invalidates it', async () => {
  const s = await serve({ nodes: 3, storage: 'memory' });
  const cached = createClient({ socket: { port: s.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
  const writer = createClient({ socket: { port: s.port, host: '127.0.0.1', reconnectStrategy: false } });
  try {
    await Promise.all([cached.connect(), writer.connect()]);
    const cache = cached.clientSideCache!;
    const invalidations: string[] = [];
    cache.on('invalidate', (key: unknown) => invalidations.push(String(key)));
    const waitInvalidated = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && invalidations.length < n; i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(invalidations.length >= n, `${invalidations.length} invalidations, want ${n}`);
    };
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      const key = `k${round % 4}`;
      const value = `v${round}`;
      // Through RESP from another connection, or through the Cluster API.
      if (round % 2 === 0) await writer.set(key, value);
      else await s.cluster.put(Buffer.from(key), Buffer.from(value));
      if (round >= 4) await waitInvalidated(++expected); // the key was read (cached) before: one message
      assert.equal(await cached.get(key), value);
      assert.equal(await cached.get(key), value); // from the cache
    }
    const stats = cache.stats();
    assert.equal(stats.hitCount, 20);
    assert.equal(stats.missCount, 20);
  } finally {
    await Promise.allSettled([cached.quit(), writer.quit()]);
    await s.stop();
  }
});

test('a write that timed out (its outcome unknown) and was applied after all still invalidates', { timeout: 60_000 }, async () => {
  // The 'seed' timing (election timeout 1.5-3 s): the leader keeps leading well past the 600 ms deadline.
  const s = await serve({ nodes: 3, storage: 'memory', timing: 'seed', requestTimeoutMs: 600 });
  const t = await tracker(s.port);
  try {
    await s.cluster.put(Buffer.from('late'), Buffer.from('v1'));
    t.socket.write(encode('GET', 'late'));
    await t.until(endsWith('$2\r\nv1\r\n'));
    const followers = (await s.cluster.status()).filter((n) => n.role === 'follower').map((n) => n.id);
    await s.cluster.setLinkFaults({ dropRate: 1, nodes: followers }); // no acknowledgement reaches the leader: nothing commits
    await assert.rejects(s.cluster.put(Buffer.from('late'), Buffer.from('v2')), (err: Error & { code?: string }) => err.code === 'TIMEOUT');
    assert.ok(!t.received().toString('latin1').includes('invalidate'), 'nothing was applied yet');
    await s.cluster.setLinkFaults({ nodes: followers });
    await t.until((b) => b.toString('latin1').includes(invalidated('late')), 10_000);
    assert.equal(String(await s.cluster.get(Buffer.from('late'))), 'v2');
  } finally {
    t.end();
    await s.stop();
  }
});

test('when the watch of expiries and evictions lost events (WATCH_COMPACTED), every tracking connection is told that everything changed', async () => {
  const pushes: PushReply[] = [];
  const conn = { id: 1, tracking: trackingOff(), protocol: 3, subscriptions: new Subscriptions(), push: (m: PushReply) => pushes.push(m) } as unknown as ConnectionState;
  let calls = 0;
  const cluster = {
    watch: (_range: unknown, opts: { signal: AbortSignal }) => {
      const first = ++calls === 1;
      return {
        nextRevision: 5,
        async *[Symbol.asyncIterator](): AsyncGenerator<never> {
          if (first) throw new ClusterError(ErrorCode.WATCH_COMPACTED, 'the events from revision 5 are gone');
          await new Promise((r) => opts.signal.addEventListener('abort', r));
        },
      };
    },
  } as unknown as Cluster;
  const stats = { keyspaceHits: 0, keyspaceMisses: 0 } as ServerStats;
  const notifier = new KeyspaceNotifier(cluster, new PubSubRegistry(), stats);
  const table = new TrackingTable(new Map([[1, conn]]), 10, () => notifier.refresh());
  notifier.tracking = table;
  table.enable(conn, 0, { bcast: false, optin: false, optout: false, noloop: false }, []); // the watch starts
  try {
    for (let i = 0; i < 200 && calls < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(calls, 2, 'watched again after the loss');
    assert.equal(pushes.length, 1);
    assert.deepEqual(pushes[0]!.items, [Buffer.from('invalidate'), new RawReply(Buffer.from('_\r\n'))], 'a null in the tracking connection\'s protocol');
  } finally {
    await notifier.close();
  }
});
