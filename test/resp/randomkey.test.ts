// RANDOMKEY (Cluster.randomKey): nil with no key, a key that is there (never one deleted or expired), no keyspace
// hit or miss counted. Checked against what redis-server 7.0.15 answers, and compared with a running one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

/** Each step, and what redis-server 7.0.15 answers: with one key at most the pick is known. */
const ASKED: Array<[string, RespValue]> = [
  ['RANDOMKEY', null],
  ['SET only v', 'OK'],
  ['RANDOMKEY', 'only'],
  ['RANDOMKEY x', new RespError("ERR wrong number of arguments for 'randomkey' command")],
  ['DEL only', 1],
  ['RANDOMKEY', null],
  ['PSETEX brief 1 v', 'OK'],
];

test('RANDOMKEY: nil when empty, the only key, every key in turn, never an expired one', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.call(['RANDOMKEY']), null, 'brief has expired');
    await c.call(['MSET', 'a', '1', 'b', '2', 'c', '3']);
    const stats = async (): Promise<string> => /keyspace_hits:\d+\r\nkeyspace_misses:\d+/.exec(String(await c.call(['INFO', 'stats'])))![0];
    const before = await stats();
    const seen = new Set<RespValue>();
    for (let i = 0; i < 200; i++) seen.add(await c.call(['RANDOMKEY']));
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
    assert.equal(await stats(), before, 'no key looked up');
    assert.equal(await c.call(['MULTI']), 'OK');
    assert.match((await c.call(['RANDOMKEY']) as RespError).message, /^ERR 'randomkey' inside MULTI is not supported/);
    assert.equal(await c.call(['DISCARD']), 'OK');
  } finally {
    c.close();
    await s.stop();
  }
});

test('RANDOMKEY compared with redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  await sameAsRedis(redis, served, { name: 'RANDOMKEY', conns: 1, steps: ASKED.map(([l]) => [0, [words(l)]]) });
  await new Promise((r) => setTimeout(r, 20));
  await sameAsRedis(redis, served, { name: 'RANDOMKEY after an expiry', conns: 1, steps: [[0, [['RANDOMKEY']]]] });
}));
