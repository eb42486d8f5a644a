// A WAIT blocks its connection as Redis's does (flag b in CLIENT LIST, INFO's blocked_clients) and CLIENT UNBLOCK
// ends it (TIMEOUT: its count then; ERROR: Redis's UNBLOCKED error), checked against what redis-server 7.0.15 answers
// and compared with a running redis-server when one is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyReader, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, clientAddress, encode, endsWith, raw, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

/** CLIENT UNBLOCK's refusals, and what redis-server 7.0.15 answers (no client blocked). */
const ERRORS: Array<[string, RespValue]> = [
  ['CLIENT UNBLOCK 999999', 0],
  ['CLIENT UNBLOCK x', new RespError('ERR value is not an integer or out of range')],
  ['CLIENT UNBLOCK 1 foo', new RespError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR')],
  ['CLIENT UNBLOCK x foo', new RespError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR')],
  ['CLIENT UNBLOCK 1 timeout x', new RespError("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")],
  ['CLIENT UNBLOCK', new RespError("ERR wrong number of arguments for 'client|unblock' command")],
];

/** The CLIENT LIST line of the connection from `addr` once it matches `until` (at most 5 s). */
async function clientLine(c: SimpleConn, addr: string, until: RegExp): Promise<string> {
  let line = '';
  for (let i = 0; i < 250 && !until.test(line); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    line = String(await c.call(['CLIENT', 'LIST'])).split('\n').find((l) => l.includes(`addr=${addr} `)) ?? '';
  }
  assert.match(line, until);
  return line;
}

/**
 * A WAIT for more replicas than there are, on its own connection, ended by CLIENT UNBLOCK with `how` from another:
 * what CLIENT LIST and INFO said while it waited, what CLIENT UNBLOCK answered (twice), and WAIT's reply.
 */
async function unblocked(port: number, how: string[]): Promise<{ flags: string; blocked: string; answers: RespValue[]; reply: string }> {
  const c = await SimpleConn.open('127.0.0.1', port);
  const w = await raw(port);
  const u = await raw(port);
  try {
    const addr = await clientAddress(w);
    const before = w.received().length;
    w.socket.write(encode('WAIT', '5', '0'));
    const line = await clientLine(c, addr, / cmd=wait /);
    const id = /^id=(\d+) /.exec(line)![1]!;
    const flags = / flags=(\w+) /.exec(line)![1]!;
    const blocked = /^blocked_clients:(\d+)\r$/m.exec(String(await c.call(['INFO', 'clients'])))![1]!;
    // Twice in one pipeline: the second finds it unblocked already (0), though its reply may not be written yet.
    u.socket.write(Buffer.concat([encode('CLIENT', 'UNBLOCK', id, ...how), encode('CLIENT', 'UNBLOCK', id, ...how)]));
    const answers = new ReplyReader().push(await u.until((b) => b.toString('latin1').split('\r\n').length === 3));
    const reply = (await w.until((b) => b.length > before && endsWith('\r\n')(b))).subarray(before).toString('latin1');
    return { flags, blocked, answers, reply };
  } finally {
    u.end();
    w.end();
    c.close();
  }
}

test('a WAIT blocks its connection; CLIENT UNBLOCK answers it with its count so far (TIMEOUT) or the UNBLOCKED error', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['SET', 'k', 'v']);
    // 3 nodes: 2 besides the leader hold every write, never 5.
    assert.deepEqual(await unblocked(s.port, []), { flags: 'b', blocked: '1', answers: [1, 0], reply: ':2\r\n' });
    assert.deepEqual(await unblocked(s.port, ['TIMEOUT']), { flags: 'b', blocked: '1', answers: [1, 0], reply: ':2\r\n' });
    assert.deepEqual(await unblocked(s.port, ['error']), { flags: 'b', blocked: '1', answers: [1, 0], reply: '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n' });
    assert.match(String(await c.call(['INFO', 'clients'])), /^blocked_clients:0\r$/m);
    for (const [l, want] of ERRORS) assert.deepEqual(await c.call(words(l)), want, l);
  } finally {
    c.close();
    await s.stop();
  }
});

test('a connection held by CLIENT PAUSE (WRITE) is not unblocked: CLIENT UNBLOCK answers 0 and it runs once the pause ends', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const h = await raw(s.port);
  try {
    const addr = await clientAddress(h);
    const before = h.received().length;
    assert.equal(await c.call(['CLIENT', 'PAUSE', '400', 'WRITE']), 'OK');
    h.socket.write(encode('SET', 'held', '1'));
    const line = await clientLine(c, addr, / flags=b /);
    assert.equal(await c.call(['CLIENT', 'UNBLOCK', /^id=(\d+) /.exec(line)![1]!]), 0);
    assert.equal(h.received().length, before, 'still held');
    assert.equal((await h.until((b) => b.length > before)).subarray(before).toString(), '+OK\r\n');
  } finally {
    h.end();
    c.close();
    await s.stop();
  }
});

test('CLIENT UNBLOCK of a WAIT answers as redis-server 7.0 does', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    // No replicas: Redis's count is 0.
    assert.deepEqual(await unblocked(redis.port, []), { flags: 'b', blocked: '1', answers: [1, 0], reply: ':0\r\n' });
    assert.deepEqual(await unblocked(redis.port, ['error']), { flags: 'b', blocked: '1', answers: [1, 0], reply: '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n' });
    await sameAsRedis(redis, served, { name: 'CLIENT UNBLOCK errors', conns: 1, steps: ERRORS.map(([l]) => [0, [words(l)]]) });
  });
});
