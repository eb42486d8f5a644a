// Bounds and hostile input at a live server: AUTH, maxclients, the largest bulk, protocol errors (a reply, then the
// connection closed), a client that does not read (the server stops reading it), garbage from many connections
// (the server survives and serves the next good client), QUIT and RESET.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { RespServer } from '../../src/resp/index.js';
import { encode, endsWith, raw, serve, type Served } from './helpers.js';

let s: Served;

before(async () => {
  s = await serve({ nodes: 1, storage: 'memory' }, { requirepass: 's3cret', maxClients: 3, maxBulkBytes: 32 * 1024, outputHighWaterBytes: 256 * 1024, maxQueuedCommands: 64 });
});

after(async () => {
  await s.stop();
});

/** Until the connections of the tests before are gone (a client's close reaches the server a little later). */
async function noClients(): Promise<void> {
  for (let i = 0; i < 200 && s.server.clientCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
}

/** A raw connection that has authenticated. */
async function authed(): Promise<Awaited<ReturnType<typeof raw>>> {
  await noClients();
  const c = await raw(s.port);
  c.socket.write(encode('AUTH', 's3cret'));
  await c.until(endsWith('+OK\r\n'));
  return c;
}

test('requirepass: NOAUTH before AUTH, WRONGPASS for a bad password, AUTH and HELLO AUTH accepted', async () => {
  const c = await raw(s.port);
  try {
    c.socket.write(Buffer.concat([encode('GET'), encode('GET', 'k'), encode('EXEC'), encode('AUTH', 'nope'), encode('AUTH', 'other', 's3cret'), encode('HELLO', '3'), encode('AUTH', 's3cret'), encode('PING')]));
    const got = (await c.until(endsWith('+PONG\r\n'))).toString();
    assert.equal(got.split('\r\n').slice(0, 6).join('\n'), [
      "-ERR wrong number of arguments for 'get' command", // arity before AUTH, as Redis checks them
      '-NOAUTH Authentication required.',
      '-EXECABORT Transaction discarded because of: NOAUTH Authentication required.', // EXEC refused: Redis's rejectCommand
      '-WRONGPASS invalid username-password pair or user is disabled.',
      '-WRONGPASS invalid username-password pair or user is disabled.',
      '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    ].join('\n'));
    assert.ok(got.endsWith('+OK\r\n+PONG\r\n'));
  } finally {
    c.end();
  }
  const r = new Redis({ port: s.port, password: 's3cret', lazyConnect: true, retryStrategy: () => null });
  try {
    await r.connect();
    assert.equal(await r.set('auth:k', 'v'), 'OK');
    assert.equal(await r.get('auth:k'), 'v');
    const h = await raw(s.port);
    h.socket.write(encode('HELLO', '2', 'AUTH', 'default', 's3cret', 'SETNAME', 'h'));
    assert.match((await h.until(endsWith('modules\r\n*0\r\n'))).toString(), /^\*14\r\n\$6\r\nserver\r\n/);
    h.end();
  } finally {
    r.disconnect();
  }
});

test("before AUTH, Redis's smaller bounds: over 10 arguments or a bulk over 16 KiB is a protocol error and the connection closes; AUTH in the same write lifts them for what follows", async () => {
  for (const [bad, err] of [
    [Buffer.from('*11\r\n'), 'unauthenticated multibulk length'],
    [Buffer.from('*2\r\n$4\r\nECHO\r\n$16385\r\n'), 'unauthenticated bulk length'],
  ] as const) {
    await noClients();
    const c = await raw(s.port);
    c.socket.write(Buffer.concat([encode('PING'), bad]));
    await c.closed;
    assert.equal(c.received().toString(), `-NOAUTH Authentication required.\r\n-ERR Protocol error: ${err}\r\n`);
  }
  await noClients();
  const c = await raw(s.port);
  try {
    const value = 'v'.repeat(20_000);
    c.socket.write(Buffer.concat([encode('AUTH', 's3cret'), encode('SET', 'preauth', value), encode('MSET', ...Array.from({ length: 12 }, (_, i) => `pa${i % 6}`)), encode('STRLEN', 'preauth')]));
    assert.equal((await c.until(endsWith(':20000\r\n'))).toString(), '+OK\r\n+OK\r\n+OK\r\n:20000\r\n');
  } finally {
    c.end();
  }
});

test('maxclients: one connection over the bound is told so and closed; a place freed is taken again', async () => {
  await noClients();
  const open = [await raw(s.port), await raw(s.port), await raw(s.port)];
  try {
    const extra = await raw(s.port);
    await extra.closed;
    assert.equal(extra.received().toString(), '-ERR max number of clients reached\r\n');
    assert.ok(s.server.stats.rejectedConnections >= 1);
    open.pop()!.end();
    for (let i = 0; i < 200 && s.server.clientCount > 2; i++) await new Promise((r) => setTimeout(r, 10));
    const again = await raw(s.port);
    open.push(again);
    again.socket.write(encode('AUTH', 's3cret'));
    await again.until(endsWith('+OK\r\n'));
  } finally {
    for (const c of open) c.end();
  }
});

test('a bulk string over proto-max-bulk-len: the commands before it answered, then a protocol error, then closed', async () => {
  const c = await authed();
  c.socket.write(Buffer.concat([encode('PING'), Buffer.from('*2\r\n$3\r\nGET\r\n$32769\r\n')]));
  await c.closed;
  assert.equal(c.received().toString(), '+OK\r\n+PONG\r\n-ERR Protocol error: invalid bulk length\r\n');
});

test('malformed protocol: an -ERR Protocol error reply and the connection closed', async () => {
  for (const [bad, err] of [
    ['*x\r\n', 'invalid multibulk length'],
    ['*1\r\n:1\r\n', "expected '$', got ':'"],
    ['*1\r\n$3\r\nGETXX', 'bulk string not terminated by CRLF'],
    ['SET "a\r\n', 'unbalanced quotes in request'],
  ] as const) {
    const c = await authed();
    c.socket.write(bad);
    await c.closed;
    assert.equal(c.received().toString(), `+OK\r\n-ERR Protocol error: ${err}\r\n`);
  }
});

test('a client that does not read: the server stops reading it (bounded output), then serves everything in order', async () => {
  const value = randomBytes(16 * 1024);
  const r = new Redis({ port: s.port, password: 's3cret', lazyConnect: true, retryStrategy: () => null });
  try {
    await r.connect();
    await r.set('big', value);
  } finally {
    r.disconnect();
  }
  const c = await authed();
  try {
  c.socket.pause(); // read nothing
  const n = 4000;
  const one = encode('GET', 'big');
  const inputBefore = s.server.stats.netInputBytes;
  const outputBefore = s.server.stats.netOutputBytes;
  c.socket.write(Buffer.concat(Array.from({ length: n }, () => one)));
  await new Promise((res) => setTimeout(res, 500));
  const sentOut = s.server.stats.netOutputBytes - outputBefore;
  const readIn = s.server.stats.netInputBytes - inputBefore;
  assert.ok(sentOut < 24 * 1024 * 1024, `the server wrote ${sentOut} bytes to a client that reads nothing (${n * value.length} asked)`);
  assert.ok(readIn < n * one.length, `the server stopped reading: ${readIn} of ${n * one.length} bytes read`);
  // Now read: every reply arrives, in order, intact.
  const header = Buffer.from(`$${value.length}\r\n`);
  const replyBytes = header.length + value.length + 2;
  c.socket.resume();
  const got = await c.untilBytes(5 + n * replyBytes, 20_000); // 5: "+OK\r\n" of AUTH
  for (const i of [0, 1, n >> 1, n - 1]) {
    const at = 5 + i * replyBytes;
    assert.ok(got.subarray(at, at + header.length).equals(header));
    assert.ok(got.subarray(at + header.length, at + header.length + value.length).equals(value));
  }
  } finally {
    c.end();
  }
});

test('garbage and mutated streams from many connections: the server survives and answers the next good client', async () => {
  const valid = Buffer.concat([encode('AUTH', 's3cret'), encode('SET', 'fz', 'v'), encode('GET', 'fz'), encode('MULTI'), encode('INCR', 'fz:n'), encode('PUBLISH', 'fz', 'm'), encode('EXEC'), encode('HELLO', '3'), encode('SUBSCRIBE', 'fz', 'gz'), encode('PSUBSCRIBE', 'f*'), encode('PUBLISH', 'fz', 'n'), Buffer.from('PING\r\n')]);
  const streams = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
      fc.array(fc.tuple(fc.nat(valid.length), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }).map((muts) => {
        const b = Buffer.from(valid);
        for (const [i, v] of muts) if (i < b.length) b[i] = v;
        return b;
      }),
    ),
    { numRuns: 60, seed: 7 },
  );
  for (let i = 0; i < streams.length; i += 3) {
    const batch = streams.slice(i, i + 3);
    await Promise.all(batch.map(async (bytes) => {
      const c = await raw(s.port);
      // Cut anywhere: the server must cope with any chunking.
      const cut = bytes.length >> 1;
      c.socket.write(bytes.subarray(0, cut));
      c.socket.write(bytes.subarray(cut));
      await Promise.race([c.closed, new Promise((res) => setTimeout(res, 100))]);
      c.end();
    }));
  }
  await noClients();
  const r = new Redis({ port: s.port, password: 's3cret', lazyConnect: true, retryStrategy: () => null });
  try {
    await r.connect();
    assert.equal(await r.set('after-fuzz', 'ok'), 'OK');
    assert.equal(await r.get('after-fuzz'), 'ok');
    // Every connection is gone, and its subscriptions with it.
    assert.match(String(await r.info('stats')), /pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n/);
  } finally {
    r.disconnect();
  }
});

test('QUIT: +OK, then the connection is closed and nothing after it runs; RESET: a fresh state', async () => {
  const c = await authed();
  c.socket.write(Buffer.concat([encode('SELECT', '0'), encode('QUIT'), encode('SET', 'after-quit', 'x')]));
  await c.closed;
  assert.equal(c.received().toString(), '+OK\r\n+OK\r\n+OK\r\n');
  const r = await authed();
  try {
    r.socket.write(Buffer.concat([encode('MULTI'), encode('RESET'), encode('GET', 'x')]));
    await r.until(endsWith('-NOAUTH Authentication required.\r\n'));
    assert.equal(r.received().toString(), '+OK\r\n+OK\r\n+RESET\r\n-NOAUTH Authentication required.\r\n');
  } finally {
    r.end();
  }
});

test('options are checked: an unknown option or a bad value is refused', async () => {
  await assert.rejects(RespServer.start(s.cluster, { port: 0, nope: 1 } as never), /unknown RESP server option nope/);
  await assert.rejects(RespServer.start(s.cluster, { port: 0, maxClients: 0 }), /maxClients must be an integer/);
  // A value String() cannot show (an object without toString) is refused as any other, not a TypeError.
  for (const name of ['port', 'maxClients', 'maxBulkBytes']) {
    await assert.rejects(RespServer.start(s.cluster, { port: 0, [name]: Object.create(null) }), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT && /must be an integer in .*got object/.test(e.message), name);
  }
  const json = await Cluster.start({ nodes: 1, storage: 'memory', codec: 'json' });
  try {
    await assert.rejects(RespServer.start(json as unknown as Cluster, { port: 0 }), /needs a cluster with the 'raw' codec/);
  } finally {
    await json.stop();
  }
});

test('one command or transaction of more than maxBatchOps operations is refused alone, in its place; the commands around it run', async () => {
  const own = await serve({ nodes: 1, storage: 'memory', maxBatchOps: 4 });
  const c = await raw(own.port);
  try {
    const tooMany = "-ERR INVALID_ARGUMENT this command is 5 operations; one command or transaction is one batch of at most maxBatchOps (4): threadraft serve --max-batch-ops raises it\r\n";
    c.socket.write(Buffer.concat([
      encode('SET', 'a', '1'), encode('MSET', 'k1', '1', 'k2', '2', 'k3', '3', 'k4', '4', 'k5', '5'), encode('SET', 'b', '2'), encode('DEL', 'k1', 'k2', 'k3', 'k4'),
      encode('MULTI'), encode('SET', 'x', '1'), encode('MSET', 'y1', '1', 'y2', '2', 'y3', '3', 'y4', '4'), encode('EXEC'),
      encode('MGET', 'a', 'b', 'k1', 'x', 'y1', 'k1', 'k2'),
    ]));
    const got = (await c.until(endsWith('*7\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n'))).toString('latin1');
    assert.equal(got, `+OK\r\n${tooMany}+OK\r\n:0\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n${tooMany}*7\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n`);
  } finally {
    c.end();
    await own.stop();
  }
});

test('under --max-bytes, RENAME or COPY to a key too long for its record is VALUE_TOO_LARGE, nothing written, no key evicted', async () => {
  const s = await serve({ maxBytes: 100 });
  const r = new Redis({ port: s.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.set('k', 'v');
    await r.set('a', 'x'.repeat(96));
    for (const call of [r.rename('a', 'abcdef'), r.copy('a', 'abcdef')]) {
      await assert.rejects(call, (e: Error) => /^ERR VALUE_TOO_LARGE string exceeds maximum allowed size/.test(e.message));
    }
    assert.deepEqual(await r.mget('k', 'abcdef'), ['v', null]);
    assert.equal((await r.get('a'))?.length, 96);
    assert.equal(await r.rename('a', 'abc'), 'OK', 'a key that fits');
  } finally {
    r.disconnect();
    await s.stop();
  }
});
