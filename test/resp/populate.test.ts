// DEBUG POPULATE: Redis's keys and values (compared with a running redis-server when one is installed), written
// through the log in batches, so every replica holds them; present keys are left alone; it stops when its
// connection closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, sameAsRedis, serve, words, NO_REDIS, type Step } from './helpers.js';

const NOT_POSITIVE = new RespError('ERR value is out of range, must be positive');

test('DEBUG POPULATE writes prefix:n = value:n where absent, in batches every replica holds; sizes pad or cut the value', async () => {
  // Small batches: 2,500 keys are 25 batches of 100; 300 KB values are 3 to a batch of maxBatchBytes (1 MiB + 64 KiB).
  const s = await serve({ maxBatchOps: 100 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    assert.equal(await c.call(words('SET key:7 kept')), 'OK');
    assert.equal(await c.call(words('DEBUG POPULATE 2500')), 'OK');
    assert.equal(await c.call(['DBSIZE']), 2500);
    assert.deepEqual(await c.call(words('MGET key:0 key:7 key:99 key:100 key:2499 key:2500')), ['value:0', 'kept', 'value:99', 'value:100', 'value:2499', null]);
    assert.equal(await c.call(words('DEBUG POPULATE 3 p 4')), 'OK');
    assert.deepEqual(await c.call(words('MGET p:0 p:2')), ['valu', 'valu']);
    assert.equal(await c.call(words('DEBUG POPULATE 2 z 10')), 'OK');
    assert.deepEqual(await c.call(words('MGET z:0 z:1')), ['value:0\0\0\0', 'value:1\0\0\0']);
    assert.equal(await c.call(words('DEBUG POPULATE 7 big 300000')), 'OK');
    const big = (await c.call(words('GET big:6'))) as string;
    assert.equal(big.length, 300_000);
    assert.equal(big.slice(0, 8), 'value:6\0');
    assert.equal(await c.call(['DBSIZE']), 2500 + 3 + 2 + 7);
    // Through the log: the replicas agree (DEBUG DIGEST is checkReplicas()), each with every key.
    assert.equal(typeof (await c.call(words('DEBUG DIGEST'))), 'string');
    for (const m of s.cluster.members()) {
      let v: unknown;
      for (let i = 0; i < 100 && v === undefined; i++) {
        v = await s.cluster.get('key:2499', { consistency: 'stale', node: m.id });
        if (v === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(v === undefined ? v : Buffer.from(v as Uint8Array).toString(), 'value:2499', `node ${m.id}`); // written as bytes: read as bytes
    }
    // A value past maxValueBytes, a key past 1024 bytes (x...x:10): refused before anything is written.
    assert.deepEqual(await c.call(words(`DEBUG POPULATE 1 q ${1024 * 1024 + 1}`)), new RespError(`ERR INVALID_ARGUMENT value is ${1024 * 1024 + 1} bytes; the limit is ${1024 * 1024}`));
    assert.deepEqual(await c.call(['DEBUG', 'POPULATE', '11', 'x'.repeat(1022)]), new RespError('ERR INVALID_ARGUMENT key is 1025 bytes; the limit is 1024'));
    assert.equal(await c.call(['DBSIZE']), 2512);
    for (const bad of ['-1', 'abc', '1.5', '9223372036854775808', '1 p -1', '1 p x']) assert.deepEqual(await c.call(words(`DEBUG POPULATE ${bad}`)), NOT_POSITIVE, bad);
    assert.deepEqual(await c.call(words('DEBUG POPULATE')), new RespError("ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP."));
    assert.ok(((await c.call(words('DEBUG HELP'))) as string[]).includes('POPULATE <count> [<prefix>] [<size>]'));
    // Inside MULTI it is refused, as DEBUG SLEEP and DIGEST are (no atomic batch operation).
    assert.equal(await c.call(['MULTI']), 'OK');
    assert.ok((await c.call(words('DEBUG POPULATE 5 m'))) instanceof RespError);
    await c.call(['DISCARD']);
  } finally {
    c.close();
    await s.stop();
  }
});

test('DEBUG POPULATE stops between batches once its connection is gone', async () => {
  const s = await serve({ maxBatchOps: 100 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const d = await SimpleConn.open('127.0.0.1', s.port);
  try {
    void c.call(words('DEBUG POPULATE 100000000')).catch(() => undefined); // hours of writes
    let n = 0;
    for (let i = 0; i < 200 && n < 500; i++) {
      await new Promise((r) => setTimeout(r, 10));
      n = (await d.call(['DBSIZE'])) as number;
    }
    assert.ok(n >= 500, `populate wrote ${n} keys in 2 s`);
    c.close();
    // The batches in flight finish: the count holds still over 300 ms (a loaded machine may take longer than that).
    let after = (await d.call(['DBSIZE'])) as number;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = (await d.call(['DBSIZE'])) as number;
      if (now === after) break;
      after = now;
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await d.call(['DBSIZE']), after, 'it went on writing after its connection closed');
    assert.ok(after < 100_000_000);
  } finally {
    d.close();
    await s.stop();
  }
});

test('DEBUG POPULATE ends with the cluster\'s error when its writes cannot commit', async () => {
  const s = await serve({ maxBatchOps: 100, requestTimeoutMs: 1000 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    const leader = await s.cluster.waitForLeader();
    for (const m of s.cluster.members()) if (m.id !== leader) await s.cluster.crash(m.id);
    const r = await c.call(words('DEBUG POPULATE 1000'));
    assert.ok(r instanceof RespError && /NO_QUORUM|TIMEOUT/.test(r.message), String(r));
  } finally {
    c.close();
    await s.stop();
  }
});

test('DEBUG POPULATE answers as redis-server 7.0 does: replies, values, invalidations, no keyspace events', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  const c = (l: string): string[] => words(l);
  const steps: Step[] = [
    // Connection 0 tracks (RESP3) key:1 and p:1; connection 2 listens to every keyspace event.
    [0, [c('HELLO 3'), c('CLIENT TRACKING ON'), c('GET key:1'), c('GET p:1')]],
    [2, [c('CONFIG SET notify-keyspace-events KEA'), c('PSUBSCRIBE __key*__:*')]],
    // SET in a step of its own: a pipelined write's invalidations are sent as its run is answered, after those of
    // a DEBUG POPULATE behind it (told as its batches apply); Redis sends each as the command runs.
    [1, [c('SET p:1 old')]],
    [1, [c('DEBUG POPULATE 3'), c('DEBUG POPULATE 3 p'), c('DEBUG POPULATE 2 q 3'), c('DEBUG POPULATE 1 r 12'), c('DEBUG POPULATE 0')]],
    [1, [c('MGET key:0 key:1 key:2 key:3 p:0 p:1 p:2 q:0 q:1 r:0'), c('DBSIZE')]],
    [1, ['-1', 'abc', '1.5', '9223372036854775808', '10 p -5', '10 p x', '', '1 2 3 4'].map((a) => c(`DEBUG POPULATE ${a}`.trim()))],
    [1, [c('SET after 1')]],
  ];
  await againstRedis(async (redis, served) => {
    await sameAsRedis(redis, served, { name: 'DEBUG POPULATE', conns: 3, steps });
  }, ['--enable-debug-command', 'yes']);
});
