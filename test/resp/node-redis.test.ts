// The RESP server through node-redis (its default RESP3 after HELLO 3, and RESP2), against a 3-node memory cluster:
// commands, auto-pipelining, MULTI/EXEC, WATCH conflicts (WatchError), HELLO's map, RESP3 types.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, WatchError } from 'redis';
import { serve, type Served } from './helpers.js';

let s: Served;

function make(RESP: 2 | 3) {
  return createClient({ socket: { port: s.port, host: '127.0.0.1', reconnectStrategy: false }, RESP, name: `node-redis-${RESP}` });
}
type Client = ReturnType<typeof make>;
let c3: Client;
let c2: Client;

async function client(RESP: 2 | 3): Promise<Client> {
  const c = make(RESP);
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

before(async () => {
  s = await serve({ storage: 'memory' });
  c3 = await client(3);
  c2 = await client(2);
});

after(async () => {
  c3.destroy();
  c2.destroy();
  await s.stop();
});

test('HELLO 3 at connect: the handshake (HELLO with SETNAME, CLIENT SETINFO) is accepted and the connection speaks RESP3', async () => {
  const info = await c3.clientInfo();
  assert.equal(info.name, 'node-redis-3');
  assert.match(await c3.sendCommand(['CLIENT', 'INFO']) as string, /resp=3 lib-name=node-redis lib-ver=\d/);
  assert.match(await c2.sendCommand(['CLIENT', 'INFO']) as string, /name=node-redis-2 .*resp=2/);
  const hello = await c3.sendCommand(['HELLO', '3']) as unknown as Record<string, unknown> | unknown[];
  const asMap = hello instanceof Map ? Object.fromEntries(hello) : Array.isArray(hello) ? Object.fromEntries(pairs(hello)) : hello;
  assert.equal(asMap.server, 'redis');
  assert.equal(asMap.proto, 3);
  assert.equal(asMap.mode, 'standalone');
});

function pairs(a: unknown[]): Array<[unknown, unknown]> {
  const out: Array<[unknown, unknown]> = [];
  for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out;
}

for (const proto of [3, 2] as const) {
  const c = (): Client => (proto === 3 ? c3 : c2);
  const k = (name: string): string => `r${proto}:${name}`;

  test(`RESP${proto}: strings, counters, expiry, nulls`, async () => {
    assert.equal(await c().set(k('a'), 'v'), 'OK');
    assert.equal(await c().get(k('a')), 'v');
    assert.equal(await c().get(k('none')), null);
    assert.equal(await c().set(k('a'), 'w', { condition: 'NX' }), null);
    assert.equal(await c().set(k('a'), 'w', { GET: true }), 'v');
    assert.deepEqual(await c().mGet([k('a'), k('none')]), ['w', null]);
    assert.equal(await c().incrBy(k('n'), 5), 5);
    await c().set(k('n2'), '41');
    assert.equal(await c().incr(k('n2')), 42);
    assert.equal(await c().append(k('a'), 'xyz'), 4);
    assert.equal(await c().expire(k('a'), 100), 1);
    assert.ok((await c().ttl(k('a'))) > 90);
    assert.equal(await c().exists([k('a'), k('none')]), 1);
    assert.equal(await c().type(k('a')), 'string');
    assert.equal(await c().getDel(k('a')), 'wxyz');
    assert.equal(await c().del([k('n'), k('n2')]), 2);
  });

  test(`RESP${proto}: concurrent commands are auto-pipelined and answered in order`, async () => {
    const writes = Array.from({ length: 300 }, (_, i) => c().set(k(`p${i}`), String(i)));
    const reads = Array.from({ length: 300 }, (_, i) => c().get(k(`p${i}`)));
    assert.ok((await Promise.all(writes)).every((r) => r === 'OK'));
    assert.deepEqual(await Promise.all(reads), Array.from({ length: 300 }, (_, i) => String(i)));
  });

  test(`RESP${proto}: MULTI/EXEC and WATCH (a concurrent write gives WatchError)`, async () => {
    const out = await c().multi().set(k('t'), '1').incr(k('t')).get(k('t')).exec();
    assert.deepEqual(out, ['OK', 2, '2']);
    const other = await client(proto);
    try {
      const isolated = await client(proto);
      try {
        await isolated.watch(k('w'));
        await other.set(k('w'), 'changed');
        await assert.rejects(isolated.multi().set(k('w'), 'mine').exec(), WatchError);
        assert.equal(await c().get(k('w')), 'changed');
        await isolated.watch(k('w'));
        assert.deepEqual(await isolated.multi().set(k('w'), 'mine').exec(), ['OK']);
        assert.equal(await c().get(k('w')), 'mine');
      } finally {
        isolated.destroy();
      }
    } finally {
      other.destroy();
    }
  });

  test(`RESP${proto}: SCAN iterates, INFO and errors`, async () => {
    for (let i = 0; i < 30; i++) await c().set(k(`scan:${i}`), 'v');
    const seen: string[] = [];
    for await (const keys of c().scanIterator({ MATCH: `${k('scan:')}*`, COUNT: 7 })) seen.push(...keys);
    assert.equal(new Set(seen).size, 30);
    const info = await c().info('replication');
    assert.match(info, /raft_leader:\d/);
    await assert.rejects(c().sendCommand(['GET']), /ERR wrong number of arguments for 'get' command/);
    await assert.rejects(c().sendCommand(['NOPE', 'x']), /ERR unknown command 'NOPE', with args beginning with: 'x' /);
    await c().set(k('str'), 'abc');
    await assert.rejects(c().incr(k('str')), /ERR value is not an integer or out of range/);
  });
}

test('RESP3 types on the wire: null as _, maps for HELLO, sets for COMMAND flags', async () => {
  // Raw bytes: what a RESP3 reply looks like, independent of a client's decoding.
  const { raw, encode } = await import('./helpers.js');
  const sock = await raw(s.port);
  try {
    sock.socket.write(Buffer.concat([encode('HELLO', '3'), encode('GET', 'r3:absent-key'), encode('COMMAND', 'INFO', 'get'), encode('CLIENT', 'INFO'), encode('HELLO', '2'), encode('GET', 'r3:absent-key')]));
    const got = (await sock.until((b) => b.toString('latin1').endsWith('$-1\r\n'))).toString('latin1');
    assert.match(got, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
    assert.match(got, /\r\n=\d+\r\ntxt:id=\d+ addr=/, 'CLIENT INFO as verbatim text, as Redis sends it');
    assert.ok(got.includes('\r\n_\r\n'), 'a null in RESP3 is _');
    assert.ok(got.includes('~2\r\n+readonly\r\n+fast\r\n'), 'flags as a set');
    assert.ok(got.includes('*14\r\n'), 'after HELLO 2 a map is a flat array again');
  } finally {
    sock.end();
  }
});

test("an unknown command's error echoes its arguments' bytes as Redis does (not decoded as UTF-8), up to a NUL", async () => {
  const { raw, encode } = await import('./helpers.js');
  const sock = await raw(s.port);
  try {
    sock.socket.write(Buffer.concat([encode(Buffer.from('FOO'), Buffer.from([0xe9, 0xff])), encode(Buffer.from([0x66, 0, 0x6f]))]));
    const got = await sock.until((b) => b.toString('latin1').split('\r\n').length >= 3);
    assert.ok(got.equals(Buffer.concat([
      Buffer.from("-ERR unknown command 'FOO', with args beginning with: '"), Buffer.from([0xe9, 0xff]), Buffer.from("' \r\n"),
      Buffer.from("-ERR unknown command 'f', with args beginning with: \r\n"),
    ])), got.toString('latin1'));
  } finally {
    sock.end();
  }
});

test('Pub/Sub through node-redis: a RESP3 client subscribes and keeps sending commands; a RESP2 one subscribes on a duplicate; patterns and shard channels', async () => {
  const got: string[] = [];
  const sub3 = await client(3);
  const sub2 = c2.duplicate();
  sub2.on('error', () => undefined);
  await sub2.connect();
  try {
    await sub3.subscribe('nr:news', (message, channel) => got.push(`3 ${channel} ${message}`));
    await sub3.pSubscribe('nr:sp*', (message, channel) => got.push(`3p ${channel} ${message}`));
    await sub3.sSubscribe('nr:shard', (message, channel) => got.push(`3s ${channel} ${message}`));
    await sub2.subscribe('nr:news', (message, channel) => got.push(`2 ${channel} ${message}`));
    // RESP3: the subscribed client still answers other commands.
    await sub3.set('nr:k', 'v');
    assert.equal(await sub3.get('nr:k'), 'v');
    assert.equal(await c3.publish('nr:news', 'hello'), 2);
    assert.equal(await c3.publish('nr:sport', 'goal'), 1);
    assert.equal(await c3.sPublish('nr:shard', 'part'), 1);
    assert.deepEqual(await c3.pubSubNumSub(['nr:news', 'nr:sport']), { 'nr:news': 2, 'nr:sport': 0 });
    assert.equal(await c3.pubSubNumPat(), 1);
    // A PING after the publishes comes back after their messages (one socket each, in order).
    await Promise.all([sub3.ping(), sub2.ping()]);
    assert.deepEqual(got.sort(), ['2 nr:news hello', '3 nr:news hello', '3p nr:sport goal', '3s nr:shard part']);
    await sub3.unsubscribe('nr:news');
    await sub2.unsubscribe();
    assert.equal(await c3.publish('nr:news', 'gone'), 0);
  } finally {
    sub3.destroy();
    sub2.destroy();
  }
});
