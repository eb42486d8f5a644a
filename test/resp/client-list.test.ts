// CLIENT LIST and CLIENT INFO (src/resp/commands/connection.ts clientLine): Redis 7.4's fields in its order, and what
// each measures here: the input not yet run (qbuf), the arguments of the command running (argv-mem), MULTI's queue
// (multi=, multi-mem), the flags. The same steps run against redis-server 7.0 when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn } from '../../bench/resp-proto.js';
import { onPath, startRedisNoPersist } from '../../bench/resp-targets.js';
import { encode, infoFields, raw, serve, NO_REDIS } from './helpers.js';

/** Redis 7.4's fields of a CLIENT LIST line, in its order (networking.c catClientInfoString). */
const REDIS_74_FIELDS = ['id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'watch', 'qbuf',
  'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'redir', 'resp', 'lib-name', 'lib-ver'];

function fields(line: string): Map<string, string> {
  return new Map(line.trim().split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
  }));
}

/** The line of the connection named `name` in CLIENT LIST. */
async function lineOf(c: SimpleConn, name: string): Promise<Map<string, string>> {
  const line = String(await c.call(['CLIENT', 'LIST'])).split('\n').find((l) => l.includes(` name=${name} `));
  assert.ok(line !== undefined, `no connection named ${name}`);
  return fields(line);
}

function pick(f: Map<string, string>, names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, f.get(n)]));
}

/**
 * The steps, on a server at `port`: each step's fields of interest. `qbuf` is left out of the pipelined step: Redis
 * counts its whole read there, the commands already run included (54 bytes), threadraft those not yet run (40).
 */
async function steps(port: number): Promise<Array<Record<string, string | undefined>>> {
  const c = await SimpleConn.open('127.0.0.1', port);
  const a = await SimpleConn.open('127.0.0.1', port);
  const r = await raw(port);
  const out: Array<Record<string, string | undefined>> = [];
  const INPUT = ['qbuf', 'argv-mem', 'multi-mem', 'omem', 'events'];
  try {
    // The connection's own line: its CLIENT INFO (26 bytes) is the query buffer, its 10 bytes of arguments argv-mem.
    out.push(pick(fields(String(await c.call(['CLIENT', 'INFO']))), ['flags', 'multi', ...INPUT, 'tot-mem', 'cmd']));
    // Pipelined: the PING before it was run (not argv-mem any more), the PING after it is still to run.
    r.socket.write(Buffer.concat([encode('PING'), encode('CLIENT', 'INFO'), encode('PING')]));
    const piped = (await r.until((b) => /PONG\r\n[^]*PONG\r\n/.test(b.toString('latin1')))).toString('latin1');
    out.push(pick(fields(/id=[^\r\n]*/.exec(piped)![0]), ['argv-mem', 'multi-mem', 'events']));
    // A request in part: its parsed arguments are argv-mem, the rest of it qbuf.
    r.socket.write(Buffer.concat([encode('CLIENT', 'SETNAME', 'r'), Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nab')]));
    await r.until((b) => b.toString('latin1').endsWith('+OK\r\n'));
    for (let i = 0; i < 100 && (await lineOf(c, 'r')).get('argv-mem') !== '3'; i++) await new Promise((res) => setTimeout(res, 10));
    out.push(pick(await lineOf(c, 'r'), ['qbuf', 'argv-mem', 'cmd']));
    // MULTI's queue: 3 + 1 + 8 bytes and 3 arguments, then 3 + 1 bytes and 2 arguments: 12 + 24 + 4 + 16.
    assert.equal(await a.call(['CLIENT', 'SETNAME', 'a']), 'OK');
    assert.equal(await a.call(['MULTI']), 'OK');
    assert.equal(await a.call(['SET', 'a', 'bbbbbbbb']), 'QUEUED');
    assert.equal(await a.call(['GET', 'a']), 'QUEUED');
    out.push(pick(await lineOf(c, 'a'), ['flags', 'multi', ...INPUT, 'cmd']));
    // A command refused while queueing dooms the transaction: nothing more is kept.
    assert.match((await a.call(['GET']) as RespError).message, /wrong number of arguments/);
    assert.equal(await a.call(['SET', 'c', 'd']), 'QUEUED');
    out.push(pick(await lineOf(c, 'a'), ['flags', 'multi', 'multi-mem']));
    assert.match((await a.call(['EXEC']) as RespError).message, /^EXECABORT/);
    // A write to a watched key was sent: flag d, and MULTI keeps nothing (EXEC will answer nil).
    assert.equal(await a.call(['WATCH', 'w']), 'OK');
    out.push(pick(await lineOf(c, 'a'), ['flags', 'watch']));
    assert.equal(await c.call(['SET', 'w', '1']), 'OK');
    assert.equal(await a.call(['MULTI']), 'OK');
    assert.equal(await a.call(['SET', 'a', 'bbbbbbbb']), 'QUEUED');
    out.push(pick(await lineOf(c, 'a'), ['flags', 'multi', 'multi-mem', 'tot-mem']));
    assert.equal(await a.call(['EXEC']), null);
    // CLIENT NO-EVICT: flag e; RESET clears it (Redis 7.2's RESET; 7.0's keeps it).
    assert.equal(await a.call(['CLIENT', 'NO-EVICT', 'on']), 'OK');
    out.push(pick(await lineOf(c, 'a'), ['flags']));
    assert.equal(await a.call(['CLIENT', 'NO-EVICT', 'off']), 'OK');
    out.push(pick(await lineOf(c, 'a'), ['flags']));
    assert.equal(await a.call(['CLIENT', 'NO-EVICT', 'on']), 'OK');
    assert.equal(await a.call(['RESET']), 'RESET');
    assert.equal(await a.call(['CLIENT', 'SETNAME', 'a']), 'OK');
    out.push(pick(await lineOf(c, 'a'), ['flags']));
    return out;
  } finally {
    r.socket.destroy();
    a.close();
    c.close();
  }
}

test('INFO: the largest input and output buffers of the connections, and their memory summed (mem_clients_normal)', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const r = await raw(s.port);
  try {
    // 4,000 bytes of a 5,000-byte value still to come: the parser holds them.
    r.socket.write(Buffer.concat([encode('CLIENT', 'SETNAME', 'big'), Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n${'x'.repeat(4000)}`)]));
    await r.until((b) => b.toString('latin1').endsWith('+OK\r\n'));
    let held = await lineOf(c, 'big');
    for (let i = 0; i < 100 && Number(held.get('qbuf')) < 4000; i++) {
      await new Promise((res) => setTimeout(res, 10));
      held = await lineOf(c, 'big');
    }
    assert.equal(held.get('qbuf'), '4000');
    assert.equal(held.get('argv-mem'), '4', 'SET and k, parsed');
    const fields = await infoFields(c, 'everything');
    assert.equal(fields.get('client_recent_max_input_buffer'), '4000');
    assert.equal(fields.get('client_recent_max_output_buffer'), '0');
    assert.ok(Number(fields.get('mem_clients_normal')) >= 4004, `mem_clients_normal ${fields.get('mem_clients_normal')}`);
    // The rest of it: the SET runs, and nothing is held any more.
    r.socket.write(`${'x'.repeat(1000)}\r\n`);
    await r.until((b) => b.toString('latin1').endsWith('+OK\r\n+OK\r\n'));
    assert.equal((await infoFields(c, 'everything')).get('client_recent_max_input_buffer'), '0', 'the INFO itself was dispatched before it read the cluster');
  } finally {
    r.socket.destroy();
    c.close();
    await s.stop();
  }
});

/** What Redis 7.0.15 gave for steps() (redis-server --save '' --appendonly no), where it is the same here. */
const EXPECTED: Array<Record<string, string | undefined>> = [
  { flags: 'N', multi: '-1', qbuf: '26', 'argv-mem': '10', 'multi-mem': '0', omem: '0', events: 'r', 'tot-mem': undefined, cmd: 'client|info' },
  { 'argv-mem': '10', 'multi-mem': '0', events: 'r' },
  { qbuf: '2', 'argv-mem': '3', cmd: 'client|setname' },
  { flags: 'x', multi: '2', qbuf: '0', 'argv-mem': '0', 'multi-mem': '56', omem: '0', events: 'r', cmd: 'get' },
  { flags: 'x', multi: '2', 'multi-mem': '56' },
  { flags: 'N', watch: undefined },
  { flags: 'xd', multi: '0', 'multi-mem': '0', 'tot-mem': undefined },
  { flags: 'e' },
  { flags: 'N' },
  { flags: 'N' },
];

test('CLIENT LIST and INFO: Redis 7.4\'s fields in its order; the input, MULTI\'s queue and the flags as Redis counts them', async () => {
  const s = await serve();
  try {
    const c = await SimpleConn.open('127.0.0.1', s.port);
    try {
      assert.deepEqual([...fields(String(await c.call(['CLIENT', 'INFO']))).keys()], REDIS_74_FIELDS);
      // READONLY (lease reads here; Redis's needs cluster mode) and NO-TOUCH (Redis 7.2): flags r, e, T in Redis's order.
      await c.call(['CLIENT', 'NO-EVICT', 'on']);
      await c.call(['CLIENT', 'NO-TOUCH', 'on']);
      await c.call(['READONLY']);
      assert.equal(fields(String(await c.call(['CLIENT', 'INFO']))).get('flags'), 'reT');
      await c.call(['RESET']); // ends all three (READWRITE's lease reads too), as Redis 7.2's RESET
      assert.equal(fields(String(await c.call(['CLIENT', 'INFO']))).get('flags'), 'N');
    } finally {
      c.close();
    }
    const got = await steps(s.port);
    // Redis 7.0's line has no watch= (7.4), and its tot-mem counts its own buffers; here tot-mem is the sum of qbuf,
    // argv-mem, multi-mem and omem.
    const ours = EXPECTED.map((e) => ({ ...e }));
    ours[0]!['tot-mem'] = '36';
    ours[5]!.watch = '1';
    ours[6]!['tot-mem'] = '0';
    assert.deepEqual(got, ours);
  } finally {
    await s.stop();
  }
});

test('CLIENT LIST: the same steps on redis-server 7.0 give the same fields', { skip: onPath('redis-server') ? false : NO_REDIS }, async () => {
  const redis = await startRedisNoPersist();
  try {
    const got = await steps(redis.port);
    // Fields Redis 7.0 does not have (watch=) come back undefined, as EXPECTED has them; its tot-mem is its own.
    got[0]!['tot-mem'] = undefined;
    got[6]!['tot-mem'] = undefined;
    // RESET keeps NO-EVICT on Redis 7.0; 7.2 clears it (with NO-TOUCH, which 7.0 lacks), as threadraft does.
    assert.deepEqual(got, [...EXPECTED.slice(0, -1), { flags: 'e' }]);
  } finally {
    await redis.stop();
  }
});

test('CLIENT LIST idle: the seconds since the connection last sent or was sent bytes (a reply written late counts)', async () => {
  const s = await serve({ nodes: 3, storage: 'memory' });
  const a = await SimpleConn.open('127.0.0.1', s.port);
  const b = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await a.call(['CLIENT', 'SETNAME', 'sleeper']);
    // Dispatched 1.1 s before its reply: idle counts from the reply, as Redis's lastinteraction.
    await a.call(['DEBUG', 'SLEEP', '1.1']);
    assert.equal((await lineOf(b, 'sleeper')).get('idle'), '0');
    await new Promise((r) => setTimeout(r, 1100));
    assert.ok(Number((await lineOf(b, 'sleeper')).get('idle')) >= 1);
  } finally {
    a.close();
    b.close();
    await s.stop();
  }
});
