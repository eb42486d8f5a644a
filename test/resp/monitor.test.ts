// MONITOR: what a monitor is fed (each command that ran, quoted as Redis quotes it, passwords redacted, a
// transaction's commands as EXEC runs them, no administrative command), what a monitor may run itself, CLIENT
// PAUSE not holding it and RESET ending it; checked against what redis-server 7.0.15 fed for the same requests and
// compared with a running redis-server when one is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, clientAddress, encode, raw, serve, NO_REDIS, type Raw } from './helpers.js';

/** The script: who sends what, in turn (0 is the monitor, which waits for each of its replies). */
const STEPS: Array<[conn: number, args: Array<string | Buffer>]> = [
  [0, ['MONITOR']],
  [1, ['SET', 'a', Buffer.from('x y"z\\\n\r\t\x07\x08\x01\xff', 'latin1')]],
  [1, ['get', 'a']],
  [1, ['GET']], // refused before it ran: not fed
  [1, ['NOSUCH']], // unknown: not fed
  [1, ['CONFIG', 'GET', 'maxclients']], // administrative: not fed
  [1, ['CLIENT', 'LIST']],
  [1, ['SLOWLOG', 'LEN']],
  [1, ['CLIENT', 'SETNAME', 'one']],
  [1, ['PING']],
  // A script: its EVAL (skip_monitor, fed by EVAL itself, before its script runs), then the commands it ran as `lua`.
  [1, ['EVAL', "redis.call('SET', KEYS[1], 'v') return redis.pcall('incr', KEYS[1])", '1', 'k']],
  [1, ['EVAL', "redis.call('CONFIG', 'GET', 'maxclients') redis.pcall('GET', 'x', 'y') return redis.call('nosuch')", '0']],
  [1, ['EVALSHA', '0000000000000000000000000000000000000000', '0']],
  [1, ['MULTI']],
  [1, ['SET', 'b', '1']],
  [1, ['CONFIG', 'SET', 'slowlog-max-len', '128']], // administrative inside a transaction: not fed either
  [1, ['INCR', 'b']],
  [1, ['EXEC']],
  // Scripts inside a transaction: each EVAL then its commands, in EXEC's order; EXEC last.
  [1, ['MULTI']],
  [1, ['SET', 'c', '1']],
  [1, ['EVAL', "return redis.call('INCR', KEYS[1])", '1', 'c']],
  [1, ['EVALSHA', '0000000000000000000000000000000000000000', '0']],
  [1, ['EVAL', "redis.call('GET', 'c') return redis.call('SET', 'c', 'x')", '0']],
  [1, ['GET', 'c']],
  [1, ['EXEC']],
  [2, ['WATCH', 'w']],
  [1, ['SET', 'w', '1']],
  [2, ['MULTI']],
  [2, ['SET', 'q', '1']],
  [2, ['EXEC']], // aborted by the WATCH: SET q never ran
  [2, ['MULTI']],
  [2, ['MONITOR']],
  [2, ['EXEC']],
  [2, ['AUTH', 'secret']],
  [2, ['HELLO', '2', 'AUTH', 'default', 'secret']],
  [0, ['GET', 'a']], // a monitor may not touch the keyspace
  [0, ['PUBLISH', 'c', 'm']],
  [0, ['MONITOR']], // not answered at all
];

/** Then the monitor pipelines two commands of its own: each is fed to it right after its reply. */
const OWN = [encode('PING', 'own'), encode('ECHO', 'e')];

/** What the monitor received over STEPS on redis-server 7.0.15, times as `T` and connection i's address as `<i>`. */
const REDIS_FED = [
  '+OK',
  '+T [0 <1>] "SET" "a" "x y\\"z\\\\\\n\\r\\t\\a\\b\\x01\\xff"',
  '+T [0 <1>] "get" "a"',
  '+T [0 <1>] "CLIENT" "SETNAME" "one"',
  '+T [0 <1>] "PING"',
  '+T [0 <1>] "EVAL" "redis.call(\'SET\', KEYS[1], \'v\') return redis.pcall(\'incr\', KEYS[1])" "1" "k"',
  '+T [0 <-1>] "SET" "k" "v"',
  '+T [0 <-1>] "incr" "k"',
  '+T [0 <1>] "EVAL" "redis.call(\'CONFIG\', \'GET\', \'maxclients\') redis.pcall(\'GET\', \'x\', \'y\') return redis.call(\'nosuch\')" "0"',
  '+T [0 <1>] "EVALSHA" "0000000000000000000000000000000000000000" "0"',
  '+T [0 <1>] "MULTI"',
  '+T [0 <1>] "SET" "b" "1"',
  '+T [0 <1>] "INCR" "b"',
  '+T [0 <1>] "EXEC"',
  '+T [0 <1>] "MULTI"',
  '+T [0 <1>] "SET" "c" "1"',
  '+T [0 <1>] "EVAL" "return redis.call(\'INCR\', KEYS[1])" "1" "c"',
  '+T [0 <-1>] "INCR" "c"',
  '+T [0 <1>] "EVALSHA" "0000000000000000000000000000000000000000" "0"',
  '+T [0 <1>] "EVAL" "redis.call(\'GET\', \'c\') return redis.call(\'SET\', \'c\', \'x\')" "0"',
  '+T [0 <-1>] "GET" "c"',
  '+T [0 <-1>] "SET" "c" "x"',
  '+T [0 <1>] "GET" "c"',
  '+T [0 <1>] "EXEC"',
  '+T [0 <2>] "WATCH" "w"',
  '+T [0 <1>] "SET" "w" "1"',
  '+T [0 <2>] "MULTI"',
  '+T [0 <2>] "EXEC"',
  '+T [0 <2>] "MULTI"',
  '+T [0 <2>] "EXEC"',
  '+T [0 <2>] "AUTH" "(redacted)"',
  '+T [0 <2>] "HELLO" "2" "AUTH" "(redacted)" "(redacted)"',
  "-ERR Replica can't interact with the keyspace",
  "-ERR Replica can't interact with the keyspace",
  '$3', 'own',
  '+T [0 <0>] "PING" "own"',
  '$1', 'e',
  '+T [0 <0>] "ECHO" "e"',
];

/** Replies and lines, one per line, with times and client addresses made comparable. */
function normalized(text: string, addrs: string[]): string[] {
  const lines = text.split('\r\n').slice(0, -1);
  return lines.map((l) => l.replace(/^\+\d+\.\d{6} \[0 ([^\]]+)\]/, (_, addr: string) => `+T [0 <${addrs.indexOf(addr)}>]`));
}

/** STEPS on the server at `port`; what the monitor received, and what EXEC answered MONITOR inside MULTI. */
async function fed(port: number): Promise<{ lines: string[]; monitorInMulti: RespValue }> {
  const m = await raw(port);
  const others = [await SimpleConn.open('127.0.0.1', port), await SimpleConn.open('127.0.0.1', port)];
  try {
    const addrs = [await clientAddress(m), await clientAddress(others[0]!), await clientAddress(others[1]!)];
    const start = m.received().length;
    let monitorInMulti: RespValue = null;
    for (const [conn, args] of STEPS) {
      if (conn === 0) {
        const before = m.received().length;
        m.socket.write(encode(...args));
        if (args[0] === 'MONITOR' && before > start) continue; // not answered
        await m.until((b) => b.length > before && b.toString('latin1').endsWith('\r\n') && !/^\$\d+\r\n$/.test(b.subarray(before).toString('latin1')));
      } else {
        const r = await others[conn - 1]!.call(args);
        if (args[0] === 'EXEC' && conn === 2 && Array.isArray(r) && r.length === 1) monitorInMulti = r[0]!;
      }
    }
    m.socket.write(Buffer.concat(OWN));
    await m.until((b) => b.toString('latin1').endsWith('"ECHO" "e"\r\n'));
    return { lines: normalized(m.received().subarray(start).toString('latin1'), addrs), monitorInMulti };
  } finally {
    m.end();
    for (const c of others) c.close();
  }
}

test('MONITOR is fed what Redis 7.0 feeds: quoted arguments, passwords redacted, a transaction as EXEC runs it, no admin command', async () => {
  const s = await serve();
  try {
    const { lines, monitorInMulti } = await fed(s.port);
    assert.deepEqual(lines, REDIS_FED);
    assert.deepEqual(monitorInMulti, new RespError("ERR MONITOR isn't allowed for DENY BLOCKING client"));
  } finally {
    await s.stop();
  }
});

/** Waits until `r` received a complete reply past `from` (a simple or error line, or a bulk string). */
function reply(r: Raw, from: number): Promise<Buffer> {
  return r.until((b) => {
    const t = b.subarray(from).toString('latin1');
    return /^[+\-:].*\r\n/.test(t) || /^\$\d+\r\n.*\r\n/s.test(t);
  });
}

test('a monitor is flagged O, is not held by CLIENT PAUSE, and RESET ends it', async () => {
  const s = await serve();
  const m = await raw(s.port);
  const other = await raw(s.port);
  try {
    m.socket.write(encode('MONITOR'));
    await reply(m, 0);
    let at = m.received().length;
    m.socket.write(encode('CLIENT', 'INFO'));
    assert.match((await reply(m, at)).subarray(at).toString('latin1'), / flags=O /);
    // Under CLIENT PAUSE ALL the other connection's PING waits; the monitor's is answered meanwhile.
    other.socket.write(encode('CLIENT', 'PAUSE', '3000', 'ALL'));
    await reply(other, 0);
    const held = other.received().length;
    other.socket.write(encode('PING', 'held'));
    at = m.received().length;
    m.socket.write(encode('PING', 'free'));
    assert.match((await reply(m, at)).subarray(at).toString('latin1'), /^\$4\r\nfree\r\n/);
    assert.equal(other.received().length, held, 'the paused connection is still waiting');
    await reply(other, held); // answered at the pause's end
    // RESET: no longer a monitor; it reads keys again and is fed nothing more.
    at = m.received().length;
    m.socket.write(encode('RESET'));
    await m.until((b) => b.subarray(at).toString('latin1').includes('+RESET\r\n'));
    at = m.received().length;
    m.socket.write(Buffer.concat([encode('GET', 'nokey'), encode('PING', 'end')]));
    const after = (await m.until((b) => b.toString('latin1').endsWith('$3\r\nend\r\n'))).subarray(at).toString('latin1');
    assert.equal(after, '$-1\r\n$3\r\nend\r\n');
  } finally {
    m.end();
    other.end();
    await s.stop();
  }
});

test('MONITOR is fed as redis-server 7.0 feeds it', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    const theirs = await fed(redis.port);
    assert.deepEqual(theirs.lines, REDIS_FED); // REDIS_FED is what this Redis feeds
    assert.deepEqual((await fed(served.port)).lines, theirs.lines);
  });
});

test('a monitor that does not read is closed at maxPubsubOutputBytes', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' }, { maxPubsubOutputBytes: 256 * 1024 });
  const slow = await raw(s.port);
  const writer = await raw(s.port);
  try {
    slow.socket.write(encode('MONITOR'));
    await reply(slow, 0);
    slow.socket.pause(); // reads nothing more: the server's output to it grows
    const value = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    for (; sent < 2000 && s.server.clientCount > 1; sent++) {
      const before = writer.received().length;
      writer.socket.write(encode('SET', 'k', value));
      await writer.until((b) => b.length > before);
    }
    assert.ok(sent < 2000, 'the monitor was closed');
    // Closed after about the bound: the socket buffers (kernel and Node) hold part of it, the bound the rest.
    assert.ok(sent * value.length < 64 * 1024 * 1024, `${sent} SETs of 64 KiB before it was closed`);
    assert.ok(sent > 4, 'not before its output passed the bound');
  } finally {
    slow.end();
    writer.end();
    await s.stop();
  }
});

/** A monitor silenced by CLIENT REPLY OFF is fed nothing until ON (its own OFF included); SKIP silences its own next command's line. */
async function silenced(port: number): Promise<string[]> {
  const m = await raw(port);
  const other = await SimpleConn.open('127.0.0.1', port);
  try {
    const addrs = [await clientAddress(m), await clientAddress(other)];
    const start = m.received().length;
    m.socket.write(encode('MONITOR'));
    await m.until((b) => b.subarray(start).toString('latin1').endsWith('+OK\r\n'));
    m.socket.write(encode('CLIENT', 'REPLY', 'OFF'));
    m.socket.write(encode('PING', 'sync')); // silenced, but it orders what follows after OFF
    await other.call(['ECHO', 'unseen']);
    m.socket.write(encode('CLIENT', 'REPLY', 'ON'));
    await m.until((b) => b.toString('latin1').endsWith('"REPLY" "ON"\r\n'));
    m.socket.write(Buffer.concat([encode('CLIENT', 'REPLY', 'SKIP'), encode('PING', 'skipped')]));
    m.socket.write(encode('PING', 'last'));
    await m.until((b) => b.toString('latin1').endsWith('"PING" "last"\r\n'));
    await other.call(['ECHO', 'seen']);
    m.socket.write(encode('PING', 'end'));
    await m.until((b) => b.toString('latin1').endsWith('"PING" "end"\r\n'));
    return normalized(m.received().subarray(start).toString('latin1'), addrs);
  } finally {
    m.end();
    other.close();
  }
}

const REDIS_SILENCED = [
  '+OK',
  '+OK', '+T [0 <0>] "CLIENT" "REPLY" "ON"',
  '+T [0 <0>] "CLIENT" "REPLY" "SKIP"',
  '$4', 'last', '+T [0 <0>] "PING" "last"',
  '+T [0 <1>] "ECHO" "seen"',
  '$3', 'end', '+T [0 <0>] "PING" "end"',
];

test('CLIENT REPLY OFF and SKIP silence what a monitor is fed, as on Redis', async () => {
  const s = await serve();
  try {
    assert.deepEqual(await silenced(s.port), REDIS_SILENCED);
  } finally {
    await s.stop();
  }
});

test('CLIENT REPLY silences a monitor as redis-server 7.0 does', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    assert.deepEqual(await silenced(redis.port), REDIS_SILENCED);
    assert.deepEqual(await silenced(served.port), REDIS_SILENCED);
  });
});
