// Small pieces of the RESP layer on their own: Redis's integer syntax, keywords, the bounded SCAN cursor table,
// the unknown-command text, the cluster error mapping, option checks, the command table's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { keyword, parseInt64, parseInteger } from '../../src/resp/args.js';
import { CursorTable } from '../../src/resp/context.js';
import { clusterError, unknownCommand } from '../../src/resp/errors.js';
import { openFilesLimit } from '../../src/resp/descriptors.js';
import { COMMANDS, resolveRespOptions } from '../../src/resp/index.js';
import { bytesToHuman } from '../../src/resp/commands/server.js';
import { CommandStats } from '../../src/resp/command-stats.js';
import { ErrorReply } from '../../src/resp/reply.js';

test("parseInteger reads Redis's string2ll syntax within the safe integers", () => {
  const p = (s: string): number | null => parseInteger(Buffer.from(s));
  assert.equal(p('0'), 0);
  assert.equal(p('-12'), -12);
  assert.equal(p('9007199254740991'), 9007199254740991);
  for (const bad of ['', '-', '+1', '01', '-0', ' 1', '1 ', '1.5', '1e3', '9007199254740992', '99999999999999999999']) assert.equal(p(bad), null, bad);
});

test('parseInt64 reads the same syntax within 64 bits', () => {
  const p = (s: string): bigint | null => parseInt64(Buffer.from(s));
  assert.equal(p('0'), 0n);
  assert.equal(p('9223372036854775807'), 2n ** 63n - 1n);
  assert.equal(p('-9223372036854775808'), -(2n ** 63n));
  for (const bad of ['', '-', '+1', '01', '-0', ' 1', '1.5', '9223372036854775808', '-9223372036854775809', '123456789012345678901']) assert.equal(p(bad), null, bad);
});

test("bytesToHuman prints INFO's *_human fields as Redis 7.0.15 does (these pairs read from its INFO memory)", () => {
  const redis: Array<[number, string]> = [
    [0, '0B'], [1000, '1000B'], [1024, '1.00K'], [1152, '1.12K'], [1153, '1.13K'], [1179, '1.15K'], [1408, '1.38K'],
    [3_000_000, '2.86M'], [1_073_741_824, '1.00G'], [1_610_612_736, '1.50G'], [5_000_000_000_000, '4.55T'],
  ];
  for (const [n, text] of redis) assert.equal(bytesToHuman(n), text, String(n));
});

test('CommandStats: latencies kept with 2 significant digits (ns), percentiles at a bucket\'s highest value, LATENCY HISTOGRAM at 1024·2^k − 1 ns', () => {
  const s = new CommandStats();
  for (const ms of [0.0005, 0.003, 0.0031, 1.5]) s.called('get', ms, 'v');
  s.called('get', 0.01, new ErrorReply('WRONGTYPE no'));
  s.rejected('get', new ErrorReply('ERR wrong number of arguments'));
  s.rejected(undefined, new ErrorReply('ERR unknown command'));
  assert.deepEqual(s.histograms(undefined), [{ name: 'get', calls: 5, buckets: [[1, 1], [4, 3], [16, 4], [2097, 5]] }]);
  assert.deepEqual(s.histograms(['set']), []);
  assert.deepEqual(s.latencystats(), [['latency_percentiles_usec_get', 'p50=3.199,p99=1599.999,p99.9=1599.999']]);
  assert.deepEqual(s.commandstats(), [['cmdstat_get', 'calls=5,usec=1517,usec_per_call=303.32,rejected_calls=1,failed_calls=1']]);
  assert.deepEqual(s.errorstats(), [['errorstat_ERR', 'count=2'], ['errorstat_WRONGTYPE', 'count=1']]);
  assert.equal(s.errorReplies, 3);
  // A width exactly at a power of ten: 1000 ns is in [1000, 1099], not [1000, 1009].
  const t = new CommandStats();
  t.called('ping', 0.001, 'PONG');
  assert.deepEqual(t.latencystats(), [['latency_percentiles_usec_ping', 'p50=1.099,p99=1.099,p99.9=1.099']]);
  // A time past 2^53 ns (or infinite) is kept in the bucket of 2^53 − 1 ns ([9.0e15, 9.1e15)): counting its digits ends.
  const u = new CommandStats();
  u.called('ping', Infinity, 'PONG');
  u.called('ping', 2 ** 60 / 1e6, 'PONG');
  assert.deepEqual(u.latencystats(), [['latency_percentiles_usec_ping', 'p50=9100000000000.000,p99=9100000000000.000,p99.9=9100000000000.000']]);
  s.reset();
  assert.deepEqual([s.commandstats(), s.errorstats(), s.errorReplies], [[], [], 0]);
});

test('keyword compares ASCII case-insensitively', () => {
  assert.ok(keyword(Buffer.from('ex'), 'EX'));
  assert.ok(keyword(Buffer.from('KeepTtl'), 'KEEPTTL'));
  assert.ok(!keyword(Buffer.from('exx'), 'EX'));
  assert.ok(!keyword(undefined, 'EX'));
});

test('the SCAN cursor table is bounded: the oldest cursor is forgotten first; a cursor can be read again', () => {
  const t = new CursorTable(3);
  const ids = ['a', 'b', 'c', 'd'].map((c) => t.add(c, Buffer.alloc(0)));
  assert.equal(t.size, 3);
  assert.equal(t.get(ids[0]!), undefined);
  assert.equal(t.get(ids[3]!)?.cursor, 'd');
  assert.equal(t.get(ids[3]!)?.cursor, 'd');
  assert.ok(ids.every((id) => id > 0), 'never 0: 0 ends a scan');
});

test("the unknown-command reply quotes the arguments as Redis does, bounded to 128 characters", () => {
  assert.equal(unknownCommand([Buffer.from('foo')]).text, "ERR unknown command 'foo', with args beginning with: ");
  assert.equal(unknownCommand([Buffer.from('foo'), Buffer.from('a'), Buffer.from('b c')]).text, "ERR unknown command 'foo', with args beginning with: 'a' 'b c' ");
  const long = unknownCommand([Buffer.from('x'), ...Array.from({ length: 100 }, () => Buffer.from('abcdefgh'))]).text;
  assert.ok(long.length < 300);
});

test('cluster errors map to a Redis prefix and the stable code', () => {
  const e = (code: ErrorCode): string => clusterError(new ClusterError(code, 'msg')).text;
  assert.equal(e(ErrorCode.BUSY), 'TRYAGAIN BUSY msg');
  assert.equal(e(ErrorCode.NO_QUORUM), 'CLUSTERDOWN NO_QUORUM msg');
  assert.equal(e(ErrorCode.CLUSTER_STOPPED), 'CLUSTERDOWN CLUSTER_STOPPED msg');
  assert.equal(e(ErrorCode.TIMEOUT), 'ERR TIMEOUT msg');
  assert.equal(e(ErrorCode.NOT_INTEGER), 'ERR value is not an integer or out of range');
  assert.equal(clusterError(new Error('boom')).text, 'ERR INTERNAL boom');
});

test('server options: defaults, and refusals', () => {
  const o = resolveRespOptions();
  assert.equal(o.port, 6379);
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.maxBulkBytes, 64 * 1024 * 1024);
  assert.throws(() => resolveRespOptions({ port: 70000 }), /port must be an integer/);
  assert.throws(() => resolveRespOptions({ requirepass: '' }), /requirepass must be a non-empty string/);
  assert.equal(o.shutdown, undefined);
  assert.throws(() => resolveRespOptions({ shutdown: 'exit' as unknown as () => void }), /shutdown must be a function/);
});

test('the command table: lower-case names, Redis arities, every command of issue 14', () => {
  const want = [
    'ping', 'echo', 'hello', 'auth', 'client', 'select', 'command', 'info', 'dbsize', 'flushdb', 'flushall', 'quit', 'reset',
    'get', 'set', 'setnx', 'setex', 'psetex', 'getset', 'getdel', 'getex', 'mget', 'mset', 'msetnx', 'incr', 'decr', 'incrby',
    'decrby', 'append', 'strlen', 'del', 'unlink', 'exists', 'expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl',
    'persist', 'type', 'keys', 'scan', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'readonly', 'readwrite',
  ];
  for (const name of want) assert.ok(COMMANDS.has(name), name);
  for (const [name, c] of COMMANDS) {
    assert.equal(name, name.toLowerCase());
    assert.ok(c.arity !== 0 && Math.abs(c.arity) >= 1);
  }
  assert.equal(COMMANDS.get('get')!.arity, 2);
  assert.equal(COMMANDS.get('set')!.arity, -3);
});

test('openFilesLimit reads the soft limit of /proc/<pid>/limits; unlimited or missing is undefined', () => {
  const limits = (soft: string, hard: string): string =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95651                95651                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \nMax locked memory         8388608              8388608              bytes     \n`;
  assert.equal(openFilesLimit(limits('1024', '4096')), 1024);
  assert.equal(openFilesLimit(limits('unlimited', 'unlimited')), undefined);
  assert.equal(openFilesLimit('Limit Soft Limit\n'), undefined);
  assert.equal(typeof openFilesLimit(), 'number', 'this Linux machine has /proc/self/limits');
});
