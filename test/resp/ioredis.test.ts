// The RESP server through ioredis (RESP2), against a 3-node LMDB cluster (linearizable reads answered from the
// leader's LMDB on the main thread): the commands of issue 14 with Redis's reply shapes, pipelines, MULTI/EXEC,
// WATCH conflicts, errors and their texts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { serve, type Served } from './helpers.js';
import { stringPayload } from '../../src/resp/dump.js';

let s: Served;
let r: Redis;

before(async () => {
  s = await serve({ storage: 'lmdb' });
  r = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
});

after(async () => {
  r.disconnect();
  await s.stop();
});

async function replyError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error reply');
}

test('SET and GET, binary-safe, with EX, PX, EXAT, PXAT, NX, XX, GET, KEEPTTL', async () => {
  assert.equal(await r.set('s:a', 'hello'), 'OK');
  assert.equal(await r.get('s:a'), 'hello');
  const bytes = Buffer.from([0, 255, 13, 10, 36, 42]);
  await r.set(Buffer.from([1, 0, 2]), bytes);
  assert.ok((await r.getBuffer(Buffer.from([1, 0, 2])))!.equals(bytes));
  assert.equal(await r.get('s:none'), null);
  assert.equal(await r.set('s:a', 'x', 'NX'), null);
  assert.equal(await r.set('s:b', 'x', 'XX'), null);
  assert.equal(await r.set('s:b', 'b1', 'NX'), 'OK');
  assert.equal(await r.set('s:b', 'b2', 'XX', 'GET'), 'b1');
  assert.equal(await r.set('s:c', 'c', 'GET'), null);
  assert.equal(await r.set('s:ex', 'v', 'EX', 100), 'OK');
  const ttl = await r.ttl('s:ex');
  assert.ok(ttl >= 99 && ttl <= 100, `ttl ${ttl}`);
  await r.set('s:ex', 'v2', 'KEEPTTL');
  assert.ok((await r.pttl('s:ex')) > 90_000);
  await r.set('s:ex', 'v3');
  assert.equal(await r.ttl('s:ex'), -1, 'a plain SET clears the expiry');
  await r.set('s:px', 'v', 'PX', 50_000);
  assert.ok((await r.pttl('s:px')) > 40_000);
  await r.set('s:exat', 'v', 'EXAT', Math.floor(Date.now() / 1000) + 200);
  assert.ok((await r.ttl('s:exat')) > 190);
  await r.set('s:pxat', 'v', 'PXAT', Date.now() - 1000);
  assert.equal(await r.exists('s:pxat'), 0, 'a time in the past deletes the key');
  assert.equal(await replyError(r.set('s:a', 'v', 'EX', 0)), "ERR invalid expire time in 'set' command");
  assert.equal(await replyError(r.set('s:a', 'v', 'EX', 'x')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.call('SET', 's:a', 'v', 'NX', 'XX')), 'ERR syntax error');
  assert.equal(await replyError(r.call('SET', 's:a', 'v', 'EX', '10', 'PX', '10')), 'ERR syntax error');
  assert.equal(await replyError(r.call('SET', 's:a', 'v', 'BOGUS')), 'ERR syntax error');
});

test('EXPIRETIME and PEXPIRETIME: the absolute expiry (seconds truncated), -1 without one, -2 when absent', async () => {
  await r.set('et:at', 'v', 'PXAT', '4000000000999');
  assert.equal(await r.call('PEXPIRETIME', 'et:at'), 4_000_000_000_999);
  assert.equal(await r.call('EXPIRETIME', 'et:at'), 4_000_000_000);
  const before = Date.now();
  await r.set('et:ex', 'v', 'EX', '100');
  const at = (await r.call('PEXPIRETIME', 'et:ex')) as number;
  assert.ok(at >= before + 100_000 - 1_000 && at <= Date.now() + 100_000 + 1_000, `${at} about 100 s from ${before}`);
  await r.set('et:none', 'v');
  assert.equal(await r.call('EXPIRETIME', 'et:none'), -1);
  assert.equal(await r.call('PEXPIRETIME', 'et:gone'), -2);
  assert.match(await replyError(r.call('EXPIRETIME')), /wrong number of arguments for 'expiretime' command/);
});

test('SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX', async () => {
  assert.equal(await r.setnx('g:a', '1'), 1);
  assert.equal(await r.setnx('g:a', '2'), 0);
  assert.equal(await r.setex('g:b', 30, 'b'), 'OK');
  assert.ok((await r.ttl('g:b')) > 25);
  assert.equal(await r.psetex('g:c', 30_000, 'c'), 'OK');
  assert.ok((await r.pttl('g:c')) > 25_000);
  assert.equal(await replyError(r.setex('g:b', -1, 'b')), "ERR invalid expire time in 'setex' command");
  assert.equal(await r.getset('g:a', 'new'), '1');
  assert.equal(await r.getset('g:fresh', 'v'), null);
  assert.equal(await r.getdel('g:a'), 'new');
  assert.equal(await r.getdel('g:a'), null);
  assert.equal(await r.exists('g:a'), 0);
  assert.equal(await r.getex('g:b'), 'b');
  assert.equal(await r.getex('g:b', 'PERSIST'), 'b');
  assert.equal(await r.ttl('g:b'), -1);
  assert.equal(await r.getex('g:b', 'EX', 500), 'b');
  assert.ok((await r.ttl('g:b')) > 490);
  assert.equal(await r.getex('g:b', 'PXAT', Date.now() + 60_000), 'b');
  assert.ok((await r.pttl('g:b')) <= 60_000);
  assert.equal(await r.getex('g:none', 'EX', 5), null);
  assert.equal(await replyError(r.call('GETEX', 'g:b', 'EX')), 'ERR syntax error');
  // A wrong expiry value is checked after the key is looked up, as on Redis: a miss is nil, a hit the error.
  for (const bad of [['EX', '0'], ['PX', '-1'], ['EXAT', '0'], ['EX', 'abc']]) {
    assert.equal(await r.call('GETEX', 'g:none', ...bad), null, `GETEX missing ${bad.join(' ')}`);
  }
  assert.equal(await replyError(r.call('GETEX', 'g:b', 'EX', '0')), "ERR invalid expire time in 'getex' command");
  assert.equal(await replyError(r.call('GETEX', 'g:b', 'EX', 'abc')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.call('GETEX', 'g:none', 'EX', '0', 'PERSIST')), 'ERR syntax error', 'a syntax error still comes first');
});

test('MGET, MSET, MSETNX (all or nothing)', async () => {
  assert.equal(await r.mset('m:a', '1', 'm:b', '2'), 'OK');
  assert.deepEqual(await r.mget('m:a', 'm:none', 'm:b'), ['1', null, '2']);
  assert.equal(await r.msetnx('m:c', '3', 'm:a', 'x'), 0);
  assert.equal(await r.exists('m:c'), 0, 'MSETNX wrote nothing because m:a exists');
  assert.equal(await r.msetnx('m:c', '3', 'm:d', '4'), 1);
  assert.deepEqual(await r.mget('m:c', 'm:d'), ['3', '4']);
  assert.equal(await replyError(r.call('MSET', 'm:a', '1', 'm:b')), "ERR wrong number of arguments for 'mset' command");
});

test('INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT, APPEND, STRLEN', async () => {
  assert.equal(await r.incr('n:a'), 1);
  assert.equal(await r.incrby('n:a', 10), 11);
  assert.equal(await r.decr('n:a'), 10);
  assert.equal(await r.decrby('n:a', 15), -5);
  assert.equal(await r.get('n:a'), '-5');
  await r.set('n:s', 'abc');
  assert.equal(await replyError(r.incr('n:s')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.incrby('n:a', 'x' as unknown as number)), 'ERR value is not an integer or out of range');
  // Redis's 64-bit counters, past JavaScript's safe integers (ioredis reads such a reply as an inexact number).
  assert.equal(await r.call('INCRBY', 'n:b', '9007199254740992'), 9007199254740992);
  assert.equal(await r.incr('n:b'), 9007199254740993);
  assert.equal(await r.get('n:b'), '9007199254740993');
  await r.set('n:max', '9223372036854775806');
  await r.incr('n:max');
  assert.equal(await r.get('n:max'), '9223372036854775807');
  assert.equal(await replyError(r.incr('n:max')), 'ERR increment or decrement would overflow');
  assert.equal(await replyError(r.call('DECRBY', 'n:a', '-9223372036854775808')), 'ERR decrement would overflow');
  assert.equal(await replyError(r.call('INCRBY', 'n:a', '9223372036854775808')), 'ERR value is not an integer or out of range', 'past 64 bits');
  assert.equal(await r.incrbyfloat('n:f', '0.1'), '0.1');
  assert.equal(await r.incrbyfloat('n:f', '0.2'), '0.3', 'Redis\'s long double');
  assert.equal(await replyError(r.incrbyfloat('n:s', '1')), 'ERR value is not a valid float');
  assert.equal(await r.append('n:s', 'de'), 5);
  assert.equal(await r.append('n:new', 'xyz'), 3);
  assert.equal(await r.get('n:s'), 'abcde');
  assert.equal(await r.strlen('n:s'), 5);
  assert.equal(await r.strlen('n:none'), 0);
  await r.set('n:utf', 'é');
  assert.equal(await r.strlen('n:utf'), 2, 'bytes, not characters');
  assert.equal(await r.strlen('n:a'), 2, 'a counter is its decimal digits');
});

test('SETRANGE, GETRANGE, SUBSTR: byte offsets, zero padding, negative indexes, the expiry kept, the limits', async () => {
  assert.equal(await r.setrange('r:a', 0, ''), 0, 'nothing on an absent key: no key');
  assert.equal(await r.exists('r:a'), 0);
  assert.equal(await r.setrange('r:a', 3, 'xy'), 5);
  assert.deepEqual(await r.getBuffer('r:a'), Buffer.from([0, 0, 0, 0x78, 0x79]), 'zero bytes fill the gap');
  await r.set('r:s', 'Hello World', 'PX', 100_000);
  assert.equal(await r.setrange('r:s', 6, 'Redis'), 11);
  assert.equal(await r.get('r:s'), 'Hello Redis');
  assert.ok((await r.pttl('r:s')) > 90_000, 'the expiry stays');
  assert.equal(await r.setrange('r:s', 0, ''), 11, 'an empty value: the length, nothing written');
  assert.equal(await r.getrange('r:s', 0, 4), 'Hello');
  assert.equal(await r.getrange('r:s', -5, -1), 'Redis');
  assert.equal(await r.getrange('r:s', 6, 1000), 'Redis');
  assert.equal(await r.getrange('r:s', -1, -5), '', 'both negative, start after end');
  assert.equal(await r.getrange('r:s', 5, 2), '');
  assert.equal(await r.getrange('r:none', 0, -1), '');
  assert.equal(await r.call('SUBSTR', 'r:s', '0', '-7'), 'Hello');
  assert.equal(await r.call('GETRANGE', 'r:s', '-9223372036854775808', '9223372036854775807'), 'Hello Redis', '64-bit indexes');
  assert.equal(await replyError(r.call('GETRANGE', 'r:s', '0', 'x')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.call('SETRANGE', 'r:s', '-1', 'x')), 'ERR offset is out of range');
  assert.equal(await replyError(r.call('SETRANGE', 'r:s', 'x', 'x')), 'ERR value is not an integer or out of range');
  assert.match(await replyError(r.call('SETRANGE', 'r:s', String(1024 * 1024), 'x')), /^ERR VALUE_TOO_LARGE string exceeds maximum allowed size/);
  assert.match(await replyError(r.call('SETRANGE', 'r:s', '9223372036854775807', 'x')), /^ERR VALUE_TOO_LARGE/);
  assert.equal(await r.call('SETRANGE', 'r:s', '9223372036854775807', ''), 11, 'any offset with nothing to write');
  assert.equal(await r.setrange('r:s', 1024 * 1024 - 1, 'x'), 1024 * 1024, 'up to maxValueBytes');
  await r.del('r:a', 'r:s');
});

test('LCS: the subsequence, LEN, IDX with MINMATCHLEN and WITHMATCHLEN (Redis\'s documented example); the table bound', async () => {
  await r.mset('lcs:1', 'ohmytext', 'lcs:2', 'mynewtext');
  assert.equal(await r.call('LCS', 'lcs:1', 'lcs:2'), 'mytext');
  assert.equal(await r.call('LCS', 'lcs:1', 'lcs:2', 'LEN'), 6);
  assert.deepEqual(await r.call('LCS', 'lcs:1', 'lcs:2', 'IDX'), ['matches', [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], 'len', 6]);
  assert.deepEqual(await r.call('LCS', 'lcs:1', 'lcs:2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'), ['matches', [[[4, 7], [5, 8], 4]], 'len', 6]);
  assert.equal(await r.call('LCS', 'lcs:1', 'lcs:none'), '');
  assert.equal(await replyError(r.call('LCS', 'lcs:1', 'lcs:2', 'LEN', 'IDX')), 'ERR If you want both the length and indexes, please just use IDX.');
  assert.equal(await replyError(r.call('LCS', 'lcs:1', 'lcs:2', 'MINMATCHLEN')), 'ERR syntax error');
  await r.mset('lcs:big1', 'x'.repeat(6000), 'lcs:big2', 'y'.repeat(6000));
  assert.equal(await replyError(r.call('LCS', 'lcs:big1', 'lcs:big2')), 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len', 'past 128 MiB of table');
});

test('SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP: Redis\'s documented examples, the zero padding, the expiry, MULTI, the limits', async () => {
  assert.equal(await r.setbit('b:k', 7, 1), 0);
  assert.equal(await r.setbit('b:k', 7, 0), 1);
  assert.ok((await r.getBuffer('b:k'))!.equals(Buffer.from([0])));
  assert.equal(await r.setbit('b:k', 7, 1), 0);
  assert.deepEqual([await r.getbit('b:k', 0), await r.getbit('b:k', 7), await r.getbit('b:k', 100), await r.getbit('b:none', 3)], [0, 1, 0, 0]);
  assert.equal(await r.setbit('b:k', 20, 1), 0, 'past the end: zero bytes fill the gap');
  assert.ok((await r.getBuffer('b:k'))!.equals(Buffer.from([1, 0, 8])));

  await r.set('b:s', 'foobar');
  assert.deepEqual([await r.bitcount('b:s'), await r.bitcount('b:s', 0, 0), await r.bitcount('b:s', 1, 1), await r.bitcount('b:s', 1, 1, 'BYTE'), await r.bitcount('b:s', 5, 30, 'BIT')], [26, 4, 6, 6, 17]);
  assert.equal(await r.bitcount('b:none'), 0);

  await r.set('b:p', Buffer.from([0xff, 0xf0, 0x00]));
  assert.equal(await r.bitpos('b:p', 0), 12);
  await r.set('b:p', Buffer.from([0x00, 0xff, 0xf0]));
  assert.deepEqual([await r.bitpos('b:p', 1, 0), await r.bitpos('b:p', 1, 2), await r.bitpos('b:p', 1, 2, -1, 'BYTE'), await r.bitpos('b:p', 1, 7, 15, 'BIT')], [8, 16, 16, 8]);
  await r.set('b:p', Buffer.from([0xff, 0xff]));
  assert.equal(await r.bitpos('b:p', 0), 16, 'no clear bit and no end given: the first bit past the value');
  assert.equal(await r.bitpos('b:p', 0, 0, -1), -1, 'an end given: none in the range');
  assert.deepEqual([await r.bitpos('b:none', 0), await r.bitpos('b:none', 1)], [0, -1]);

  await r.set('b:key1', 'foobar');
  await r.set('b:key2', 'abcdef');
  await r.set('b:dest', 'x', 'EX', 100);
  assert.equal(await r.bitop('AND', 'b:dest', 'b:key1', 'b:key2'), 6);
  assert.equal(await r.get('b:dest'), '`bc`ab');
  assert.equal(await r.ttl('b:dest'), -1, 'BITOP writes its destination without expiry');
  assert.equal(await r.bitop('OR', 'b:dest', 'b:key1', 'b:short'), 6, 'an absent key is empty');
  assert.equal(await r.get('b:dest'), 'foobar');
  assert.equal(await r.bitop('NOT', 'b:dest', 'b:p'), 2);
  assert.ok((await r.getBuffer('b:dest'))!.equals(Buffer.from([0, 0])));
  assert.equal(await r.bitop('XOR', 'b:dest', 'b:none', 'b:none2'), 0);
  assert.equal(await r.exists('b:dest'), 0, 'nothing to combine: the destination is deleted');

  await r.set('b:t', 'a', 'EX', 100);
  await r.setbit('b:t', 6, 1);
  assert.equal(await r.get('b:t'), 'c');
  assert.ok((await r.ttl('b:t')) > 0, 'SETBIT keeps the expiry');

  const multi = await r.multi().setbit('b:m', 1, 1).getbit('b:m', 1).bitcount('b:m').bitop('NOT', 'b:m2', 'b:m').bitpos('b:m2', 0).exec();
  assert.deepEqual(multi!.map(([err, v]) => err ?? v), [0, 1, 1, 1, 1]);

  assert.equal(await replyError(r.getbit('b:k', 2 ** 32)), 'ERR bit offset is not an integer or out of range', 'past proto-max-bulk-len in bits');
  assert.equal(await replyError(r.setbit('b:k', -1, 1)), 'ERR bit offset is not an integer or out of range');
  assert.equal(await replyError(r.setbit('b:k', 1, 2)), 'ERR bit is not an integer or out of range');
  assert.equal(await replyError(r.bitpos('b:k', 2)), 'ERR The bit argument must be 1 or 0.');
  assert.equal(await replyError(r.bitop('NOT', 'b:dest', 'b:k', 'b:s')), 'ERR BITOP NOT must be called with a single source key.');
  assert.equal(await replyError(r.call('BITOP', 'NAND', 'b:dest', 'b:k')), 'ERR syntax error');
  assert.match(await replyError(r.setbit('b:big', 1024 * 1024 * 8, 1)), /^ERR VALUE_TOO_LARGE /, 'a value past maxValueBytes (1 MiB)');
  assert.equal(await r.exists('b:big'), 0);
});

test('BITFIELD and BITFIELD_RO: Redis\'s documented examples, OVERFLOW WRAP, SAT and FAIL, GETs alone a read, MULTI, the limits', async () => {
  assert.deepEqual(await r.call('BITFIELD', 'bf:k', 'INCRBY', 'i5', 100, 1, 'GET', 'u4', 0), [1, 0]);
  const step = (): Promise<unknown> => r.call('BITFIELD', 'bf:o', 'INCRBY', 'u2', 100, 1, 'OVERFLOW', 'SAT', 'INCRBY', 'u2', 102, 1);
  assert.deepEqual([await step(), await step(), await step(), await step()], [[1, 1], [2, 2], [3, 3], [0, 3]], 'WRAP, then SAT');
  assert.deepEqual(await r.call('BITFIELD', 'bf:o', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 102, 1), [null], 'FAIL: nil, nothing written');
  assert.deepEqual(await r.call('BITFIELD', 'bf:o', 'GET', 'u2', 102, 'SET', 'i8', '#2', -3, 'GET', 'i8', '#2', 'GET', 'u8', 16), [3, 0, -3, 253]);
  assert.deepEqual(await r.call('BITFIELD_RO', 'bf:o', 'GET', 'u2', 102, 'GET', 'i8', 16), [3, -3]);
  assert.deepEqual(await r.call('BITFIELD', 'bf:none', 'GET', 'u8', 0, 'GET', 'i64', 64), [0, 0]);
  assert.equal(await r.exists('bf:none'), 0, 'GETs alone create nothing');
  assert.deepEqual(await r.call('BITFIELD', 'bf:made', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 0, 10), [null]);
  assert.ok((await r.getBuffer('bf:made'))!.equals(Buffer.from([0])), 'a write that failed still made room, as Redis');
  await r.set('bf:t', 'a', 'EX', 100);
  assert.deepEqual(await r.call('BITFIELD', 'bf:t', 'SET', 'u8', 0, 98), [97]);
  assert.equal(await r.get('bf:t'), 'b');
  assert.ok((await r.ttl('bf:t')) > 0, 'BITFIELD keeps the expiry');
  const multi = await r.multi().call('BITFIELD', 'bf:m', 'SET', 'u4', 0, 9).call('BITFIELD_RO', 'bf:m', 'GET', 'u4', 0).bitfield('bf:m', 'GET', 'i4', 0).exec();
  assert.deepEqual(multi!.map(([err, v]) => err ?? v), [[0], [9], [-7]]);
  assert.equal(await replyError(r.call('BITFIELD_RO', 'bf:o', 'GET', 'u2', 0, 'SET', 'u2', 0, 1)), 'ERR BITFIELD_RO only supports the GET subcommand');
  assert.equal(await replyError(r.call('BITFIELD', 'bf:o', 'GET', 'u64', 0)), 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');
  assert.equal(await replyError(r.call('BITFIELD', 'bf:o', 'OVERFLOW', 'SOMETIMES')), 'ERR Invalid OVERFLOW type specified');
  assert.equal(await replyError(r.call('BITFIELD', 'bf:o', 'GET', 'u8')), 'ERR syntax error');
  assert.equal(await replyError(r.call('BITFIELD', 'bf:o', 'GET', 'u8', -1)), 'ERR bit offset is not an integer or out of range');
  assert.equal(await replyError(r.call('BITFIELD', 'bf:o', 'SET', 'u8', 0, 'x')), 'ERR value is not an integer or out of range');
  assert.match(await replyError(r.call('BITFIELD', 'bf:big', 'SET', 'u8', 1024 * 1024 * 8, 1)), /^ERR VALUE_TOO_LARGE /, 'a value past maxValueBytes (1 MiB)');
  const many = Array.from({ length: 14_000 }, (_, i) => ['SET', 'u8', String(i * 8), '7']).flat(); // 80 bytes each in the log, at most
  assert.match(await replyError(r.call('BITFIELD', 'bf:big', ...many)), /^ERR INVALID_ARGUMENT operation is \d+ bytes; maxBatchBytes is /);
  assert.equal(await r.exists('bf:big'), 0);
});

test('PFADD, PFCOUNT, PFMERGE: estimates, unions, MULTI, a value moved with DUMP and RESTORE, the errors', async () => {
  assert.equal(await r.pfadd('hll:a', 'x', 'y', 'z'), 1);
  assert.equal(await r.pfadd('hll:a', 'x'), 0);
  assert.equal(await r.pfcount('hll:a'), 3);
  await r.pfadd('hll:b', ...Array.from({ length: 1000 }, (_, i) => `e${i}`));
  const b = await r.pfcount('hll:b');
  assert.ok(Math.abs(b - 1000) <= 20, `1000 estimated ${b}`);
  assert.equal(await r.pfmerge('hll:u', 'hll:a', 'hll:b'), 'OK');
  assert.equal(await r.pfcount('hll:u'), await r.pfcount('hll:a', 'hll:b'));
  const multi = await r.multi().pfadd('hll:m', 'a', 'b').pfcount('hll:m').pfmerge('hll:m2', 'hll:m').pfcount('hll:m2').exec();
  assert.deepEqual(multi, [[null, 1], [null, 2], [null, 'OK'], [null, 2]]);
  const dumped = await r.dumpBuffer('hll:b');
  await r.restore('hll:copy', 0, dumped!);
  assert.equal(await r.pfcount('hll:copy'), b);
  assert.deepEqual(await r.getBuffer('hll:copy'), await r.getBuffer('hll:b'));
  await r.set('hll:str', 'plain');
  assert.equal(await replyError(r.pfadd('hll:str', 'x')), 'WRONGTYPE Key is not a valid HyperLogLog string value.');
  assert.equal(await replyError(r.pfcount('hll:a', 'hll:str')), 'WRONGTYPE Key is not a valid HyperLogLog string value.');
  await r.setrange('hll:a', 16, '\x00');
  assert.equal(await replyError(r.pfcount('hll:a')), 'INVALIDOBJ Corrupted HLL object detected');
});

test('DUMP and RESTORE: Redis 7.0\'s payloads (integers, LZF) read, its bytes written; BUSYKEY, REPLACE, ABSTTL, the TTL; errors in Redis\'s order', async () => {
  // Payloads redis-server 7.0.15 gave for 'hello', '200' and 'a' x 100 (LZF-compressed).
  const hello = Buffer.from('\x00\x05hello\n\x00cr\xdfve4 \n', 'latin1');
  const twoHundred = Buffer.from('\x00\xc1\xc8\x00\n\x00\xed\xe8\xfdk"\x12\x8c\x07', 'latin1');
  const hundredAs = Buffer.from('\x00\xc3\t@d\x01aa\xe0W\x00\x01aa\n\x00\xe8\xa3\xb5\x07\xb0m\xf2q', 'latin1');
  await r.set('d:hello', 'hello');
  await r.set('d:200', '200');
  assert.ok((await r.dumpBuffer('d:hello')).equals(hello), 'DUMP writes what Redis writes');
  assert.ok((await r.dumpBuffer('d:200')).equals(twoHundred), 'an integer as a 16-bit one');
  assert.equal(await r.dumpBuffer('d:none'), null);
  assert.equal(await r.restore('d:a', 0, hundredAs), 'OK');
  assert.equal(await r.get('d:a'), 'a'.repeat(100));
  assert.equal(await r.restore('d:n', 0, twoHundred), 'OK');
  assert.equal(await r.incr('d:n'), 201);
  const bytes = Buffer.from([0, 255, 13, 10, 0x80]);
  await r.set('d:bytes', bytes);
  await r.restore('d:copy', 0, await r.dumpBuffer('d:bytes'));
  assert.ok((await r.getBuffer('d:copy'))!.equals(bytes), 'a round trip keeps the bytes');

  assert.equal(await replyError(r.restore('d:a', 0, hello)), 'BUSYKEY Target key name already exists.');
  assert.equal(await replyError(r.restore('d:a', -1, Buffer.from('junk'))), 'BUSYKEY Target key name already exists.', 'BUSYKEY comes first');
  assert.equal(await r.restore('d:a', 100_000, hello, 'REPLACE'), 'OK');
  assert.equal(await r.get('d:a'), 'hello');
  assert.ok((await r.pttl('d:a')) > 90_000, 'a ttl in ms');
  assert.equal(await r.restore('d:abs', Date.now() + 200_000, hello, 'ABSTTL'), 'OK');
  assert.ok((await r.pttl('d:abs')) > 190_000, 'ABSTTL: a Unix time in ms');
  assert.equal(await r.restore('d:abs', 1, hello, 'REPLACE', 'ABSTTL'), 'OK');
  assert.equal(await r.exists('d:abs'), 0, 'a time already past: the key is deleted, as Redis does');
  assert.equal(await r.restore('d:idle', 0, hello, 'IDLETIME', 10), 'OK', 'IDLETIME and FREQ are taken (and change nothing)');

  assert.equal(await replyError(r.restore('d:x', -1, hello)), 'ERR Invalid TTL value, must be >= 0');
  assert.equal(await replyError(r.restore('d:x', 0, Buffer.from('junk'))), 'ERR DUMP payload version or checksum are wrong');
  const flipped = Buffer.from(hello);
  flipped[3] = flipped[3]! ^ 1;
  assert.equal(await replyError(r.restore('d:x', 0, flipped)), 'ERR DUMP payload version or checksum are wrong');
  assert.equal(await replyError(r.call('RESTORE', 'd:x', 0, hello, 'IDLETIME', -1)), 'ERR Invalid IDLETIME value, must be >= 0');
  assert.equal(await replyError(r.call('RESTORE', 'd:x', 0, hello, 'FREQ', 256)), 'ERR Invalid FREQ value, must be >= 0 and <= 255');
  assert.equal(await replyError(r.call('RESTORE', 'd:x', 0, hello, 'FREQ', 1, 'IDLETIME', 1)), 'ERR syntax error');
  // Past the value limit (1 MiB): a payload that holds such a value is refused as too large; one whose length runs
  // past its own bytes is Redis's format error, however long it says the value is.
  const big = 1024 * 1024 + 1;
  const bigLength = Buffer.from([0x80, big >>> 24, (big >>> 16) & 255, (big >>> 8) & 255, big & 255]);
  assert.equal(await replyError(r.restore('d:x', 0, stringPayload(Buffer.concat([bigLength, Buffer.alloc(big, 97)])))), `ERR INVALID_ARGUMENT the value is over ${1024 * 1024} bytes, the limit`);
  assert.equal(await replyError(r.restore('d:x', 0, stringPayload(Buffer.concat([bigLength, Buffer.from('short')])))), 'ERR Bad data format');
  assert.equal(await r.exists('d:x'), 0);
  const multi = await r.multi().dumpBuffer('d:hello').restore('d:m', 0, hello).get('d:m').exec();
  assert.deepEqual(multi!.map(([err, v]) => err ?? (Buffer.isBuffer(v) ? v.equals(hello) : v)), [true, 'OK', 'hello']);
});

test('WAIT: the followers holding every write acknowledged before it; a count not reached waits out the timeout; Redis\'s argument errors', async () => {
  await r.set('w:k', 'v');
  assert.equal(await r.call('WAIT', '2', '5000'), 2, 'both followers of the 3-node cluster');
  const atOnce = await r.call('WAIT', '0', '0') as number;
  assert.ok(atOnce >= 1 && atOnce <= 2, 'an acknowledged write is on a majority: one follower at least');
  const t0 = Date.now();
  assert.equal(await r.call('WAIT', '3', '150'), 2, 'no third follower: the count when the timeout passes');
  assert.ok(Date.now() - t0 >= 140);
  assert.equal(await replyError(r.call('WAIT', 'x', '0')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.call('WAIT', '1', '1.5')), 'ERR timeout is not an integer or out of range');
  assert.equal(await replyError(r.call('WAIT', '1', '-1')), 'ERR timeout is negative');
});

test('RENAME, RENAMENX, COPY: the value and its expiry go to the new key; Redis\'s replies and errors', async () => {
  await r.set('mv:a', 'A', 'PX', 100_000);
  await r.set('mv:b', 'B');
  assert.equal(await r.rename('mv:a', 'mv:b'), 'OK', 'over an existing key');
  assert.equal(await r.exists('mv:a'), 0);
  assert.equal(await r.get('mv:b'), 'A');
  assert.ok((await r.pttl('mv:b')) > 90_000, 'the expiry moved with the value');
  assert.equal(await replyError(r.rename('mv:none', 'mv:x')), 'ERR no such key');
  assert.equal(await r.rename('mv:b', 'mv:b'), 'OK', 'onto itself');
  await r.set('mv:c', 'C');
  assert.equal(await r.renamenx('mv:b', 'mv:c'), 0, 'RENAMENX over an existing key');
  assert.equal(await r.renamenx('mv:b', 'mv:d'), 1);
  assert.equal(await replyError(r.renamenx('mv:none', 'mv:x')), 'ERR no such key');
  assert.equal(await r.copy('mv:d', 'mv:c'), 0, 'COPY over an existing key without REPLACE');
  assert.equal(await r.copy('mv:d', 'mv:c', 'REPLACE'), 1);
  assert.equal(await r.get('mv:c'), 'A');
  assert.ok((await r.pttl('mv:c')) > 90_000, 'the expiry copied');
  assert.equal(await r.get('mv:d'), 'A', 'the source stays');
  assert.equal(await r.copy('mv:none', 'mv:x'), 0);
  assert.equal(await r.call('COPY', 'mv:d', 'mv:e', 'DB', '0'), 1);
  assert.equal(await replyError(r.call('COPY', 'mv:d', 'mv:f', 'DB', '1')), 'ERR DB index is out of range', 'one database');
  assert.equal(await replyError(r.call('COPY', 'mv:d', 'mv:d')), 'ERR source and destination objects are the same');
  assert.equal(await replyError(r.call('COPY', 'mv:d', 'mv:f', 'bogus')), 'ERR syntax error');
  const [tx] = (await r.multi().rename('mv:e', 'mv:g').get('mv:g').exec())!;
  assert.deepEqual(tx, [null, 'OK']);
  await r.del('mv:c', 'mv:d', 'mv:g');
});

test('DEL, UNLINK, EXISTS (duplicates counted), TYPE', async () => {
  await r.mset('d:a', '1', 'd:b', '2', 'd:c', '3');
  assert.equal(await r.exists('d:a', 'd:a', 'd:none'), 2);
  assert.equal(await r.del('d:a', 'd:none'), 1);
  assert.equal(await r.unlink('d:b', 'd:c'), 2);
  assert.equal(await r.exists('d:a', 'd:b', 'd:c'), 0);
  await r.set('d:t', 'v');
  assert.equal(await r.type('d:t'), 'string');
  assert.equal(await r.type('d:none'), 'none');
});

test('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT; TTL, PTTL, PERSIST', async () => {
  await r.set('e:a', 'v');
  assert.equal(await r.ttl('e:a'), -1);
  assert.equal(await r.ttl('e:none'), -2);
  assert.equal(await r.pttl('e:none'), -2);
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', 'abc', 'FOO')), 'ERR Unsupported option FOO', 'options are checked before the time, as on Redis');
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', 'abc', 'NX')), 'ERR value is not an integer or out of range');
  // A time far in the past (its ms beyond the safe integers) deletes the key, as on Redis.
  await r.set('e:past', 'x');
  assert.equal(await r.call('EXPIRE', 'e:past', String(-Number.MAX_SAFE_INTEGER)), 1);
  assert.equal(await r.exists('e:past'), 0);
  // 64-bit integers past the safe ones get Redis's replies, not the not-an-integer error (checked against Redis 7.0).
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', '9223372036854775807')), "ERR invalid expire time in 'expire' command");
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', '-9223372036854775808')), "ERR invalid expire time in 'expire' command", 'its ms overflow');
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', '9223372036854775808')), 'ERR value is not an integer or out of range');
  await r.set('e:past', 'x');
  assert.equal(await r.call('PEXPIRE', 'e:past', '-9223372036854775808'), 1);
  assert.equal(await r.exists('e:past'), 0);
  await r.set('e:past', 'x');
  assert.equal(await r.call('EXPIREAT', 'e:past', '-9007199254740993'), 1);
  assert.equal(await r.exists('e:past'), 0);
  assert.equal(await replyError(r.call('SETEX', 'e:x', '9223372036854775807', 'v')), "ERR invalid expire time in 'setex' command");
  assert.equal(await replyError(r.call('SET', 'e:x', 'v', 'PX', '-9223372036854775807')), "ERR invalid expire time in 'set' command");
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', 'abc', 'XX', 'LT')), 'ERR value is not an integer or out of range');
  assert.equal(await r.ttl('e:a'), -1, 'nothing above set an expiry');
  // XX LT: only a key with an expiry, only to an earlier one (LT alone sets one on a key without).
  assert.equal(await r.call('EXPIRE', 'e:a', '10', 'XX', 'LT'), 0, 'no expiry yet');
  assert.equal(await r.ttl('e:a'), -1);
  assert.equal(await r.expire('e:a', 100, 'XX'), 0, 'XX: no expiry yet');
  assert.equal(await r.expire('e:a', 100, 'NX'), 1);
  assert.equal(await r.expire('e:a', 200, 'NX'), 0);
  assert.equal(await r.expire('e:a', 50, 'GT'), 0);
  assert.equal(await r.expire('e:a', 300, 'GT'), 1);
  assert.equal(await r.pexpire('e:a', 100_000, 'LT'), 1);
  assert.equal(await r.call('PEXPIRE', 'e:a', '100000', 'LT', 'XX'), 0, 'XX LT: not earlier');
  assert.equal(await r.call('EXPIRE', 'e:a', '90', 'xx', 'lt'), 1, 'XX LT: earlier');
  const ttl = await r.ttl('e:a');
  assert.ok(ttl > 85 && ttl <= 90, `ttl ${ttl}`);
  assert.equal(await r.expireat('e:a', Math.floor(Date.now() / 1000) + 1000), 1);
  assert.ok((await r.ttl('e:a')) > 990);
  assert.equal(await r.pexpireat('e:a', Date.now() + 5_000), 1);
  assert.ok((await r.pttl('e:a')) <= 5_000);
  assert.equal(await r.persist('e:a'), 1);
  assert.equal(await r.persist('e:a'), 0);
  assert.equal(await r.ttl('e:a'), -1);
  assert.equal(await r.expire('e:none', 10), 0);
  assert.equal(await r.expire('e:a', -1), 1, 'a time in the past deletes the key');
  assert.equal(await r.exists('e:a'), 0);
  await r.set('e:b', 'v');
  assert.equal(await r.expireat('e:b', -5), 1);
  assert.equal(await r.exists('e:b'), 0);
  assert.equal(await r.pexpire('e:none', 10), 0);
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', '10', 'NX', 'XX')), 'ERR NX and XX, GT or LT options at the same time are not compatible');
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', '10', 'GT', 'LT')), 'ERR GT and LT options at the same time are not compatible');
  assert.equal(await replyError(r.call('EXPIRE', 'e:a', 'soon')), 'ERR value is not an integer or out of range');
  await r.set('e:short', 'v', 'PX', 30);
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(await r.get('e:short'), null, 'expired');
});

test('KEYS with glob patterns, SCAN with MATCH and COUNT visits every key once, DBSIZE', async () => {
  const keys = Array.from({ length: 120 }, (_, i) => `scan:${String(i).padStart(3, '0')}`);
  await r.mset(...keys.flatMap((k) => [k, 'v']));
  await r.mset('scan-other:1', 'v', 'scan:x1', 'v', 'scan:y1', 'v');
  assert.deepEqual((await r.keys('scan:0[0-1]?')).sort(), keys.slice(0, 20));
  assert.deepEqual((await r.keys('scan:[xy]1')).sort(), ['scan:x1', 'scan:y1']);
  assert.deepEqual(await r.keys('scan:\\x1'), ['scan:x1']);
  const seen: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, page] = await r.scan(cursor, 'MATCH', 'scan:*', 'COUNT', 25);
    assert.match(next, /^\d+$/);
    seen.push(...page);
    cursor = next;
    calls++;
  } while (cursor !== '0');
  assert.ok(calls >= 5, `${calls} calls`);
  assert.deepEqual(seen.sort(), [...keys, 'scan:x1', 'scan:y1'].sort());
  const streamed: string[] = [];
  for await (const page of r.scanStream({ match: 'scan:1*', count: 7 })) streamed.push(...(page as string[]));
  assert.deepEqual(streamed.sort(), keys.filter((k) => k.startsWith('scan:1')));
  // TYPE of another type: pages walked as Redis walks them (a cursor, no key), every key a string.
  let typed = '0';
  const hashes: string[] = [];
  let pages = 0;
  do {
    const [next, found] = (await r.call('SCAN', typed, 'MATCH', 'scan:*', 'TYPE', 'hash', 'COUNT', '50')) as [string, string[]];
    typed = next;
    hashes.push(...found);
    pages++;
  } while (typed !== '0' && pages < 100);
  assert.deepEqual([typed, hashes], ['0', []]);
  assert.ok(pages >= 3, `${pages} pages`);
  const [again] = await r.scan('0', 'MATCH', 'scan:*', 'COUNT', 10);
  assert.deepEqual((await r.scan(again, 'COUNT', 10))[1], (await r.scan(again, 'COUNT', 10))[1], 'a cursor may be used again (a retry)');
  assert.equal(await replyError(r.scan('123456789')), 'ERR invalid cursor (unknown or forgotten: the server keeps the most recent SCAN cursors only)');
  assert.equal(await replyError(r.call('SCAN', 'x')), 'ERR invalid cursor');
  assert.equal(await replyError(r.call('SCAN', '-1')), 'ERR invalid cursor');
  // strtoul's sign, as Redis reads the cursor: +0 and -0 are 0, a new scan; a sign alone is no number.
  for (const zero of ['+0', '-0', '+000']) assert.equal(((await r.call('SCAN', zero, 'COUNT', '1000')) as [string, string[]])[0], '0', zero);
  assert.equal(await replyError(r.call('SCAN', '+')), 'ERR invalid cursor');
  // Cursors as Redis reads them: leading zeros, and empty for 0; a pattern whose literal prefix no key can have.
  assert.deepEqual(await r.call('SCAN', '00', 'COUNT', '1000', 'MATCH', 'nomatch'), ['0', []]);
  assert.deepEqual(await r.call('SCAN', '', 'COUNT', '1000', 'MATCH', 'nomatch'), ['0', []]);
  assert.deepEqual(await r.keys(`${'k'.repeat(1025)}*`), []);
  assert.deepEqual(await r.scan('0', 'MATCH', 'k'.repeat(1025)), ['0', []]);
  assert.equal(await r.dbsize(), await s.cluster.size());
});

test('a pipeline: every reply in order, writes then reads of the same keys see the writes', async () => {
  const p = r.pipeline();
  for (let i = 0; i < 500; i++) p.set(`p:${i}`, String(i));
  for (let i = 0; i < 500; i++) p.get(`p:${i}`);
  p.incr('p:counter').get('p:counter').del('p:0').get('p:0').set('p:0', 'back').get('p:0');
  const out = (await p.exec())!;
  assert.equal(out.length, 1006);
  for (let i = 0; i < 500; i++) assert.deepEqual(out[i], [null, 'OK']);
  for (let i = 0; i < 500; i++) assert.deepEqual(out[500 + i], [null, String(i)]);
  assert.deepEqual(out.slice(1000).map(([, v]) => v), [1, '1', 1, null, 'OK', 'back']);
});

test('a pipeline goes to the cluster together: 500 SETs are a few batch() calls, 500 GETs a few read rounds', async () => {
  const before = (await s.cluster.metrics()).coordinator;
  const writes = r.pipeline();
  for (let i = 0; i < 500; i++) writes.set(`b:${i}`, 'v');
  await writes.exec();
  const mid = (await s.cluster.metrics()).coordinator;
  const reads = r.pipeline();
  for (let i = 0; i < 500; i++) reads.get(`b:${i}`);
  const got = (await reads.exec())!;
  assert.ok(got.every(([, v]) => v === 'v'));
  const end = (await s.cluster.metrics()).coordinator;
  // One call per socket read (a 500-command pipeline may arrive in a few reads), not one per command.
  assert.ok(mid.writes - before.writes <= 8, `${mid.writes - before.writes} write calls for 500 SETs`);
  assert.ok(end.readRoundsSent - mid.readRoundsSent <= 8, `${end.readRoundsSent - mid.readRoundsSent} read rounds for 500 GETs`);
});

test('a pipeline of GETs then a SET: the GETs do not see the SET that follows them', async () => {
  await r.set('order:k', 'before');
  const out = (await r.pipeline().get('order:k').set('order:k', 'after').get('order:k').exec())!;
  assert.deepEqual(out.map(([, v]) => v), ['before', 'OK', 'after']);
});

test('MULTI/EXEC applies the queued commands as one batch and returns their replies; DISCARD drops them', async () => {
  await r.set('t:n', '10');
  const out = await r.multi().set('t:a', '1').incr('t:n').get('t:a').getdel('t:a').mget('t:a', 't:n').ping().exec();
  assert.deepEqual(out, [[null, 'OK'], [null, 11], [null, '1'], [null, '1'], [null, [null, '11']], [null, 'PONG']]);
  await r.multi().set('t:d', 'x').discard();
  assert.equal(await r.exists('t:d'), 0);
  // An error found when the command runs (here: INCR of a string) is its reply in EXEC's array; the rest apply.
  await r.set('t:s', 'str');
  const mixed = await r.multi().incr('t:s').set('t:after', 'yes').exec();
  assert.equal((mixed![0]![0] as Error).message, 'ERR value is not an integer or out of range');
  assert.deepEqual(mixed![1], [null, 'OK']);
  assert.equal(await r.get('t:after'), 'yes');
});

test('scripts inside MULTI: a command defined by a script (EVALSHA, loaded first) runs in its place in EXEC, under WATCH too', async () => {
  const cmd = r as Redis & { incrCapped(key: string, cap: number): Promise<number> };
  r.defineCommand('incrCapped', { numberOfKeys: 1, lua: "local n = redis.call('INCR', KEYS[1]) if n > tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end return n" });
  await r.set('t:cap', '3');
  type Tx = ReturnType<Redis['multi']> & { incrCapped(key: string, cap: number): Tx };
  const tx = r.multi() as Tx;
  tx.incrCapped('t:cap', 4).incrCapped('t:cap', 4).get('t:cap');
  assert.deepEqual(await tx.exec(), [[null, 4], [null, 4], [null, '4']]);
  // WATCH: another client's write between WATCH and EXEC aborts it; without one it applies.
  const other = r.duplicate();
  try {
    await r.watch('t:cap');
    await other.set('t:cap', '0');
    const aborted = r.multi() as typeof tx;
    aborted.incrCapped('t:cap', 10);
    assert.equal(await aborted.exec(), null);
    await r.watch('t:cap');
    const ok = r.multi() as typeof tx;
    ok.incrCapped('t:cap', 10);
    assert.deepEqual(await ok.exec(), [[null, 1]]);
    assert.equal(await cmd.incrCapped('t:cap', 10), 2);
  } finally {
    other.disconnect();
  }
});

test('MULTI with TTL, PTTL, EXPIRETIME, PEXPIRETIME: read at the transaction\'s time (a fixed-window rate limiter: SET NX EX, INCRBY, PTTL)', async () => {
  const hit = () => r.multi().set('rl:k', '0', 'EX', 60, 'NX').incrby('rl:k', 1).pttl('rl:k').exec();
  const first = await hit();
  assert.deepEqual(first!.slice(0, 2), [[null, 'OK'], [null, 1]]);
  const ms = first![2]![1] as number;
  assert.ok(ms > 59_000 && ms <= 60_000, String(ms));
  const second = await hit();
  assert.deepEqual(second!.slice(0, 2), [[null, null], [null, 2]], 'the window is not restarted');
  assert.ok((second![2]![1] as number) <= ms);
  await r.set('rl:p', 'v');
  await r.set('rl:at', 'v', 'EXAT', 4_000_000_000);
  const out = await r.multi().ttl('rl:k').ttl('rl:p').pttl('rl:none').expiretime('rl:at').pexpiretime('rl:at').expiretime('rl:p').del('rl:k').ttl('rl:k').exec();
  assert.ok((out![0]![1] as number) > 58 && (out![0]![1] as number) <= 60);
  assert.deepEqual(out!.slice(1), [[null, -1], [null, -2], [null, 4_000_000_000], [null, 4_000_000_000_000], [null, -1], [null, 1], [null, -2]], 'it sees the DEL before it');
});

test('MULTI: an unknown command or a wrong arity aborts EXEC with EXECABORT; commands without a batch op, and SHUTDOWN, are refused', async () => {
  const raw = new Redis({ port: s.port, lazyConnect: true });
  await raw.connect();
  try {
    assert.equal(await raw.call('MULTI'), 'OK');
    assert.equal(await raw.call('SET', 't:x', '1'), 'QUEUED');
    assert.equal(await replyError(raw.call('NOPE')), "ERR unknown command 'NOPE', with args beginning with: ");
    assert.equal(await replyError(raw.call('EXEC')), 'EXECABORT Transaction discarded because of previous errors.');
    assert.equal(await raw.exists('t:x'), 0);
    await raw.call('MULTI');
    assert.equal(await raw.call('FLUSHDB'), 'QUEUED');
    assert.equal(await replyError(raw.call('KEYS', '*')), "ERR 'keys' inside MULTI is not supported by threadraft (it has no atomic batch operation)");
    assert.match(await replyError(raw.call('EXEC')), /^EXECABORT/);
    // A command Redis flags no-multi gets Redis's refusal, before its arguments are read; the server goes on.
    await raw.call('MULTI');
    for (const args of [['SHUTDOWN'], ['SHUTDOWN', 'NOSAVE', 'bogus']]) assert.equal(await replyError(raw.call(args[0]!, ...args.slice(1))), 'ERR Command not allowed inside a transaction');
    assert.match(await replyError(raw.call('EXEC')), /^EXECABORT/);
    assert.equal(await raw.call('PING'), 'PONG');
    assert.equal(await replyError(raw.call('EXEC')), 'ERR EXEC without MULTI');
    assert.equal(await replyError(raw.call('DISCARD')), 'ERR DISCARD without MULTI');
    await raw.call('MULTI');
    assert.equal(await replyError(raw.call('MULTI')), 'ERR MULTI calls can not be nested');
    assert.equal(await replyError(raw.call('WATCH', 'k')), 'ERR WATCH inside MULTI is not allowed');
    assert.equal(await raw.call('DISCARD'), 'OK');
  } finally {
    raw.disconnect();
  }
});

test('WATCH: a watched key changed by another client makes EXEC return null and apply nothing', async () => {
  const other = new Redis({ port: s.port, lazyConnect: true });
  await other.connect();
  try {
    await r.set('w:k', '1');
    assert.equal(await r.watch('w:k', 'w:absent'), 'OK');
    await other.set('w:k', '2');
    const out = await r.multi().set('w:k', 'mine').set('w:side', 'x').exec();
    assert.equal(out, null);
    assert.equal(await r.get('w:k'), '2');
    assert.equal(await r.exists('w:side'), 0);
    // Unchanged watched keys (one absent, then still absent): EXEC applies.
    await r.watch('w:k', 'w:absent');
    assert.deepEqual(await r.multi().set('w:k', 'mine').exec(), [[null, 'OK']]);
    assert.equal(await r.get('w:k'), 'mine');
    // A key created while watched (absent at WATCH) aborts too; UNWATCH forgets.
    await r.watch('w:new');
    await other.set('w:new', 'x');
    assert.equal(await r.multi().get('w:new').exec(), null);
    await r.watch('w:k');
    await other.set('w:k', 'again');
    await r.unwatch();
    assert.deepEqual(await r.multi().get('w:k').exec(), [[null, 'again']]);
  } finally {
    other.disconnect();
  }
});

test('WATCH as on Redis: a key created and deleted again (or created to expire) since WATCH aborts EXEC; UNWATCH inside MULTI is queued and changes nothing; FLUSHDB touches every key', async () => {
  const other = new Redis({ port: s.port, lazyConnect: true });
  await other.connect();
  try {
    // Absent at WATCH and absent again at EXEC: its revision is 0 both times, but it was written meanwhile.
    await r.watch('aba:k');
    await other.set('aba:k', '1');
    await other.del('aba:k');
    assert.equal(await r.multi().set('aba:k', 'mine').exec(), null);
    assert.equal(await r.exists('aba:k'), 0);
    await r.watch('aba:t');
    await other.set('aba:t', '1', 'PX', 30);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(await r.exists('aba:t'), 0, 'expired');
    assert.equal(await r.multi().set('aba:t', 'mine').exec(), null);
    // Written through the Cluster API in the same process (created and deleted again: revision 0 both times).
    await r.watch('aba:api');
    await s.cluster.put('aba:api', '1');
    await s.cluster.delete('aba:api');
    assert.equal(await r.multi().set('aba:api', 'mine').exec(), null);
    assert.equal(await r.exists('aba:api'), 0);
    await r.watch('aba:api-clear');
    await s.cluster.clear();
    assert.equal(await r.multi().set('aba:api-clear', 'mine').exec(), null);
    // A clear of a prefix touches the watched keys under it, present or not, and no other (aba:kept's revision is
    // unchanged: only a touch would abort its EXEC).
    await r.set('aba:kept', '1');
    await r.watch('aba:kept');
    await s.cluster.put('aba:pfx:1', '1');
    assert.equal(await s.cluster.clear({ prefix: 'aba:pfx:' }), 1);
    assert.deepEqual(await r.multi().set('aba:kept', 'mine').exec(), [[null, 'OK']]);
    await r.watch('aba:pfx:2');
    await s.cluster.clear({ prefix: 'aba:pfx' });
    assert.equal(await r.multi().set('aba:pfx:2', 'mine').exec(), null);
    // The same connection's own write between WATCH and MULTI aborts it too (Redis does the same).
    await r.watch('aba:own');
    await r.set('aba:own', 'x');
    await r.del('aba:own');
    assert.equal(await r.multi().set('aba:own', 'mine').exec(), null);
    // UNWATCH inside MULTI is queued (+QUEUED, then +OK in EXEC's array) and does not undo the WATCH before MULTI.
    await r.set('aba:u', '1');
    await r.watch('aba:u');
    const tx = r.multi();
    tx.unwatch();
    await other.set('aba:u', '10');
    assert.equal(await tx.set('aba:u', 'mine').exec(), null);
    assert.equal(await r.get('aba:u'), '10');
    // FLUSHDB from another connection touches every watched key, present or not.
    await r.watch('aba:none');
    await other.flushdb();
    assert.equal(await r.multi().set('aba:none', 'x').exec(), null);
    // Untouched, EXEC applies; a write of another key does not touch this one.
    await r.watch('aba:quiet');
    await other.set('aba:noise', '1');
    assert.deepEqual(await r.multi().set('aba:quiet', 'ok').exec(), [[null, 'OK']]);
    assert.equal(s.server.watchedKeys, 0, 'every EXEC, DISCARD and UNWATCH released its keys');
    // A connection that closes while watching releases its keys.
    const gone = new Redis({ port: s.port, lazyConnect: true });
    await gone.connect();
    await gone.watch('aba:g1', 'aba:g2');
    assert.equal(s.server.watchedKeys, 2);
    gone.disconnect();
    for (let i = 0; i < 200 && s.server.watchedKeys > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(s.server.watchedKeys, 0, 'released at close');
  } finally {
    other.disconnect();
  }
});

test('EXEC with the wrong arity discards the transaction (EXECABORT naming why), in MULTI or not, as Redis does', async () => {
  const raw = new Redis({ port: s.port, lazyConnect: true });
  await raw.connect();
  try {
    assert.equal(await raw.call('MULTI'), 'OK');
    assert.equal(await raw.call('SET', 'ea:x', '1'), 'QUEUED');
    assert.equal(await replyError(raw.call('EXEC', 'extra')), "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command");
    assert.equal(await replyError(raw.call('EXEC')), 'ERR EXEC without MULTI');
    assert.equal(await raw.set('ea:y', '1'), 'OK', 'not queued: the transaction is gone');
    assert.equal(await raw.exists('ea:x'), 0);
    // Outside MULTI too (Redis 7.0's execCommandAbort), and it forgets the watched keys.
    assert.equal(await raw.call('WATCH', 'ea:w'), 'OK');
    assert.equal(await replyError(raw.call('EXEC', 'extra')), "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command");
    assert.equal(await raw.set('ea:w', '1'), 'OK', 'would abort the transaction below if ea:w were still watched');
    assert.equal(await raw.call('MULTI'), 'OK');
    assert.equal(await raw.call('SET', 'ea:z', '1'), 'QUEUED');
    assert.deepEqual(await raw.call('EXEC'), ['OK']);
  } finally {
    raw.disconnect();
  }
});

test("Redis's error replies: unknown command, arity, wrong DB, empty key", async () => {
  assert.equal(await replyError(r.call('FOO', 'a', 'b')), "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
  assert.equal(await replyError(r.call('GET')), "ERR wrong number of arguments for 'get' command");
  assert.equal(await replyError(r.call('GET', 'a', 'b')), "ERR wrong number of arguments for 'get' command");
  assert.equal(await replyError(r.call('SELECT', '1')), 'ERR DB index is out of range');
  assert.equal(await r.call('SELECT', '0'), 'OK');
  assert.match(await replyError(r.get('')), /^ERR INVALID_ARGUMENT key must not be empty/);
  assert.equal(await replyError(r.call('CLIENT', 'BOGUS')), "ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.");
});

test('connection and server commands: PING, ECHO, CLIENT, INFO, COMMAND, READONLY', async () => {
  assert.equal(await r.ping(), 'PONG');
  assert.equal(await r.ping('hi'), 'hi');
  assert.equal(await r.echo('x y'), 'x y');
  // The HELP the unknown-subcommand errors point to exists; COUNT takes no argument.
  // As Redis: an array of status lines.
  for (const cmd of ['COMMAND', 'DEBUG', 'CLIENT', 'CONFIG', 'MEMORY']) {
    const lines = (await r.call(cmd, 'HELP')) as string[];
    assert.match(lines[0]!, new RegExp(`^${cmd} <subcommand> \\[<arg> \\[value\\] \\[opt\\] \\.\\.\\.\\]\\. Subcommands are:$`));
    assert.ok(lines.length > 4 && lines.includes('HELP'), JSON.stringify(lines));
    // DEBUG has no subcommands of its own in Redis's table: its one error for an unknown subcommand or wrong arguments.
    assert.equal(await replyError(r.call(cmd, 'HELP', 'x')), cmd === 'DEBUG'
      ? "ERR unknown subcommand or wrong number of arguments for 'HELP'. Try DEBUG HELP."
      : `ERR wrong number of arguments for '${cmd.toLowerCase()}|help' command`);
  }
  assert.ok(((await r.call('DEBUG', 'HELP')) as string[]).includes('DIGEST'));
  assert.equal(await replyError(r.call('CLIENT', 'NO-EVICT')), "ERR wrong number of arguments for 'client|no-evict' command");
  assert.equal(await replyError(r.call('CLIENT', 'NO-EVICT', 'maybe')), 'ERR syntax error');
  assert.equal(await replyError(r.call('COMMAND', 'COUNT', 'x')), "ERR wrong number of arguments for 'command|count' command");
  const id = (await r.client('ID')) as number;
  assert.ok(Number.isInteger(id) && id > 0);
  assert.equal(await r.client('GETNAME'), null);
  assert.equal(await r.client('SETNAME', 'tester'), 'OK');
  assert.equal(await r.client('GETNAME'), 'tester');
  // ioredis 6 says HELLO 3 when it connects: RESP3.
  assert.match((await r.client('INFO')) as string, new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:\\d+ .*name=tester .*resp=3`));
  assert.match((await r.client('INFO')) as string, / cmd=client\|info /, 'a container command with its subcommand, as Redis 7');
  assert.match(await replyError(r.client('SETNAME', 'a b')), /^ERR Client names cannot contain spaces/);
  assert.equal(await r.call('CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis-test'), 'OK');
  assert.match((await r.client('LIST')) as string, /lib-name=ioredis-test/);
  const info = await r.info();
  for (const field of ['redis_version:', 'loading:0', 'connected_clients:', 'role:master', 'raft_leader:', 'raft_term:', 'raft_commit_index:', 'raft_applied_index:', 'write_stage_leaderFsync_ms:count=', 'db0:keys=']) {
    assert.ok(info.includes(field), `INFO has ${field}`);
  }
  const leader = s.cluster.leader();
  assert.ok(info.includes(`raft_leader:${leader}`));
  // run_id: 40 hex digits, the same for the server's whole run; server_time_usec: its clock in µs.
  const runId = /^run_id:([0-9a-f]{40})\r$/m.exec(info)?.[1];
  assert.ok(runId !== undefined, info);
  assert.ok((await r.info('server')).includes(`run_id:${runId}\r\n`));
  const usec = Number(/^server_time_usec:(\d+)\r$/m.exec(info)?.[1]);
  assert.ok(Math.abs(usec / 1000 - Date.now()) < 60_000, `server_time_usec ${usec}`);
  // used_memory: the main thread's and every node thread's (with its pool thread's), each on its own line.
  const memory = await r.info('memory');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(memory)?.[1]);
  const ids = (await s.cluster.status()).map((n) => n.id);
  assert.deepEqual([...memory.matchAll(/^used_memory_node(\d+):\d+\r$/gm)].map((m) => Number(m[1])), ids, memory);
  assert.ok(ids.every((id) => field(`used_memory_node${id}`) > 0) && field('used_memory_main') > 0, memory);
  assert.equal(field('used_memory'), field('used_memory_main') + ids.reduce((sum, id) => sum + field(`used_memory_node${id}`), 0), memory);
  assert.ok(field('used_memory_rss') > 0, memory);
  assert.match(memory, /^used_memory_human:\d+\.\d\dM\r$/m);
  assert.match(memory, /^maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r$/m, 'no bounds, as Redis by default');
  // The keyspace line as Redis's: keys, how many expire, their mean time left (ms).
  await r.flushdb();
  await r.set('ks:a', '1');
  await r.set('ks:b', '1', 'PX', 100_000);
  await r.set('ks:c', '1', 'PX', 50_000);
  const db0 = /db0:keys=(\d+),expires=(\d+),avg_ttl=(\d+)/.exec(await r.info('keyspace'));
  assert.ok(db0, 'db0:keys=...,expires=...,avg_ttl=...');
  assert.deepEqual([db0[1], db0[2]], ['3', '2']);
  assert.ok(Number(db0[3]) > 70_000 && Number(db0[3]) <= 75_000, `avg_ttl ${db0[3]}`);
  await r.flushdb();
  assert.ok(!(await r.info('stats')).includes('# Server'));
  // CPU as Redis names and prints it: seconds with 6 decimals; no child processes (the nodes are threads).
  const cpu = await r.info('cpu');
  assert.match(cpu, /^# CPU\r\nused_cpu_sys:\d+\.\d{6}\r\nused_cpu_user:\d+\.\d{6}\r\nused_cpu_sys_children:0\.000000\r\nused_cpu_user_children:0\.000000\r\n/);
  const cpuField = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)\r$`, 'm').exec(cpu)?.[1]);
  assert.ok(cpuField('used_cpu_user') > 0, cpu);
  if (process.platform === 'linux') assert.ok(cpuField('used_cpu_user_main_thread') <= cpuField('used_cpu_user') + 0.01, cpu);
  const count = (await r.command('COUNT')) as unknown as number;
  assert.ok(count >= 45);
  const [get] = (await r.command('INFO', 'get')) as unknown[][];
  assert.deepEqual(get!.slice(0, 6), ['get', 2, ['readonly', 'fast'], 1, 1, 1]);
  const docs = (await r.call('COMMAND', 'DOCS', 'set')) as unknown[];
  assert.equal(docs[0], 'set');
  assert.equal(await r.call('READONLY'), 'OK');
  await r.set('ro:k', 'v');
  assert.equal(await r.get('ro:k'), 'v', 'a lease read after the write');
  assert.match((await r.client('INFO')) as string, / flags=r /);
  assert.equal(await r.call('READWRITE'), 'OK');
});

test('TIME, ROLE and COMMAND GETKEYS as Redis answers them; TIME inside MULTI is read at EXEC, ROLE refused there', async () => {
  const before = Date.now();
  const [seconds, micros] = (await r.call('TIME')) as [string, string];
  const at = Number(seconds) * 1000 + Number(micros) / 1000;
  assert.match(seconds, /^\d{10}$/);
  assert.ok(/^\d{1,6}$/.test(micros) && Number(micros) < 1e6, micros);
  assert.ok(at >= before - 1 && at <= Date.now() + 1, `${at} within [${before}, now]`);
  await r.set('role:k', 'v');
  const [role, offset, replicas] = (await r.call('ROLE')) as [string, number, unknown[]];
  assert.equal(role, 'master');
  assert.deepEqual(replicas, []);
  const leader = (await s.cluster.status()).find((n) => n.role === 'leader')!;
  assert.ok(offset > 0 && offset <= leader.commit!, `offset ${offset}: the leader's commit index`);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'), ['a', 'b']);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'set', 'k', 'v', 'EX', '5'), ['k']);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'DEL', 'a', 'b', 'c'), ['a', 'b', 'c']);
  assert.equal(await replyError(r.call('COMMAND', 'GETKEYS', 'WAIT', '1', '0')), 'ERR The command has no key arguments');
  assert.equal(await replyError(r.call('COMMAND', 'GETKEYS', 'NOPE', 'a')), 'ERR Invalid command specified');
  assert.equal(await replyError(r.call('COMMAND', 'GETKEYS', 'SET', 'a')), 'ERR Invalid number of arguments specified for command');
  assert.equal(await replyError(r.call('COMMAND', 'GETKEYS', 'GET')), "ERR wrong number of arguments for 'command|getkeys' command");
  const raw = new Redis({ port: s.port, lazyConnect: true });
  await raw.connect();
  try {
    await raw.call('MULTI');
    assert.equal(await replyError(raw.call('ROLE')), "ERR 'role' inside MULTI is not supported by threadraft (it has no atomic batch operation)");
    assert.match(await replyError(raw.call('EXEC')), /^EXECABORT/);
    await raw.call('MULTI');
    assert.equal(await raw.call('TIME'), 'QUEUED');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = Date.now();
    const [[s2, us2]] = (await raw.call('EXEC')) as [[string, string]];
    const atExec = Number(s2) * 1000 + Number(us2) / 1000;
    assert.ok(atExec >= sent - 1 && atExec <= Date.now() + 1, `${atExec} within [${sent}, now]: the time of EXEC, not of queueing`);
  } finally {
    raw.disconnect();
  }
});

test('CONFIG GET answers what the server and cluster were started with; SET, REWRITE refused; RESETSTAT resets INFO stats', async () => {
  assert.deepEqual(await r.call('CONFIG', 'GET', 'save'), ['save', '']);
  assert.deepEqual(await r.call('CONFIG', 'GET', 'append*'), ['appendonly', 'yes', 'appendfsync', 'always'], 'LMDB with sync: a log synced per write');
  assert.deepEqual(await r.call('CONFIG', 'GET', 'PORT'), ['PORT', String(s.port)], 'a name matches case-insensitively and is echoed as given, as Redis 7');
  assert.deepEqual(await r.call('CONFIG', 'GET', 'MAXCLIENT?'), ['maxclients', '10000'], 'a pattern too; it answers with the name');
  assert.deepEqual(await r.call('CONFIG', 'GET', 'max*'), ['maxclients', '10000', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'], 'no bounds: nothing is evicted');
  assert.deepEqual(await r.call('CONFIG', 'GET', 'bind', 'databases', 'bind'), ['bind', '127.0.0.1', 'databases', '1'], 'each once');
  assert.deepEqual(await r.call('CONFIG', 'GET', 'dir'), ['dir', s.cluster.dir]);
  assert.deepEqual(await r.call('CONFIG', 'GET', 'nosuch*'), []);
  assert.deepEqual(await r.call('CONFIG', 'GET', '*of'), ['replicaof', '', 'slaveof', ''], 'a primary, under both of Redis\'s names');
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'slaveof', 'no one')), "ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config");
  assert.equal(await replyError(r.call('CONFIG', 'GET')), "ERR wrong number of arguments for 'config|get' command");
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'maxclients', '5')), "ERR CONFIG SET failed (possibly related to argument 'maxclients') - can't set immutable config");
  // A fixed parameter Redis lets change takes the value it has: nothing changes (a test harness's `CONFIG SET save ""`).
  assert.equal(await r.call('CONFIG', 'SET', 'save', '', 'appendonly', 'YES', 'maxclients', '10000'), 'OK');
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'save', '', 'appendonly', 'no')), "ERR CONFIG SET failed (possibly related to argument 'appendonly') - can't set immutable config");
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'save', '', 'SAVE', '')), "ERR CONFIG SET failed (possibly related to argument 'SAVE') - duplicate parameter");
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'databases', '1')), "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config", 'immutable on Redis too');
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'logfile', '')), "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config", 'immutable on Redis too');
  const dir = ((await r.call('CONFIG', 'GET', 'dir')) as string[])[1]!;
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'dir', dir)), "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config", 'protected on Redis');
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'bogus', '1')), "ERR Unknown option or number of arguments for CONFIG SET - 'bogus'");
  assert.equal(await replyError(r.call('CONFIG', 'SET', 'port')), "ERR wrong number of arguments for 'config|set' command");
  assert.equal(await replyError(r.call('CONFIG', 'REWRITE')), 'ERR The server is running without a config file');
  assert.equal(await replyError(r.call('CONFIG', 'BOGUS')), "ERR unknown subcommand 'BOGUS'. Try CONFIG HELP.");
  await r.set('cfg:k', 'v');
  const processed = async (): Promise<number> => Number(/total_commands_processed:(\d+)/.exec(await r.info('stats'))?.[1]);
  assert.ok((await processed()) > 3);
  assert.ok((await s.cluster.metrics()).writeTotal.count > 0);
  assert.equal(await r.call('CONFIG', 'RESETSTAT'), 'OK');
  assert.ok((await processed()) <= 1, 'only the INFO itself counted since');
  assert.equal((await s.cluster.metrics()).writeTotal.count, 0, "and the cluster's recorded latencies are forgotten");
  // SHUTDOWN needs the server's `shutdown` option (this one has none: the test stops it).
  assert.match(await replyError(r.call('SHUTDOWN')), /^ERR Errors trying to SHUTDOWN: .*option shutdown is not set/);
  assert.equal(await replyError(r.call('SHUTDOWN', 'BOGUS')), 'ERR syntax error');
  // Inside MULTI: GET is queued and answered by EXEC; RESETSTAT, a call of the whole server, aborts the transaction.
  const raw = new Redis({ port: s.port, lazyConnect: true });
  await raw.connect();
  try {
    assert.equal(await raw.call('MULTI'), 'OK');
    assert.equal(await raw.call('CONFIG', 'GET', 'save'), 'QUEUED');
    assert.deepEqual(await raw.call('EXEC'), [['save', '']]);
    assert.equal(await raw.call('MULTI'), 'OK');
    assert.match(await replyError(raw.call('CONFIG', 'RESETSTAT')), /^ERR 'config\|resetstat' inside MULTI is not supported/);
    assert.equal(await replyError(raw.call('EXEC')), 'EXECABORT Transaction discarded because of previous errors.');
  } finally {
    raw.disconnect();
  }
});

test('MEMORY USAGE: the bytes of the key and its value (nil for no key); SAMPLES checked as Redis does', async () => {
  await r.set('mem:k', 'x'.repeat(100));
  await r.set('mem:é', Buffer.from([1, 2, 3]));
  assert.equal(await r.call('MEMORY', 'USAGE', 'mem:k'), 105);
  assert.equal(await r.call('MEMORY', 'USAGE', 'mem:é', 'SAMPLES', '0'), 9, 'bytes, not characters');
  assert.equal(await r.call('MEMORY', 'USAGE', 'mem:none'), null);
  assert.equal(await replyError(r.call('MEMORY', 'USAGE')), "ERR wrong number of arguments for 'memory|usage' command");
  assert.equal(await replyError(r.call('MEMORY', 'USAGE', 'mem:k', 'SAMPLES')), 'ERR syntax error');
  assert.equal(await replyError(r.call('MEMORY', 'USAGE', 'mem:k', 'SAMPLES', '-1')), 'ERR syntax error');
  assert.equal(await replyError(r.call('MEMORY', 'USAGE', 'mem:k', 'SAMPLES', 'x')), 'ERR value is not an integer or out of range');
  assert.equal(await replyError(r.call('MEMORY', 'DOCTOR')), "ERR unknown subcommand 'DOCTOR'. Try MEMORY HELP.");
  await r.del('mem:k', 'mem:é');
});

test('CLIENT LIST filters and CLIENT KILL, as Redis 7', async () => {
  const open = (): Promise<Redis> => {
    const c = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    return c.connect().then(() => c);
  };
  const a = await open();
  const b = await open();
  const c = await open();
  try {
    const [me, idA, idB, idC] = (await Promise.all([r.client('ID'), a.client('ID'), b.client('ID'), c.client('ID')])) as number[];
    const ids = (list: string): number[] => [...list.matchAll(/^id=(\d+) /gm)].map((m) => Number(m[1])).sort((x, y) => x - y);
    assert.deepEqual(ids((await r.call('CLIENT', 'LIST', 'ID', String(idB), String(idA), '999999')) as string), [idA!, idB!].sort((x, y) => x - y));
    assert.ok(ids((await r.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string).includes(idC!));
    assert.equal(await r.call('CLIENT', 'LIST', 'TYPE', 'replica'), '');
    assert.equal(await replyError(r.call('CLIENT', 'LIST', 'TYPE', 'bogus')), "ERR Unknown client type 'bogus'");
    assert.equal(await replyError(r.call('CLIENT', 'LIST', 'ID', 'x')), 'ERR Invalid client ID');
    assert.equal(await replyError(r.call('CLIENT', 'LIST', 'NAME', 'x')), 'ERR syntax error');
    assert.equal(await replyError(r.call('CLIENT', 'KILL')), "ERR wrong number of arguments for 'client|kill' command");
    assert.equal(await replyError(r.call('CLIENT', 'KILL', 'ID', '0')), 'ERR client-id should be greater than 0');
    // Ids are 64-bit integers, as Redis's (redis-server 7.0.15's replies): past 2^53 there is no such client.
    assert.equal(await r.call('CLIENT', 'KILL', 'ID', '9007199254740993'), 0);
    assert.equal(await replyError(r.call('CLIENT', 'KILL', 'ID', '9223372036854775808')), 'ERR client-id should be greater than 0');
    assert.equal(await r.call('CLIENT', 'LIST', 'ID', '9007199254740993'), '');
    assert.equal(await replyError(r.call('CLIENT', 'LIST', 'ID', '9223372036854775808')), 'ERR Invalid client ID');
    assert.equal(await replyError(r.call('CLIENT', 'KILL', 'ID', String(idA), 'TYPE')), 'ERR syntax error');
    assert.equal(await replyError(r.call('CLIENT', 'KILL', 'USER', 'nobody')), "ERR No such user 'nobody'");
    assert.equal(await replyError(r.call('CLIENT', 'KILL', '127.0.0.1:1')), 'ERR No such client');
    // The new form: a count; the caller is skipped unless SKIPME no.
    assert.equal(await r.call('CLIENT', 'KILL', 'ID', String(me)), 0);
    assert.equal(await r.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 0);
    const closed = new Promise<void>((resolve) => a.once('end', resolve));
    assert.equal(await r.call('CLIENT', 'KILL', 'ID', String(idA)), 1);
    await closed;
    assert.equal(a.status, 'end');
    assert.deepEqual(ids((await r.call('CLIENT', 'LIST', 'ID', String(idA), String(idB))) as string), [idB!]);
    // The old form by address: OK.
    const addrB = /addr=(\S+)/.exec((await b.client('INFO')) as string)![1]!;
    const closedB = new Promise<void>((resolve) => b.once('end', resolve));
    assert.equal(await r.call('CLIENT', 'KILL', addrB), 'OK');
    await closedB;
    // A connection that kills itself gets its reply, then is closed.
    const closedC = new Promise<void>((resolve) => c.once('end', resolve));
    assert.equal(await c.call('CLIENT', 'KILL', 'ID', String(idC), 'SKIPME', 'no'), 1);
    await closedC;
    assert.equal(await r.ping(), 'PONG', 'the caller of the other kills is still connected');
  } finally {
    for (const x of [a, b, c]) x.disconnect();
  }
});

test('FLUSHDB and FLUSHALL remove every key', async () => {
  await r.set('f:a', '1');
  assert.equal(await r.flushdb(), 'OK');
  assert.equal(await r.dbsize(), 0);
  await r.set('f:b', '1');
  assert.equal(await r.flushall('ASYNC'), 'OK');
  assert.equal(await r.exists('f:b'), 0);
});

test('DEBUG DIGEST: the replicas\' digest of the whole dataset (checkReplicas); the same state gives it back; other subcommands, and the wrong number of arguments, are one error as on Redis', async () => {
  const before = (await r.call('DEBUG', 'DIGEST')) as string;
  assert.match(before, /^[0-9a-f]{64}$/);
  await r.set('dg:a', '1');
  const after = (await r.call('DEBUG', 'DIGEST')) as string;
  assert.notEqual(after, before);
  await r.del('dg:a');
  assert.equal(await r.call('DEBUG', 'DIGEST'), before, 'the key gone again: the same dataset');
  assert.equal(await replyError(r.call('DEBUG', 'RELOAD')), "ERR unknown subcommand or wrong number of arguments for 'RELOAD'. Try DEBUG HELP.");
  assert.equal(await replyError(r.call('DEBUG', 'DIGEST', 'x')), "ERR unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP.");
});

test('a value of exactly maxValueBytes (1 MiB) is stored and read back; one byte more is refused with the limit named', async () => {
  const big = Buffer.alloc(1024 * 1024, 0x61);
  assert.equal(await r.set('big:max', big), 'OK');
  assert.equal(await r.strlen('big:max'), 1024 * 1024);
  assert.match(await replyError(r.set('big:over', Buffer.alloc(1024 * 1024 + 1))), /^ERR INVALID_ARGUMENT value is 1048577 bytes/);
  await r.del('big:max');
});

test("SET and GETEX options as Redis 7 parses them: repeats are taken again (the last expiry wins), conflicting ones are a syntax error", async () => {
  assert.equal(await r.call('SET', 'opt:k', 'v', 'XX', 'XX'), null, 'absent: XX XX does not set');
  assert.equal(await r.call('SET', 'opt:k', 'v', 'NX', 'NX', 'GET', 'GET'), null);
  assert.equal(await r.call('SET', 'opt:k', 'w', 'EX', 'abc', 'EX', '100'), 'OK', 'only the last EX is checked');
  assert.ok((await r.ttl('opt:k')) > 90);
  assert.equal(await r.call('SET', 'opt:k', 'x', 'KEEPTTL', 'KEEPTTL'), 'OK');
  assert.ok((await r.ttl('opt:k')) > 90);
  assert.equal(await r.call('GETEX', 'opt:k', 'PX', '5000', 'PX', '20000'), 'x');
  assert.ok((await r.pttl('opt:k')) > 15_000);
  assert.equal(await r.call('GETEX', 'opt:k', 'PERSIST', 'PERSIST'), 'x');
  assert.equal(await r.ttl('opt:k'), -1);
  for (const bad of [['SET', 'opt:k', 'v', 'NX', 'XX'], ['SET', 'opt:k', 'v', 'EX', '10', 'PX', '10'], ['SET', 'opt:k', 'v', 'KEEPTTL', 'EX', '10'], ['SET', 'opt:k', 'v', 'EX'], ['GETEX', 'opt:k', 'PERSIST', 'EX', '10'], ['GETEX', 'opt:k', 'NX']]) {
    assert.equal(await replyError(r.call(...(bad as [string, ...string[]]))), 'ERR syntax error', bad.join(' '));
  }
  assert.equal(await replyError(r.call('SET', 'opt:k', 'v', 'EX', '0')), "ERR invalid expire time in 'set' command");
  await r.del('opt:k');
});
