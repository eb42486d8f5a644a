// ACL (src/resp/commands/acl.ts): the default user as Redis describes it, the commands' ACL categories, and ACL LOG's
// failed authentications (src/resp/acl-log.ts); checked against what redis-server 7.0.15 answers, and compared with
// a running redis-server when one is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resp3, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath, startRedisNoPersist } from '../../bench/resp-targets.js';
import { AclLog, ACL_LOG_MAX_LEN } from '../../src/resp/acl-log.js';
import { againstRedis, encode, endsWith, raw, sameAsRedis, serve, withMonitor, words, NO_REDIS, SINCE_REDIS_72, type Served } from './helpers.js';

const CATEGORIES = ['keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting'];
const NO_ACL_FILE = new RespError('ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.');
const GENPASS_RANGE = new RespError('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
const err = (text: string): RespError => new RespError(text);

/** Each command, in order on one connection, and what redis-server 7.0.15 answers (no password, no user added). */
const ASKED: Array<[string, RespValue]> = [
  ['ACL WHOAMI', 'default'],
  ['ACL USERS', ['default']],
  ['ACL LIST', ['user default on nopass ~* &* +@all']],
  ['ACL GETUSER default', ['flags', ['on', 'nopass'], 'passwords', [], 'commands', '+@all', 'keys', '~*', 'channels', '&*', 'selectors', []]],
  ['ACL GETUSER nobody', null],
  ['ACL CAT', CATEGORIES],
  ['ACL CAT nosuch', err("ERR Unknown category 'nosuch'")],
  ['ACL CAT a b', err("ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.")],
  ['ACL DRYRUN default get', err("ERR wrong number of arguments for 'get' command")],
  ['ACL DRYRUN default GET k', 'OK'],
  ['ACL DRYRUN default ping a b c', 'OK'],
  ['ACL DRYRUN nobody get k', err("ERR User 'nobody' not found")],
  ['ACL DRYRUN default nosuch k', err("ERR Command 'nosuch' not found")],
  ['ACL DRYRUN default client list', 'OK'],
  ['ACL DRYRUN default client bogus', err("ERR Command 'client' not found")],
  ['ACL DRYRUN default client', err("ERR wrong number of arguments for 'client' command")],
  ['ACL DRYRUN default config get', err("ERR wrong number of arguments for 'config|get' command")],
  ['ACL DELUSER default', err("ERR The 'default' user cannot be removed")],
  ['ACL DELUSER x y', 0],
  ['ACL DELUSER x default', err("ERR The 'default' user cannot be removed")],
  ['ACL LOAD', NO_ACL_FILE],
  ['ACL SAVE', NO_ACL_FILE],
  ['ACL BOGUS', err("ERR unknown subcommand 'BOGUS'. Try ACL HELP.")],
  ['ACL WHOAMI x', err("ERR wrong number of arguments for 'acl|whoami' command")],
  ['ACL GETUSER', err("ERR wrong number of arguments for 'acl|getuser' command")],
  ['ACL', err("ERR wrong number of arguments for 'acl' command")],
  ['ACL LOG', []],
  ['ACL LOG x', err('ERR value is not an integer or out of range')],
  ['ACL LOG 1 2', err("ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.")],
  ['ACL LOG -1', []],
  ['ACL LOG reset', 'OK'],
  ['ACL GENPASS 0', GENPASS_RANGE],
  ['ACL GENPASS -1', GENPASS_RANGE],
  ['ACL GENPASS 4097', GENPASS_RANGE],
  ['ACL GENPASS x', err('ERR value is not an integer or out of range')],
  ['ACL GENPASS 1 2', err("ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP.")],
  ['AUTH nobody pw', err('WRONGPASS invalid username-password pair or user is disabled.')],
];

/** ACL CAT string, sorted (Redis lists a category's commands in its table's hash order). */
const STRING_COMMANDS = ['append', 'decr', 'decrby', 'get', 'getdel', 'getex', 'getrange', 'getset', 'incr', 'incrby', 'incrbyfloat', 'lcs',
  'mget', 'mset', 'msetnx', 'psetex', 'set', 'setex', 'setnx', 'setrange', 'strlen', 'substr'];

/** SHA-256 of `s3cret`, as Redis's ACL LIST and GETUSER show it. */
const S3CRET_SHA256 = '1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0';

test('ACL describes the default user and refuses what it cannot do, with Redis\'s replies and errors', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    assert.match((await c.call(['ACL', 'SETUSER', 'bob', 'on', '>pw']) as RespError).message, /^ERR threadraft has the default user only: ACL SETUSER is not supported/);
    assert.deepEqual((await c.call(['ACL', 'CAT', 'String']) as string[]).sort(), STRING_COMMANDS, 'a category is named in any case');
    assert.deepEqual(await c.call(['ACL', 'CAT', 'transaction']), ['multi', 'exec', 'discard', 'watch', 'unwatch']);
    // GENPASS: 256 bits by default as 64 hex digits; the bits rounded up to whole hex digits; new every time.
    const [a, b, five] = [await c.call(['ACL', 'GENPASS']), await c.call(['ACL', 'GENPASS']), await c.call(['ACL', 'GENPASS', '5'])];
    assert.match(String(a), /^[0-9a-f]{64}$/);
    assert.notEqual(a, b);
    assert.match(String(five), /^[0-9a-f]{2}$/);
    assert.match(String(await c.call(['ACL', 'GENPASS', '4096'])), /^[0-9a-f]{1024}$/);
    // The categories are COMMAND INFO's too, in Redis's order.
    const [info] = (await c.call(['COMMAND', 'INFO', 'flushall', 'lastsave', 'get', 'acl', 'subscribe'])) as RespValue[][];
    assert.deepEqual(info![6], ['@keyspace', '@write', '@slow', '@dangerous']);
    const all = (await c.call(['COMMAND', 'INFO', 'lastsave', 'get', 'acl', 'subscribe'])) as RespValue[][];
    assert.deepEqual(all.map((i) => i[6]), [['@admin', '@fast', '@dangerous'], ['@read', '@string', '@fast'], ['@slow'], ['@pubsub', '@slow']]);
  } finally {
    c.close();
    await s.stop();
  }
});

test('ACL compared with redis-server: the same bytes; each category\'s commands', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  await sameAsRedis(redis, served, { name: 'ACL', conns: 1, steps: ASKED.map(([l]) => [0, [words(l)]]) });
  await sameAsRedis(redis, served, { name: 'ACL in RESP3', conns: 1, steps: [[0, [['HELLO', '3']]], [0, [['ACL', 'GETUSER', 'default'], ['ACL', 'LIST'], ['ACL', 'CAT']]]] });
  const [ours, theirs] = await Promise.all([SimpleConn.open('127.0.0.1', served.port), SimpleConn.open('127.0.0.1', redis.port)]);
  try {
    const names = new Set((await ours.call(['COMMAND', 'LIST'])) as string[]);
    for (const cat of CATEGORIES) {
      // Redis lists commands threadraft has not: compared on threadraft's (but for its Redis 7.2 subcommands).
      const mine = ((await ours.call(['ACL', 'CAT', cat])) as string[]).filter((n) => !SINCE_REDIS_72.has(n)).sort();
      const redis = ((await theirs.call(['ACL', 'CAT', cat])) as string[]).filter((n) => names.has(n)).sort();
      assert.deepEqual(mine, redis, `@${cat}`);
    }
  } finally {
    ours.close();
    theirs.close();
  }
}));

/**
 * The failures: AUTH twice as `default` (one entry, count 2), AUTH as bob, HELLO's AUTH; then, authenticated, AUTH
 * inside a MULTI that EXEC runs (and one that DISCARD drops: not run, so not logged).
 */
async function fail(port: number): Promise<void> {
  const r = await raw(port);
  try {
    r.socket.write(Buffer.concat([encode('auth', 'wrong'), encode('auth', 'wrong2'), encode('AUTH', 'bob', 'x'), encode('HELLO', '3', 'AUTH', 'default', 'nope'),
      encode('AUTH', 's3cret'), encode('MULTI'), encode('AUTH', 'y'), encode('DISCARD'), encode('MULTI'), encode('AUTH', 'x'), encode('EXEC'), encode('PING', 'done')]));
    const got = (await r.until(endsWith('done\r\n'))).toString('latin1');
    assert.ok(got.endsWith('+OK\r\n+QUEUED\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n$4\r\ndone\r\n'), got);
  } finally {
    r.socket.destroy();
  }
}

/** ACL LOG's entries as maps (RESP3), the fields that depend on when and where left out. */
async function logged(c: SimpleConn, count?: number): Promise<Array<Map<string, RespValue>>> {
  const reply = (await c.call(['ACL', 'LOG', ...(count === undefined ? [] : [String(count)])])) as Resp3[];
  return reply.map((m) => {
    const flat = m.value as RespValue[];
    return new Map(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]!]));
  });
}

async function withPassword(body: (c: SimpleConn, served: Served) => Promise<void>): Promise<void> {
  const s = await serve({ nodes: 1 }, { requirepass: 's3cret' });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['HELLO', '3', 'AUTH', 'default', 's3cret']);
    await body(c, s);
  } finally {
    c.close();
    await s.stop();
  }
}

test('with a password, LIST and GETUSER show its SHA-256; ACL LOG logs each failed AUTH as Redis 7.2 does', () => withPassword(async (c, s) => {
  assert.deepEqual(await c.call(['ACL', 'LIST']), [`user default on #${S3CRET_SHA256} ~* &* +@all`]);
  const user = (await c.call(['ACL', 'GETUSER', 'default'])) as Resp3;
  assert.deepEqual(user.value, ['flags', new Resp3('~', ['on']), 'passwords', [S3CRET_SHA256], 'commands', '+@all', 'keys', '~*', 'channels', '&*', 'selectors', []]);
  const before = Date.now();
  await fail(s.port);
  const entries = await logged(c);
  // Newest first; the two AUTHs as default are one entry counted twice; the object is the command as it was sent.
  const shown = entries.map((e) => [e.get('count'), e.get('reason'), e.get('context'), e.get('object'), e.get('username'), e.get('entry-id')]);
  assert.deepEqual(shown, [[1, 'auth', 'multi', 'AUTH', 'default', 3], [1, 'auth', 'toplevel', 'HELLO', 'default', 2], [1, 'auth', 'toplevel', 'AUTH', 'bob', 1], [2, 'auth', 'toplevel', 'auth', 'default', 0]]);
  for (const e of entries) {
    assert.deepEqual(Object.keys(Object.fromEntries(e)), ['count', 'reason', 'context', 'object', 'username', 'age-seconds', 'client-info', 'entry-id', 'timestamp-created', 'timestamp-last-updated']);
    const age = e.get('age-seconds') as Resp3;
    assert.equal(age.type, ',', 'a RESP3 double');
    assert.ok(Number(age.value) >= 0 && Number(age.value) < 10, `age ${age.value}`);
    const created = e.get('timestamp-created') as number;
    assert.ok(created >= before && created <= Date.now() && (e.get('timestamp-last-updated') as number) >= created);
    assert.match(String(e.get('client-info')), /^id=\d+ addr=127\.0\.0\.1:\d+ laddr=.* cmd=(auth|hello) .*lib-ver=$/, 'CLIENT INFO\'s line as it failed, no newline');
  }
  assert.match(String(entries[0]!.get('client-info')), / flags=x .*multi=0 .*cmd=auth /, 'inside MULTI: as AUTH was queued');
  assert.deepEqual((await logged(c, 2)).map((e) => e.get('entry-id')), [3, 2]);
  assert.deepEqual(await logged(c, 0), []);
  assert.deepEqual(await logged(c, -5), [], 'a negative count is 0');
  // Again: each groups with its own entry (within 60 s), which moves to the front; HELLO's last now.
  await fail(s.port);
  assert.deepEqual((await logged(c)).map((e) => [e.get('entry-id'), e.get('count')]), [[3, 2], [2, 2], [1, 2], [0, 4]]);
  // INFO stats counts every failure (Redis 7.2's acl_access_denied_auth), here 2 × 5; no other denial there can be.
  const denied = (): Promise<string[]> => c.call(['INFO', 'stats']).then((t) => [...String((t as Resp3).value ?? t).matchAll(/^acl_access_denied_(\w+):(\d+)\r$/gm)].map((m) => `${m[1]}=${m[2]}`));
  assert.deepEqual(await denied(), ['auth=10', 'cmd=0', 'key=0', 'channel=0']);
  // RESET inside MULTI runs at EXEC; the ids go on.
  assert.equal(await c.call(['MULTI']), 'OK');
  assert.equal(await c.call(['ACL', 'LOG', 'RESET']), 'QUEUED');
  const other = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await other.call(['HELLO', '3', 'AUTH', 'default', 's3cret']);
    assert.equal((await logged(other)).length, 4, 'not reset while queued');
  } finally {
    other.close();
  }
  assert.deepEqual(await c.call(['EXEC']), ['OK']);
  assert.deepEqual(await logged(c), []);
  assert.deepEqual(await denied(), ['auth=10', 'cmd=0', 'key=0', 'channel=0'], 'RESET leaves the count');
  await c.call(['AUTH', 'bad']);
  assert.deepEqual((await logged(c)).map((e) => e.get('entry-id')), [4]);
  // Without a count: the 10 newest.
  for (let i = 0; i < 11; i++) await c.call(['AUTH', `user${i}`, 'bad']);
  assert.deepEqual((await logged(c)).map((e) => e.get('username')), Array.from({ length: 10 }, (_, i) => `user${10 - i}`));
  assert.equal((await logged(c, 100)).length, 12);
  // RESP2: age-seconds is a bulk string.
  const r2 = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await r2.call(['AUTH', 's3cret']);
    const [flat] = (await r2.call(['ACL', 'LOG'])) as RespValue[][];
    assert.equal(flat![10], 'age-seconds');
    assert.match(String(flat![11]), /^\d+(\.\d+)?$/);
  } finally {
    r2.close();
  }
}));

test('ACL LOG compared with redis-server: the same entries, but for their times and client lines (and 7.2\'s three last fields)', { skip: onPath('redis-server') ? false : NO_REDIS }, async () => {
  const redis = await startRedisNoPersist();
  try {
    await withPassword(async (ours, s) => {
      const theirs = await SimpleConn.open('127.0.0.1', redis.port);
      try {
        await theirs.call(['CONFIG', 'SET', 'requirepass', 's3cret']);
        await theirs.call(['HELLO', '3', 'AUTH', 'default', 's3cret']);
        for (const port of [s.port, redis.port]) await fail(port);
        const shape = (entries: Array<Map<string, RespValue>>): unknown => entries.map((e) => ['count', 'reason', 'context', 'object', 'username'].map((f) => e.get(f)));
        assert.deepEqual(shape(await logged(ours)), shape(await logged(theirs)));
      } finally {
        theirs.close();
      }
    });
  } finally {
    await redis.stop();
  }
});

test('the ACL log groups a failure with a like one among its 10 newest within 60 s, and keeps 128 entries', () => {
  const log = new AclLog();
  const failure = (user: string, context: 'toplevel' | 'multi' = 'toplevel'): Parameters<AclLog['authFailed']>[0] => ({ context, object: Buffer.from('AUTH'), username: Buffer.from(user), clientInfo: `id=1 user=${user}` });
  log.authFailed(failure('a'), 0);
  log.authFailed(failure('a'), 60_000);
  assert.deepEqual(log.newest().map((e) => [e.username.toString(), e.count, e.createdAt, e.updatedAt]), [['a', 2, 0, 60_000]], '60 s apart: grouped');
  log.authFailed(failure('a'), 120_000);
  assert.deepEqual(log.newest().map((e) => [e.count, e.createdAt, e.updatedAt]), [[3, 0, 120_000]], '60 s after the last update, 120 s after the first: grouped');
  log.authFailed(failure('a'), 180_001);
  assert.deepEqual(log.newest().map((e) => [e.entryId, e.count]), [[1, 1], [0, 3]], '60.001 s after the last update: a new entry');
  log.authFailed(failure('a', 'multi'), 180_002);
  assert.equal(log.newest().length, 3, 'another context: another entry');
  for (let i = 0; i < 10; i++) log.authFailed(failure(`u${i}`), 180_003);
  // The entry of `a` at 180.001 s is now the 12th newest: not looked at, so a new one.
  log.authFailed(failure('a'), 180_004);
  assert.deepEqual([log.newest()[0]!.entryId, log.newest()[0]!.count], [13, 1]);
  // u1 is the 10th newest: grouped, and moved to the front with the client line of its last failure; u0, the 11th, not.
  log.authFailed({ ...failure('u1'), clientInfo: 'id=2' }, 180_005);
  assert.deepEqual([log.newest()[0]!.username.toString(), log.newest()[0]!.count, log.newest()[0]!.clientInfo], ['u1', 2, 'id=2']);
  log.authFailed(failure('u0'), 180_005);
  assert.deepEqual([log.newest()[0]!.username.toString(), log.newest()[0]!.count, log.newest()[0]!.entryId], ['u0', 1, 14]);
  for (let i = 0; i < 200; i++) log.authFailed(failure(`many${i}`), 190_000);
  assert.equal(log.newest().length, ACL_LOG_MAX_LEN);
  assert.equal(log.newest()[0]!.username.toString(), 'many199');
  assert.equal(log.newest(3).length, 3);
  log.reset();
  assert.deepEqual(log.newest(), []);
  log.authFailed(failure('z'), 200_000);
  assert.equal(log.newest()[0]!.entryId, 215, 'ids go on after RESET');
});

test('SLOWLOG redacts ACL SETUSER\'s user and rules; MONITOR is fed ACL WHOAMI, not ACL LIST', () => withMonitor(async (c, fed) => {
  await c.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
  await c.call(['ACL', 'SETUSER', 'bob', 'on', '>secret']);
  const [entry] = (await c.call(['SLOWLOG', 'GET', '1'])) as RespValue[][];
  assert.deepEqual(entry![3], ['ACL', 'SETUSER', '(redacted)', '(redacted)', '(redacted)']);
  await c.call(['ACL', 'LIST']);
  await c.call(['ACL', 'WHOAMI']);
  const fedLines = await fed();
  assert.doesNotMatch(fedLines, /"LIST"|secret/);
  assert.match(fedLines, /"ACL" "WHOAMI"/);
}));
