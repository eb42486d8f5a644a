// Keyspace notifications (notify-keyspace-events): CONFIG SET and GET as Redis answers them, the messages of expired
// and evicted keys on __keyspace@0__ and __keyevent@0__, a transaction's CONFIG SET applied at EXEC, the classes
// threadraft does not deliver refused, and write commands' events in the connection's order. The events of write
// commands are compared with Redis's byte for byte by test/resp/differential.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { onPath, startRedisNoPersist } from '../../bench/resp-targets.js';
import { ClusterError } from '../../src/index.js';
import { RespServer } from '../../src/resp/index.js';
import { encode, endsWith, raw, serve, NO_REDIS } from './helpers.js';

function client(port: number): Redis {
  return new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
}

/** A reply, or the error's text. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

test('CONFIG SET and GET notify-keyspace-events answer as Redis for the classes threadraft delivers', { skip: onPath('redis-server') ? false : NO_REDIS }, async () => {
  const redis = await startRedisNoPersist();
  const s = await serve({ nodes: 1, storage: 'memory' });
  const [ours, theirs] = [client(s.port), client(redis.port)];
  try {
    await Promise.all([ours.connect(), theirs.connect()]);
    for (const flags of ['Ex', 'Kx', 'xE', 'KEex', 'E', '', 'xyz', 'x e', 'KEA', 'AK', 'g$', 'Elshzxetd', 'Elshzxetdg$', 'K$g', 'KEAg', 'tE', 'KEm', 'mAK', 'Em$']) {
      const [a, b] = await Promise.all([ours, theirs].map((r) => outcome(r.config('SET', 'notify-keyspace-events', flags))));
      assert.deepEqual(a, b, `CONFIG SET notify-keyspace-events '${flags}'`);
      const [ga, gb] = await Promise.all([ours, theirs].map((r) => r.config('GET', 'notify-keyspace-events')));
      assert.deepEqual(ga, gb, `CONFIG GET after '${flags}'`);
    }
  } finally {
    ours.disconnect();
    theirs.disconnect();
    await s.stop();
    await redis.stop();
  }
});

test('expired keys are published on __keyspace@0__:<key> and __keyevent@0__:expired; a key without expiry is not', async () => {
  const s = await serve({ nodes: 3, storage: 'memory' });
  const [sub, c] = [client(s.port), client(s.port)];
  try {
    await Promise.all([sub.connect(), c.connect()]);
    const got: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, message: string) => got.push(`${channel} ${message}`));
    await sub.psubscribe('__key*__:*');
    // A class threadraft does not deliver is refused, not accepted and left silent (Redis takes them).
    await assert.rejects(c.config('SET', 'notify-keyspace-events', 'KEn'), /threadraft does not notify new keys \(n\)/);
    assert.equal(await c.config('SET', 'notify-keyspace-events', 'KEx'), 'OK');
    assert.deepEqual(await c.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'xKE']);
    await c.set('ks:short', 'v', 'PX', 50);
    await c.set('ks:long', 'v', 'EX', 1000);
    await c.set('ks:plain', 'v');
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['__keyspace@0__:ks:short expired', '__keyevent@0__:expired ks:short']);
    assert.match(String(await c.info('stats')), /\r\nexpired_keys:1\r\nevicted_keys:0\r\n/);
    // Off: the next expiry publishes nothing (a PING after it proves the subscriber's socket was read up to there).
    assert.equal(await c.config('SET', 'notify-keyspace-events', ''), 'OK');
    await c.set('ks:short2', 'v', 'PX', 20);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await c.exists('ks:short2'), 0);
    await sub.ping();
    assert.equal(got.length, 2, got.join('; '));
  } finally {
    sub.disconnect();
    c.disconnect();
    await s.stop();
  }
});

test('evicted keys are published on __keyevent@0__:evicted; a CONFIG SET inside MULTI applies at EXEC, not when queued', async () => {
  const s = await serve({ nodes: 1, storage: 'memory', maxKeys: 2 });
  const [sub, c] = [client(s.port), client(s.port)];
  try {
    await Promise.all([sub.connect(), c.connect()]);
    const got: string[] = [];
    sub.on('message', (channel: string, message: string) => got.push(`${channel} ${message}`));
    await sub.subscribe('__keyevent@0__:evicted');
    // Queued then discarded: nothing changes (ioredis's multi() sends nothing before exec(): a raw connection).
    const r = await raw(s.port);
    r.socket.write(Buffer.concat([encode('MULTI'), encode('CONFIG', 'SET', 'notify-keyspace-events', 'Ee'), encode('DISCARD')]));
    await r.until(endsWith('+OK\r\n+QUEUED\r\n+OK\r\n'));
    r.end();
    assert.deepEqual(await c.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', '']);
    assert.deepEqual(await c.multi().config('SET', 'notify-keyspace-events', 'Ee').exec(), [[null, 'OK']]);
    assert.deepEqual(await c.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'eE']);
    for (const k of ['ev:a', 'ev:b', 'ev:c', 'ev:d']) await c.set(k, 'v');
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['__keyevent@0__:evicted ev:a', '__keyevent@0__:evicted ev:b']);
    assert.match(String(await c.info('stats')), /\r\nexpired_keys:0\r\nevicted_keys:2\r\n/);
  } finally {
    sub.disconnect();
    c.disconnect();
    await s.stop();
  }
});

test('the notifyKeyspaceEvents option: checked at start, shown by CONFIG GET', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' });
  try {
    await assert.rejects(RespServer.start(s.cluster, { port: 0, notifyKeyspaceEvents: 'KEAn' }), (err: unknown) => err instanceof ClusterError && err.code === 'INVALID_ARGUMENT' && /new keys \(n\)/.test(err.message));
    const server = await RespServer.start(s.cluster, { port: 0, notifyKeyspaceEvents: 'Ex' });
    const c = client(server.port);
    try {
      await c.connect();
      assert.deepEqual(await c.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'xE']);
    } finally {
      c.disconnect();
      await server.close();
    }
  } finally {
    await s.stop();
  }
});

test('RESTORE publishes Redis\'s events: restore, del when REPLACE meets a ttl already past, none when nothing changed', { skip: onPath('redis-server') ? false : NO_REDIS }, async () => {
  const redis = await startRedisNoPersist();
  const s = await serve({ nodes: 1, storage: 'memory' });
  const clients = [client(s.port), client(s.port), client(redis.port), client(redis.port)];
  try {
    await Promise.all(clients.map((r) => r.connect()));
    const run = async (sub: Redis, c: Redis): Promise<string[]> => {
      const got: string[] = [];
      sub.on('pmessage', (_p: string, channel: string, message: string) => got.push(`${channel} ${message}`));
      await sub.psubscribe('__keyevent@0__:*');
      await c.config('SET', 'notify-keyspace-events', 'Eg$');
      await c.set('src', 'value');
      const payload = await c.dumpBuffer('src');
      const past = String(Date.now() - 60_000);
      const replies = [
        await outcome(c.restore('r1', 0, payload)), // restore
        await outcome(c.restore('r1', 0, payload)), // BUSYKEY: nothing
        await outcome(c.restore('r1', 0, payload, 'REPLACE')), // restore
        await outcome(c.restore('r1', past, payload, 'REPLACE', 'ABSTTL')), // del: the key existed
        await outcome(c.restore('r2', past, payload, 'ABSTTL')), // nothing: no key, and none made
        await outcome(c.restore('r2', past, payload, 'REPLACE', 'ABSTTL')), // nothing: no key to delete
        await outcome(c.restore('r3', 100_000, payload)), // restore (the ttl: no expire event)
      ];
      await sub.ping(); // what was published before it was read
      return [...replies.map(String), ...got];
    };
    const [ours, theirs] = [await run(clients[0]!, clients[1]!), await run(clients[2]!, clients[3]!)];
    assert.deepEqual(ours, theirs);
    assert.equal(theirs.filter((m) => m.startsWith('__keyevent@0__:restore')).length, 3);
    assert.equal(theirs.filter((m) => m === '__keyevent@0__:del r1').length, 1);
  } finally {
    for (const r of clients) r.disconnect();
    await s.stop();
    await redis.stop();
  }
});
