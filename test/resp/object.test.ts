// OBJECT ENCODING, REFCOUNT and FREQ: the answers redis-server 7.0.15 gives for values SET stored (checked against
// them, and compared with a running redis-server when one is installed); IDLETIME refused (reads are not recorded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyReader, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, encode, endsWith, raw, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

const E44 = 'e'.repeat(44);
const R45 = 'r'.repeat(45);
const SETUP = ['SET i 123', 'SET n -5', 'SET m 9999', 'SET k 10000', 'SET big 12345678901234567890', 'SET max 9223372036854775807', 'SET z 007',
  'SET s hello', `SET e44 ${E44}`, `SET r45 ${R45}`];
const FREQ_REFUSED = new RespError('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');

/** Each command and what redis-server 7.0.15 answers it after SETUP. */
const ASKED: Array<[string, RespValue]> = [
  ['OBJECT ENCODING i', 'int'], ['OBJECT ENCODING n', 'int'], ['OBJECT ENCODING big', 'embstr'], ['OBJECT ENCODING max', 'int'],
  ['OBJECT ENCODING z', 'embstr'], ['OBJECT ENCODING s', 'embstr'], ['OBJECT ENCODING e44', 'embstr'], ['OBJECT ENCODING r45', 'raw'],
  ['OBJECT ENCODING nokey', null], ['object encoding I', null],
  ['OBJECT REFCOUNT i', 2147483647], ['OBJECT REFCOUNT m', 2147483647], ['OBJECT REFCOUNT k', 1], ['OBJECT REFCOUNT n', 1],
  ['OBJECT REFCOUNT s', 1], ['OBJECT REFCOUNT nokey', null],
  ['OBJECT FREQ s', FREQ_REFUSED], ['OBJECT FREQ nokey', null],
  ['OBJECT FOO s', new RespError("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")],
  ['OBJECT ENCODING', new RespError("ERR wrong number of arguments for 'object|encoding' command")],
  ['OBJECT ENCODING s x', new RespError("ERR wrong number of arguments for 'object|encoding' command")],
  ['OBJECT HELP x', new RespError("ERR wrong number of arguments for 'object|help' command")],
];

test('OBJECT ENCODING, REFCOUNT and FREQ answer as Redis 7.0 does for values SET stored; IDLETIME is refused', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const l of SETUP) assert.equal(await c.call(words(l)), 'OK');
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    assert.deepEqual(await c.call(words('OBJECT IDLETIME s')), new RespError('ERR threadraft does not track accesses to keys: OBJECT IDLETIME is not supported'));
    assert.equal(await c.call(words('OBJECT IDLETIME nokey')), null);
    const help = (await c.call(words('OBJECT HELP'))) as string[];
    assert.equal(help[0], 'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    assert.deepEqual(help.slice(-2), ['HELP', '    Prints this help.']);
  } finally {
    c.close();
    await s.stop();
  }
});

test('under maxBytes (allkeys-lru) integers are not shared: REFCOUNT 1, as Redis with an LRU policy', async () => {
  const s = await serve({ maxBytes: 64 * 1024 * 1024 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(words('SET i 123'));
    assert.equal(await c.call(words('OBJECT REFCOUNT i')), 1);
    assert.equal(await c.call(words('OBJECT ENCODING i')), 'int');
  } finally {
    c.close();
    await s.stop();
  }
});

test('OBJECT answers as redis-server 7.0 does', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    await sameAsRedis(redis, served, { name: 'OBJECT', conns: 1, steps: [...SETUP, ...ASKED.map(([l]) => l)].map((l) => [0, [words(l)]]) });
  });
});

/**
 * OBJECT's lookups on the server at `port`, as INFO stats counts them, and the keymiss events a subscriber got: OBJECT
 * is a hit or a miss (LOOKUP_NONOTIFY: no event), GET's miss is both.
 */
async function objectLookups(port: number): Promise<{ hits: number; misses: number; events: RespValue[] }> {
  const c = await SimpleConn.open('127.0.0.1', port);
  const sub = await raw(port);
  try {
    const counts = async (): Promise<number[]> => {
      const text = String(await c.call(['INFO', 'stats']));
      return ['keyspace_hits', 'keyspace_misses'].map((k) => Number(new RegExp(`^${k}:(\\d+)\\r$`, 'm').exec(text)![1]));
    };
    await c.call(words('CONFIG SET notify-keyspace-events Em'));
    sub.socket.write(encode('SUBSCRIBE', '__keyevent@0__:keymiss'));
    await sub.until(endsWith(':1\r\n'));
    await c.call(words('SET oo 1'));
    const before = await counts();
    for (const l of ['OBJECT ENCODING oo', 'OBJECT ENCODING nokey', 'OBJECT REFCOUNT oo', 'OBJECT FREQ oo', 'GET nokey2']) await c.call(words(l));
    const after = await counts();
    await sub.until(endsWith('nokey2\r\n'));
    await c.call(words("CONFIG SET notify-keyspace-events ''"));
    const events = new ReplyReader().push(sub.received()).slice(1);
    return { hits: after[0]! - before[0]!, misses: after[1]! - before[1]!, events };
  } finally {
    sub.end();
    c.close();
  }
}

/** What redis-server 7.0.15 counted and published. */
const LOOKUPS = { hits: 3, misses: 2, events: [['message', '__keyevent@0__:keymiss', 'nokey2']] };

test('OBJECT looks its key up as Redis does: a keyspace hit or miss, no keymiss event', async () => {
  const s = await serve();
  try {
    assert.deepEqual(await objectLookups(s.port), LOOKUPS);
  } finally {
    await s.stop();
  }
});

test("OBJECT's lookups are redis-server 7.0's", { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    assert.deepEqual(await objectLookups(redis.port), LOOKUPS);
    assert.deepEqual(await objectLookups(served.port), LOOKUPS);
  });
});
