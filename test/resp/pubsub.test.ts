// Pub/Sub through the RESP server: conversations of several connections, scripted and seeded random ones
// (THREADRAFT_PUBSUB_SEEDS=a-b runs more), compared byte for byte with redis-server (RESP2 and RESP3, pipelined,
// errors, subscribed mode, MULTI, keyspace notifications of the writes and reads among them), and what Redis cannot
// be compared on:
// a PUBLISH after a write is delivered after the write is applied, a subscriber that does not read is closed at
// maxPubsubOutputBytes, the client list and INFO fields, MULTI, and a closed connection's subscriptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { onPath } from '../../bench/resp-targets.js';
import { Prng } from '../sim/prng.js';
import { againstRedis, encode, endsWith, raw, randomConversations, sameAsRedis, serve, NO_REDIS, words as c, type Raw, type Conversation, type Step } from './helpers.js';

/** Conversations of a subscriber or two (1, 2) and a publisher (0). Patterns are one per connection: Redis's order among several matching ones is its hash table's. */
const SCRIPTS: Conversation[] = [
  {
    name: 'RESP2: channels and a pattern, counts, subscribed mode, PUBSUB',
    conns: 2,
    steps: [
      [1, [c('SUBSCRIBE news sport news')]],
      [0, [c('PUBLISH news hello'), c('PUBLISH other x'), c('PUBLISH sport'), c("PUBLISH sport ''")]],
      [1, [c('PSUBSCRIBE n*')]],
      [0, [c('PUBLISH news both'), c('PUBLISH nope pattern-only'), c('PUBSUB NUMSUB news sport n* other'), c('PUBSUB NUMPAT'), c('PUBSUB CHANNELS s*'), c('PUBSUB CHANNELS zz*')]],
      [1, [c('GET k'), c('SET k v'), c('PUBSUB NUMPAT'), c('PING'), c('PING x'), c('ECHO x'), c('NOSUCH a')]],
      [1, [c('UNSUBSCRIBE sport nothere')]],
      [0, [c('PUBLISH sport gone'), c('PUBLISH news still')]],
      [1, [c('UNSUBSCRIBE'), c('UNSUBSCRIBE'), c('PUNSUBSCRIBE'), c('PUNSUBSCRIBE'), c('PING'), c('GET k')]],
      [0, [c('PUBLISH news none'), c('PUBSUB NUMSUB news'), c('PUBSUB NUMPAT'), c('PUBSUB CHANNELS')]],
    ],
  },
  {
    name: 'RESP3: pushes beside replies, a message to itself before its PUBLISH reply, shard channels, RESET',
    conns: 2,
    steps: [
      [1, [c('HELLO 3'), c('SUBSCRIBE a'), c('SET k v'), c('GET k'), c('PUBLISH a self'), c('PUBLISH a self-2'), c('GET k')]],
      [0, [c('PUBLISH a from-0'), c('SET k w'), c('PUBLISH a after-set')]],
      [1, [c('SSUBSCRIBE s1 s2'), c('PUBSUB SHARDNUMSUB s1 s3'), c('PUBSUB SHARDCHANNELS s1*')]],
      [0, [c('SPUBLISH s1 sharded'), c('PUBLISH s1 not-shard'), c('SPUBLISH a not-channel')]],
      [1, [c('SUNSUBSCRIBE s1'), c('UNSUBSCRIBE'), c('SUNSUBSCRIBE'), c('SUNSUBSCRIBE'), c('PING')]],
      [1, [c('PSUBSCRIBE a?'), c('RESET'), c('PING')]],
      [0, [c('PUBLISH ab after-reset'), c('PUBSUB NUMPAT')]],
      // A message to itself, answered after the SET, with a HELLO 2 dispatched behind it: in RESP3, its place's protocol.
      [1, [c('HELLO 3'), c('SUBSCRIBE a')]],
      [1, [c('SET k v2'), c('PUBLISH a self-3'), c('HELLO 2'), c('PING')]],
    ],
  },
  {
    name: 'pipelines that subscribe, read and publish in one write; a publisher in MULTI',
    conns: 3,
    steps: [
      [1, [c('SET k 1'), c('SUBSCRIBE ch'), c('PING'), c('UNSUBSCRIBE ch'), c('GET k'), c('SUBSCRIBE ch')]],
      [2, [c('HELLO 3'), c('GET k'), c('PSUBSCRIBE c[gh]'), c('INCR k'), c('PUBLISH ch mine'), c('PUNSUBSCRIBE c[gh]'), c('PUBLISH ch gone')]],
      [2, [c('PSUBSCRIBE c\\h')]],
      [0, [c('MULTI'), c('SET k 5'), c('PUBLISH ch in-multi'), c('INCR k'), c('EXEC'), c('PUBLISH cg x')]],
      [0, [c('PUBLISH ch a'), c('PUBLISH ch b'), c('PUBLISH ch c')]],
      // Answers in order: the second PUBLISH waits for the INCR, and the EXEC's PUBLISH (sent at once) for both.
      [0, [c('PUBLISH ch q'), c('INCR n'), c('PUBLISH ch m'), c('MULTI'), c('SET bb t'), c('PUBLISH ch x'), c('INCR n'), c('EXEC')]],
      [1, [c('SUBSCRIBE'), c('PUBSUB'), c('UNSUBSCRIBE x y')]],
      [0, [c('PUBLISH ch x y'), c('PUBLISH'), c('PUBSUB FOO'), c('PUBSUB HELP x'), c('PUBSUB CHANNELS a b'), c('PUBSUB NUMPAT x'), c('PUBSUB HELP')]],
    ],
  },
  {
    // Keyspace notifications of write commands (the server's setting: the script turns it off at its end). A
    // subscriber's own writes' events come before their replies, and a transaction's when EXEC applies it, between
    // the events and messages of the commands around it.
    name: 'keyspace notifications: a RESP3 connection told of its own writes, a transaction, pipelines',
    conns: 3,
    steps: [
      [0, [c('CONFIG SET notify-keyspace-events KEA')]],
      [1, [c('HELLO 3'), c('PSUBSCRIBE __keyspace@0__:*'), c('SET k v'), c('INCR n'), c('GET k'), c('SET k w NX'), c('APPEND k x'), c('PUBLISH __keyspace@0__:k fake'), c('DEL k nokey')]],
      // Redis replies before it publishes for a command that replies what it read (SET ... GET, GETSET, GETDEL, GETEX),
      // EXPIRE setting a time and BITFIELD; after, for the others (an EXPIRE to a time past deletes: before).
      [1, [c('SET r v'), c('EXPIRE r 100'), c('GETEX r PERSIST'), c('GETSET r w'), c('SET r x GET'), c('GETDEL r'), c('SET r y'), c('BITFIELD r SET u8 0 1'), c('EXPIRE r 0'), c('PING')]],
      [2, [c('SUBSCRIBE __keyevent@0__:del __keyevent@0__:expire'), c('PING')]],
      [0, [c('MULTI'), c('SET a 1'), c('EXPIRE a 100'), c('RENAME a b'), c('PUBLISH __keyevent@0__:del between'), c('DEL b'), c('EXEC'), c('SETEX c 100 v'), c('EXPIRE c 0'), c('GETDEL n')]],
      [0, [c('MSET x 1 y 2'), c('SETRANGE x 0 ab'), c('SETBIT x 1 1'), c('BITOP OR z x y'), c('COPY z zz'), c('INCRBYFLOAT zz 1'), c('PERSIST x'), c('GETEX y PX 99999')]],
      // Key misses of its own reads, a TTL (a read of its own) among key reads: each before its reply, in order. (Not
      // MGET's: Redis writes them inside its array, threadraft before it: docs/resp.md, Differences.)
      [1, [c('CONFIG SET notify-keyspace-events KEm'), c('GET nokey'), c('TTL nokey'), c('GET nokey2'), c('EXISTS nokey'), c('GET x'), c('PTTL nokey3')]],
      [1, [c('CONFIG SET notify-keyspace-events Kg'), c('SET s 1'), c('DEL s'), c('CONFIG SET notify-keyspace-events E$'), c('SET s 2'), c('DEL s')]],
      [0, [c('SET s 3'), c("CONFIG SET notify-keyspace-events ''"), c('DEL s'), c('CONFIG GET notify-keyspace-events')]],
      // CONFIG GET answered after the CONFIG SET before it, in a pipeline and in a transaction.
      [0, [c('MULTI'), c('CONFIG SET notify-keyspace-events KEg'), c('CONFIG GET notify-keyspace-events'), c('DEL s'), c('EXEC'), c('CONFIG GET notify-*')]],
      [2, [c('UNSUBSCRIBE __keyevent@0__:expire __keyevent@0__:del'), c("CONFIG SET notify-keyspace-events ''"), c('CONFIG GET notify-keyspace-events')]],
    ],
  },
  {
    // Redis looks a container's subcommand up with the command: unknown, or of a wrong arity, it is refused before the
    // subscribed-mode check and, inside MULTI, aborts the transaction (threadraft queued it: EXEC replied the error).
    name: 'container subcommands refused before anything else: in subscribed mode, inside MULTI',
    conns: 1,
    steps: [
      [0, [c('MULTI'), c('CLIENT ID x'), c('EXEC'), c('MULTI'), c('CLIENT FOO'), c('EXEC'), c('MULTI'), c('CONFIG GET'), c('MEMORY USAGE'), c('EXEC')]],
      [0, [c('CONFIG SET x'), c('COMMAND GETKEYS get'), c('COMMAND COUNT x'), c('MEMORY FOO'), c('CONFIG RESETSTAT x'), c('CLIENT SETNAME'), c('CLIENT KILL'), c('CLIENT LIST x'), c('PUBSUB NUMSUB')]],
      [0, [c('SUBSCRIBE a'), c('PUBSUB HELP x'), c('PUBSUB FOO'), c('CLIENT'), c('CLIENT ID x'), c('PUBSUB NUMPAT'), c('CLIENT ID')]],
    ],
  },
];

/** Channels, and patterns that never match one channel together (Redis orders several matching ones by its hash table). */
const CHANNELS = ['a', 'ab', 'bb', 'b', 'cx', 'cz'];
const PATTERNS = ['a*', 'b?', 'c[xy]', '__keyspace@0__:*'];
/** Keyspace notification channels (the SETs, GETs and INCRs below write and read keys named as CHANNELS, and n). */
const KEY_CHANNELS = ['__keyevent@0__:set', '__keyevent@0__:incrby', '__keyevent@0__:keymiss', '__keyspace@0__:a', '__keyspace@0__:n'];
const KINDS = [['SUBSCRIBE', 'UNSUBSCRIBE', [...CHANNELS, ...KEY_CHANNELS]], ['PSUBSCRIBE', 'PUNSUBSCRIBE', PATTERNS], ['SSUBSCRIBE', 'SUNSUBSCRIBE', CHANNELS]] as const;
const NOTIFY_FLAGS = ['KEA', 'KEAm', 'Kg$', 'E$m', 'Em', ''];

/**
 * A seeded conversation of three connections. The generator follows each connection's protocol, subscriptions and
 * subscribed mode, to leave out what the two servers may order differently: an UNSUBSCRIBE of all (Redis: its hash
 * table's order) while more than one is subscribed, and what threadraft refuses inside MULTI.
 */
function randomScript(seed: number, steps: number): Step[] {
  const r = new Prng(seed);
  const conns = [0, 1, 2].map(() => ({ protocol: 2, subs: [new Set<string>(), new Set<string>(), new Set<string>()] }));
  const some = (items: readonly string[]): string[] => items.filter(() => r.chance(0.4)).concat(r.pick(items)!);
  // Keyspace notifications set at the start (the server's setting outlives a script).
  const out: Step[] = [[0, [['CONFIG', 'SET', 'notify-keyspace-events', r.pick(NOTIFY_FLAGS)!]]]];
  for (let i = 0; i < steps; i++) {
    const n = r.int(3);
    const conn = conns[n]!;
    const cmds: string[][] = [];
    for (let k = 1 + r.int(4); k > 0; k--) {
      const subscribed = conn.subs.some((set) => set.size > 0);
      const kind = r.int(3);
      const [sub, unsub, names] = KINDS[kind]!;
      const set = conn.subs[kind]!;
      const roll = r.int(16);
      if (roll < 3) {
        const picked = some(names);
        cmds.push([sub, ...picked]);
        for (const x of picked) set.add(x);
      } else if (roll < 5) {
        const picked = set.size > 1 || r.chance(0.7) ? some(names) : [];
        cmds.push([unsub, ...picked]);
        if (picked.length === 0) set.clear();
        for (const x of picked) set.delete(x);
      } else if (roll < 9) cmds.push([kind === 2 ? 'SPUBLISH' : 'PUBLISH', r.pick(CHANNELS)!, `m${i}.${k}`]);
      else if (roll === 9) cmds.push(r.pick([['PUBSUB', 'NUMSUB', ...some(CHANNELS)], ['PUBSUB', 'SHARDNUMSUB', ...some(CHANNELS)], ['PUBSUB', 'NUMPAT'], ['PUBSUB', 'CHANNELS', r.pick(CHANNELS)!], ['PUBSUB', 'SHARDCHANNELS', r.pick(CHANNELS)!]])!);
      else if (roll === 10) cmds.push(r.chance(0.5) ? ['PING'] : ['PING', `p${i}`]);
      else if (roll === 11 || roll === 15) cmds.push(r.pick([['SET', r.pick(CHANNELS)!, `v${i}`], ['GET', r.pick(CHANNELS)!], ['INCR', 'n']])!);
      else if (roll === 12 && !(subscribed && conn.protocol === 2)) {
        conn.protocol = conn.protocol === 2 ? 3 : 2;
        cmds.push(['HELLO', String(conn.protocol)]);
      } else if (roll === 13 && !(subscribed && conn.protocol === 2) && !conn.subs.some((set) => [...set].some((x) => x.startsWith('__key')))) {
        // A subscribed RESP3 connection publishing to itself inside MULTI: Redis writes the push inside EXEC's array,
        // threadraft before it (docs/resp.md, Differences); here it publishes where it listens to nothing, and its
        // writes' keyspace events go to channels it does not listen to.
        const channel = subscribed ? 'zz' : r.pick(CHANNELS)!;
        cmds.push(['MULTI'], ['SET', r.pick(CHANNELS)!, `t${i}`], ['PUBLISH', channel, `x${i}`], ['INCR', 'n'], ['EXEC']);
      } else if (roll === 14 && r.chance(0.5)) cmds.push(['CONFIG', 'SET', 'notify-keyspace-events', r.pick(NOTIFY_FLAGS)!]);
      else if (roll === 14) {
        cmds.push(['RESET']);
        conn.protocol = 2;
        for (const s2 of conn.subs) s2.clear();
      } else cmds.push(['PUBLISH', r.pick(CHANNELS)!, `q${i}`]);
    }
    out.push([n, cmds]);
  }
  return out;
}

test('Pub/Sub conversations get the same bytes from threadraft as from Redis, RESP2 and RESP3', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  // The scripts do exercise delivery: messages and pattern messages reached the subscribers.
  let delivered = 0;
  let notified = 0;
  const random = randomConversations('THREADRAFT_PUBSUB_SEEDS', (seed) => randomScript(seed, 40));
  for (const s of [...SCRIPTS, ...random]) {
    const theirs = await sameAsRedis(redis, served, s);
    delivered += theirs.join('').split('message\r\n').length - 1;
    // A keyspace channel followed by a message (a (un)subscribe confirmation is followed by its count).
    notified += theirs.join('').match(/__key(?:space|event)@0__:[^\r]+\r\n\$\d+\r\n/g)?.length ?? 0;
  }
  assert.ok(delivered >= 20, `${delivered} messages`);
  assert.ok(notified >= 10, `${notified} keyspace notifications`);
}));

test('a subscriber told of a write by a PUBLISH pipelined after it reads the value written', async () => {
  const s = await serve({ nodes: 3, storage: 'lmdb', sync: true });
  const sub = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const reader = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const pub = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await Promise.all([sub.connect(), reader.connect(), pub.connect()]);
    // Lease reads: the leader answers from what it has applied, with no round trip that could let the write catch up.
    assert.equal(await reader.call('READONLY'), 'OK');
    const stale: string[] = [];
    let checked = 0;
    const reads: Array<Promise<void>> = [];
    sub.on('message', (_ch: string, text: string) => {
      // The message names the key and the value written just before it: a read after it must see that value.
      const [key, want] = text.split('=') as [string, string];
      reads.push(reader.get(key).then((got) => {
        checked++;
        if (got !== want) stale.push(`${key}: got ${got}, want ${want}`);
      }));
    });
    assert.equal(await sub.subscribe('changes'), 1);
    for (let i = 0; i < 200; i++) {
      const key = `k${i % 5}`;
      await pub.pipeline().set(key, `v${i}`).publish('changes', `${key}=v${i}`).exec();
    }
    await pub.publish('changes', 'k0=v195');
    while (reads.length < 201) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(reads);
    assert.equal(checked, 201);
    assert.deepEqual(stale, []);
  } finally {
    sub.disconnect();
    reader.disconnect();
    pub.disconnect();
    await s.stop();
  }
});

test('a subscriber that does not read is closed at maxPubsubOutputBytes; its subscriptions end with it', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' }, { maxPubsubOutputBytes: 256 * 1024 });
  const slow = await raw(s.port);
  const pub = await raw(s.port);
  try {
    slow.socket.write(encode('SUBSCRIBE', 'firehose'));
    await slow.until(endsWith(':1\r\n'));
    slow.socket.pause(); // reads nothing more: the server's output to it grows
    const payload = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    let closed = false;
    void slow.closed.then(() => (closed = true));
    // Each PUBLISH is answered 1 while the subscriber is there, 0 once it is closed.
    for (; sent < 2000 && !closed; sent++) {
      const before = pub.received().length;
      pub.socket.write(encode('PUBLISH', 'firehose', payload));
      const got = await pub.until((b) => b.length > before);
      if (got.subarray(before).toString() === ':0\r\n') break;
    }
    assert.ok(sent < 2000, 'the subscriber was closed');
    // Closed after about the bound: the socket buffers (kernel and Node) hold part of it, the bound the rest.
    assert.ok(sent * payload.length < 64 * 1024 * 1024, `${sent} messages of 64 KiB before it was closed`);
    pub.socket.write(encode('PUBSUB', 'NUMSUB', 'firehose'));
    await pub.until(endsWith('*2\r\n$8\r\nfirehose\r\n:0\r\n'));
    assert.equal(s.server.clientCount, 1);
  } finally {
    slow.end();
    pub.end();
    await s.stop();
  }
});

test('CLIENT LIST and KILL know pubsub connections; CLIENT INFO counts subscriptions; INFO counts channels; MULTI refuses SUBSCRIBE', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' });
  const a = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const b = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  const sub = await raw(s.port);
  try {
    await Promise.all([a.connect(), b.connect()]);
    sub.socket.write(Buffer.concat([encode('HELLO', '3'), encode('SUBSCRIBE', 'x', 'y'), encode('PSUBSCRIBE', 'p*'), encode('SSUBSCRIBE', 's'), encode('CLIENT', 'INFO')]));
    const info = (await sub.until((buf) => /cmd=client\|info.*\n\r\n$/.test(buf.toString('latin1')))).toString('latin1');
    assert.match(info, / flags=P db=0 sub=2 psub=1 ssub=1 /);
    const stats = String(await a.info('stats'));
    assert.match(stats, /pubsub_channels:2\r\npubsub_patterns:1\r\npubsubshard_channels:1\r\n/);
    const pubsubList = String(await a.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    assert.equal(pubsubList.trim().split('\n').length, 1);
    assert.match(pubsubList, /flags=P .*cmd=client\|info/);
    const normal = String(await a.call('CLIENT', 'LIST', 'TYPE', 'normal')).trim().split('\n');
    assert.equal(normal.length, 2);
    // MULTI: (un)subscribing is refused (it would happen when queued); PUBLISH is queued, delivered at EXEC.
    const t = await raw(s.port);
    t.socket.write(Buffer.concat([encode('MULTI'), encode('SUBSCRIBE', 'x'), encode('EXEC'), encode('PUBSUB', 'NUMSUB', 'x')]));
    const refused = (await t.until(endsWith('$1\r\nx\r\n:1\r\n'))).toString('latin1');
    t.end();
    assert.match(refused, /^\+OK\r\n-ERR 'subscribe' inside MULTI is not supported by threadraft[^\r]*\r\n-EXECABORT Transaction discarded because of previous errors.\r\n\*2\r\n/);
    // A transaction that does not apply (its WATCHed key changed) publishes nothing.
    await b.watch('w');
    await a.set('w', '1');
    const aborted = await b.multi().publish('x', 'never').exec();
    assert.equal(aborted, null);
    assert.deepEqual(await b.multi().publish('x', 'applied').exec(), [[null, 1]]);
    await sub.until((buf) => buf.toString('latin1').includes('$7\r\napplied\r\n'));
    assert.ok(!sub.received().toString('latin1').includes('never'));
    // CLIENT KILL TYPE pubsub closes the subscriber only; its subscriptions end with it.
    assert.equal(await a.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 1);
    await sub.closed;
    assert.deepEqual(await a.call('PUBSUB', 'NUMSUB', 'x', 'y'), ['x', 0, 'y', 0]);
    assert.equal(await a.call('PUBSUB', 'NUMPAT'), 0);
    assert.match(String(await a.info('stats')), /pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n/);
  } finally {
    a.disconnect();
    b.disconnect();
    sub.end();
    await s.stop();
  }
});
