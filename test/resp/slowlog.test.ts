// SLOWLOG and its two CONFIG parameters: which commands are logged and how (their arguments cut as Redis cuts them,
// passwords redacted, the client's address and name, a transaction's commands as EXEC runs them and never EXEC),
// checked against what redis-server 7.0.15 logged for the same requests and compared with a running redis-server
// when one is installed. The times are the cluster's: only their shape is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyReader, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, clientAddress, encode, endsWith, raw, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

const LONG = 'x'.repeat(200);
const MANY = Array.from({ length: 40 }, (_, i) => String(i + 1));

/** What connection 0 (named bob) and connection 1 send in turn, every command logged at threshold 0. */
const STEPS: Array<[conn: number, args: string[]]> = [
  [0, ['CLIENT', 'SETNAME', 'bob']],
  [0, ['SET', 'a', '1']],
  [0, ['GET']], // refused before it ran: not logged
  [0, ['NOSUCH', 'x']], // unknown: not logged
  [0, ['MSET', ...MANY]],
  [0, ['SET', 'long', LONG]],
  [0, ['MULTI']],
  [0, ['SET', 'b', '2']],
  [0, ['INCR', 'long']],
  [0, ['EXEC']], // logs SET and INCR, not itself
  [0, ['WATCH', 'w']],
  [1, ['SET', 'w', 'x']],
  [0, ['MULTI']],
  [0, ['SET', 'q', '1']],
  [0, ['EXEC']], // aborted by the WATCH: SET q never ran
  [0, ['MULTI']],
  [0, ['GET']],
  [0, ['EXEC']], // EXECABORT
  [1, ['AUTH', 'secret']],
  [1, ['AUTH', 'user', 'secret']],
  [1, ['HELLO', '2', 'AUTH', 'default', 'secret', 'SETNAME', 'eve']],
  [1, ['CONFIG', 'SET', 'slowlog-max-len', '128']],
  [0, ['SLOWLOG', 'LEN']],
];

/** What redis-server 7.0.15 logged for STEPS, oldest first: each entry's arguments and client name (connection 1 is named by HELLO). */
const REDIS_LOG: Array<[args: string[], name: string]> = [
  [['CLIENT', 'SETNAME', 'bob'], 'bob'],
  [['SET', 'a', '1'], 'bob'],
  [['MSET', ...MANY.slice(0, 30), '... (10 more arguments)'], 'bob'],
  [['SET', 'long', `${'x'.repeat(128)}... (72 more bytes)`], 'bob'],
  [['MULTI'], 'bob'],
  [['SET', 'b', '2'], 'bob'],
  [['INCR', 'long'], 'bob'],
  [['WATCH', 'w'], 'bob'],
  [['SET', 'w', 'x'], ''],
  [['MULTI'], 'bob'],
  [['MULTI'], 'bob'],
  [['AUTH', '(redacted)'], ''],
  [['AUTH', '(redacted)', '(redacted)'], ''],
  [['HELLO', '2', 'AUTH', '(redacted)', '(redacted)', 'SETNAME', 'eve'], 'eve'],
  [['CONFIG', 'SET', 'slowlog-max-len', '128'], 'eve'],
  [['SLOWLOG', 'LEN'], 'bob'],
];

interface Logged {
  entries: Array<{ id: number; time: number; us: number; args: string[]; addr: string; name: string }>;
  addrs: string[];
}

/** STEPS with every command logged, then the whole log, oldest first, and each connection's address. */
async function logged(port: number): Promise<Logged> {
  const conns = [await SimpleConn.open('127.0.0.1', port), await SimpleConn.open('127.0.0.1', port)];
  try {
    const addrs: string[] = [];
    for (const c of conns) addrs.push(await clientAddress(c));
    await conns[0]!.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
    await conns[0]!.call(['SLOWLOG', 'RESET']);
    for (const [i, args] of STEPS) await conns[i]!.call(args);
    const log = (await conns[0]!.call(['SLOWLOG', 'GET', '-1'])) as RespValue[][];
    await conns[0]!.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']);
    const entries = log.reverse().map(([id, time, us, args, addr, name]) => ({
      id: Number(id), time: Number(time), us: Number(us), args: args as string[], addr: String(addr), name: String(name),
    }));
    return { entries, addrs };
  } finally {
    for (const c of conns) c.close();
  }
}

function check(got: Logged): void {
  const { entries, addrs } = got;
  // The log starts with SLOWLOG RESET itself (logged after it ran).
  assert.deepEqual(entries[0]!.args, ['SLOWLOG', 'RESET']);
  const rest = entries.slice(1);
  assert.deepEqual(rest.map((e) => [e.args, e.name]), REDIS_LOG);
  const ids = entries.map((e) => e.id);
  assert.deepEqual(ids, ids.map((_, i) => ids[0]! + i), 'ids are consecutive');
  for (const e of rest) {
    assert.equal(e.addr, addrs[e.name === 'bob' ? 0 : 1], 'the address of the client that sent it');
    assert.ok(Number.isSafeInteger(e.us) && e.us >= 0);
    assert.ok(Math.abs(e.time - Date.now() / 1000) < 60, 'unix seconds');
  }
}

test('SLOWLOG logs what Redis 7.0 logs: arguments cut, passwords redacted, the client, a transaction as EXEC runs it', async () => {
  const s = await serve();
  try {
    const got = await logged(s.port);
    check(got);
    // A SET is a cluster round: its time is real, not zero.
    const set = got.entries.find((e) => e.args[0] === 'SET' && e.args[1] === 'a')!;
    assert.ok(set.us > 0);
    // A transaction's commands are logged with its time: the one cluster write they are part of.
    const inExec = got.entries.filter((e) => e.args[1] === 'b' || e.args[0] === 'INCR');
    assert.equal(inExec[0]!.us, inExec[1]!.us);
  } finally {
    await s.stop();
  }
});

test('SLOWLOG keeps slowlog-max-len entries, logs none below slowlog-log-slower-than or when it is negative; RESET, LEN, GET count', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    assert.deepEqual(await c.call(['CONFIG', 'GET', 'slowlog*']), ['slowlog-log-slower-than', '10000', 'slowlog-max-len', '128']);
    await c.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '3']);
    for (let i = 0; i < 5; i++) await c.call(['SET', `k${i}`, 'v']);
    assert.equal(await c.call(['SLOWLOG', 'LEN']), 3);
    // Newest first; GET's count; LEN and the first GET are logged too (they ran).
    const two = (await c.call(['SLOWLOG', 'GET', '2'])) as RespValue[][];
    assert.deepEqual(two.map((e) => e[3]), [['SLOWLOG', 'LEN'], ['SET', 'k4', 'v']]);
    assert.deepEqual(((await c.call(['SLOWLOG', 'GET'])) as RespValue[][]).map((e) => e[3]), [['SLOWLOG', 'GET', '2'], ['SLOWLOG', 'LEN'], ['SET', 'k4', 'v']]);
    // A shorter log drops its oldest entries at once.
    await c.call(['CONFIG', 'SET', 'slowlog-max-len', '1']);
    assert.deepEqual(((await c.call(['SLOWLOG', 'GET', '-1'])) as RespValue[][]).map((e) => e[3]), [['CONFIG', 'SET', 'slowlog-max-len', '1']]);
    assert.equal(await c.call(['SLOWLOG', 'RESET']), 'OK');
    // A threshold no command reaches, and a negative one: nothing more is logged.
    await c.call(['SLOWLOG', 'RESET']);
    await c.call(['CONFIG', 'SET', 'slowlog-max-len', '10', 'slowlog-log-slower-than', '1000000000']);
    await c.call(['SET', 'x', '1']);
    await c.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '-1']);
    await c.call(['SET', 'y', '1']);
    assert.deepEqual(((await c.call(['SLOWLOG', 'GET'])) as RespValue[][]).map((e) => e[3]), [['SLOWLOG', 'RESET']]);
    // Ids go on after RESET, as on Redis.
    const [[id]] = (await c.call(['SLOWLOG', 'GET'])) as RespValue[][] as [[number]];
    assert.ok(id > 5);
    // The bound on slowlog-max-len (Redis takes any length; an entry keeps at most ~5 KiB).
    assert.deepEqual(await c.call(['CONFIG', 'SET', 'slowlog-max-len', '10001']),
      new RespError("ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be between 0 and 10000 inclusive"));
    assert.equal(await c.call(['CONFIG', 'SET', 'slowlog-max-len', '10000']), 'OK');
  } finally {
    c.close();
    await s.stop();
  }
});

test('CONFIG SET of the slowlog parameters, and CONFIG SET requirepass, never log a password', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
    assert.deepEqual(await c.call(['CONFIG', 'SET', 'requirepass', 'hunter2']),
      new RespError("ERR CONFIG SET failed (possibly related to argument 'requirepass') - can't set immutable config"));
    const [entry] = (await c.call(['SLOWLOG', 'GET', '1'])) as RespValue[][];
    assert.deepEqual(entry![3], ['CONFIG', 'SET', 'requirepass', '(redacted)']);
  } finally {
    c.close();
    await s.stop();
  }
});

/** In one pipeline: a threshold set after a SET holds from the next command, and SLOWLOG GET sees every command before it. */
async function pipelined(port: number): Promise<RespValue[]> {
  const r = await raw(port);
  try {
    const lines = ['SLOWLOG RESET', 'CONFIG SET slowlog-log-slower-than -1', 'SET p 1', 'SLOWLOG RESET', 'SET q 1', 'CONFIG SET slowlog-log-slower-than 0',
      'SET r 1', 'SLOWLOG GET -1', 'CONFIG SET slowlog-log-slower-than 10000', 'PING END'];
    r.socket.write(Buffer.concat(lines.map((l) => encode(...words(l)))));
    const reader = new ReplyReader();
    const got = reader.push(await r.until(endsWith('$3\r\nEND\r\n')));
    return ((got[7] as RespValue[][]).map((e) => e[3]!));
  } finally {
    r.end();
  }
}

const PIPELINED_LOG = [['SET', 'r', '1'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '0']];

test('in a pipeline, CONFIG SET of the threshold holds from the next command and SLOWLOG reads what ran before it', async () => {
  const s = await serve();
  try {
    assert.deepEqual(await pipelined(s.port), PIPELINED_LOG);
  } finally {
    await s.stop();
  }
});

/** Compared byte for byte (CONFIG GET by name: Redis lists a glob's matches in its hash table's random order). */
const ERRORS = [
  'CONFIG SET slowlog-max-len abc', 'CONFIG SET slowlog-log-slower-than -2', 'CONFIG SET slowlog-log-slower-than 1.5',
  'CONFIG SET slowlog-max-len 5 slowlog-max-len 6', 'CONFIG SET databases 1 nosuch 2', 'CONFIG SET nosuch 1 databases 2',
  'CONFIG SET slowlog-max-len 5 databases 1', 'CONFIG SET a b c', 'CONFIG SET NOTIFY-KEYSPACE-EVENTS xyz',
  'CONFIG SET SLOWLOG-MAX-LEN 0x1', 'CONFIG GET slowlog-max-len', 'SLOWLOG GET -2', 'SLOWLOG GET x', 'SLOWLOG GET 1 2', 'SLOWLOG LEN x',
  'SLOWLOG RESET x', 'SLOWLOG FOO', 'SLOWLOG', 'SLOWLOG HELP', 'SLOWLOG HELP x', 'CONFIG GET slowlog-log-slower-than', 'CONFIG GET SLOWLOG-MAX-LEN',
];

test('SLOWLOG and CONFIG SET answer as redis-server 7.0 does, and log the same', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    await sameAsRedis(redis, served, { name: 'slowlog and CONFIG SET errors', conns: 1, steps: ERRORS.map((l) => [0, [words(l)]]) });
    const theirs = await logged(redis.port);
    const ours = await logged(served.port);
    assert.deepEqual(ours.entries.map((e) => [e.args, e.name]), theirs.entries.map((e) => [e.args, e.name]));
    check(theirs); // REDIS_LOG is what this Redis logs
    assert.deepEqual(await pipelined(redis.port), PIPELINED_LOG);
  });
});
