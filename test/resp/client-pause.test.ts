// CLIENT PAUSE and CLIENT UNPAUSE: which commands a pause holds (every one under ALL, those that write or publish
// under WRITE, a write inside MULTI before it is queued), that the commands behind a held one wait in order, that a
// later pause extends the end and never weakens the mode, that a held connection is shown as blocked, and the
// errors. Each scenario is checked against the replies Redis 7 gives, and played on redis-server too when it is
// installed (the same bytes, the same holds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, bulk, encode, raw, serve, NO_REDIS, type Raw } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether nothing more arrives on `r` for `ms` (a held command is answered only once the pause ends). */
async function quiet(r: Raw, ms = 250): Promise<boolean> {
  const before = r.received().length;
  await sleep(ms);
  return r.received().length === before;
}

/** Send `commands` (words) on `r` in one write. */
function send(r: Raw, ...commands: string[][]): void {
  r.socket.write(Buffer.concat(commands.map((words) => encode(...words))));
}

/** What `r` received since `from` bytes, as text. */
function since(r: Raw, from: number): string {
  return r.received().subarray(from).toString('latin1');
}

/** The scenarios on the server at `port`; every check is an assertion, so the same function tests Redis too. */
async function scenarios(port: number): Promise<void> {
  const [a, b, c, d] = await Promise.all([raw(port), raw(port), raw(port), raw(port)]);
  try {
    const ask = async (r: Raw, words: string[], reply: string): Promise<void> => {
      const from = r.received().length;
      send(r, words);
      await r.until((got) => got.length >= from + reply.length);
      assert.equal(since(r, from), reply, words.join(' '));
    };

    // WRITE: reads go on; a write waits, and what the connection sent after it waits behind it.
    await ask(a, ['CLIENT', 'PAUSE', '60000', 'WRITE'], '+OK\r\n');
    send(b, ['GET', 'k'], ['SET', 'k', '1'], ['GET', 'k'], ['PING']);
    await b.until((got) => got.length >= 5);
    assert.ok(await quiet(b), 'SET is held, and the GET and PING behind it');
    assert.equal(since(b, 0), '$-1\r\n');
    // A held connection is blocked: INFO counts it, CLIENT LIST flags it `b` with the held command.
    assert.match(await bulk(d, ['INFO', 'clients']), /^blocked_clients:1\r$/m);
    assert.match(await bulk(d, ['CLIENT', 'LIST']), /flags=b .* cmd=set /);
    await ask(a, ['GET', 'k'], '$-1\r\n');
    // PUBLISH may replicate: held; so is a write inside MULTI, before it is queued.
    const aFrom = a.received().length;
    send(a, ['PUBLISH', 'ch', 'm']);
    send(c, ['MULTI'], ['GET', 'j'], ['SET', 'j', '2'], ['EXEC']);
    await c.until((got) => got.length >= '+OK\r\n+QUEUED\r\n'.length);
    assert.ok(await quiet(c), 'SET inside MULTI is held');
    assert.equal(since(c, 0), '+OK\r\n+QUEUED\r\n');
    assert.equal(since(a, aFrom), '', 'PUBLISH is held, the pausing connection\'s too');
    // UNPAUSE (not a write: never held by WRITE) lets every held connection go on, in its order.
    await ask(d, ['CLIENT', 'UNPAUSE'], '+OK\r\n');
    assert.match(await bulk(d, ['INFO', 'clients']), /^blocked_clients:0\r$/m);
    await b.until((got) => got.length >= '$-1\r\n+OK\r\n$1\r\n1\r\n+PONG\r\n'.length);
    assert.equal(since(b, 0), '$-1\r\n+OK\r\n$1\r\n1\r\n+PONG\r\n');
    await a.until((got) => got.length >= aFrom + 4);
    assert.equal(since(a, aFrom), ':0\r\n');
    const cDone = '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$-1\r\n+OK\r\n';
    await c.until((got) => got.length >= cDone.length);
    assert.equal(since(c, 0), cDone);

    // ALL (the default): every command is held, CLIENT UNPAUSE of another connection and the pausing connection's own
    // next command included, until the end. Pauses combine: the later end, the stricter mode (here ALL until 1.5 s).
    const started = Date.now();
    await ask(d, ['CLIENT', 'PAUSE', '1500', 'WRITE'], '+OK\r\n');
    await ask(a, ['CLIENT', 'PAUSE', '100'], '+OK\r\n');
    const [bFrom, dFrom] = [b.received().length, d.received().length];
    send(b, ['PING']);
    send(d, ['CLIENT', 'UNPAUSE']);
    send(a, ['ECHO', 'mine']);
    assert.ok(await quiet(b, 300), 'PING is held under ALL');
    assert.equal(since(d, dFrom), '', 'so is CLIENT UNPAUSE');
    await b.until((got) => got.length >= bFrom + 7, 5_000);
    assert.ok(Date.now() - started >= 1450, `held until the end (${Date.now() - started} ms)`);
    assert.equal(since(b, bFrom), '+PONG\r\n');
    await d.until((got) => got.length >= dFrom + 5);
    await a.until((got) => got.toString('latin1').endsWith('$4\r\nmine\r\n'));

    // 0: an end already past, no pause.
    await ask(a, ['CLIENT', 'PAUSE', '0', 'WRITE'], '+OK\r\n');
    await ask(b, ['SET', 'k', '3'], '+OK\r\n');

    // EXEC of a transaction queued before the pause: held when it holds a write, not when it only reads.
    const [bAt, cAt] = [b.received().length, c.received().length];
    send(c, ['MULTI'], ['SET', 'q', '1']);
    send(b, ['MULTI'], ['GET', 'q']);
    await c.until((got) => got.length >= cAt + '+OK\r\n+QUEUED\r\n'.length);
    await b.until((got) => got.length >= bAt + '+OK\r\n+QUEUED\r\n'.length);
    await ask(a, ['CLIENT', 'PAUSE', '60000', 'WRITE'], '+OK\r\n');
    await ask(b, ['EXEC'], '*1\r\n$-1\r\n');
    send(c, ['EXEC']);
    assert.ok(await quiet(c), 'EXEC of a write is held');
    assert.equal(since(c, cAt), '+OK\r\n+QUEUED\r\n');
    await ask(d, ['CLIENT', 'UNPAUSE'], '+OK\r\n');
    await c.until((got) => got.length >= cAt + '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n'.length);
    assert.equal(since(c, cAt), '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n');

    // Errors, in Redis's order: the mode before the timeout.
    await ask(a, ['CLIENT', 'PAUSE', 'abc'], '-ERR timeout is not an integer or out of range\r\n');
    await ask(a, ['CLIENT', 'PAUSE', '-1'], '-ERR timeout is negative\r\n');
    await ask(a, ['CLIENT', 'PAUSE', 'abc', 'SOME'], '-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n');
    await ask(a, ['CLIENT', 'pause', '1', 'WRITE', 'x'], "-ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.\r\n");
    await ask(a, ['CLIENT', 'PAUSE'], "-ERR wrong number of arguments for 'client|pause' command\r\n");
    await ask(a, ['CLIENT', 'UNPAUSE', 'x'], "-ERR wrong number of arguments for 'client|unpause' command\r\n");
  } finally {
    for (const r of [a, b, c, d]) r.end();
  }
}

test('CLIENT PAUSE holds every command (ALL) or the writes (WRITE) until its end or CLIENT UNPAUSE, as Redis 7', async () => {
  const s = await serve();
  try {
    await scenarios(s.port);
    // Inside MULTI it would take effect when queued: refused (Redis runs it at EXEC).
    const r = await raw(s.port);
    try {
      send(r, ['MULTI'], ['CLIENT', 'PAUSE', '100'], ['CLIENT', 'UNPAUSE'], ['EXEC']);
      const want = "+OK\r\n-ERR 'client|pause' inside MULTI is not supported by threadraft (it would take effect when queued, not at EXEC)\r\n" +
        "-ERR 'client|unpause' inside MULTI is not supported by threadraft (it would take effect when queued, not at EXEC)\r\n" +
        '-EXECABORT Transaction discarded because of previous errors.\r\n';
      await r.until((got) => got.length >= want.length);
      assert.equal(r.received().toString('latin1'), want);
      // A held connection that goes away is forgotten; the others are served once the pause ends.
      const gone = await raw(s.port);
      send(r, ['CLIENT', 'PAUSE', '60000', 'WRITE']);
      await r.until((got) => got.toString('latin1').endsWith('+OK\r\n'));
      send(gone, ['SET', 'g', '1']);
      await sleep(100);
      gone.end();
      await gone.closed;
      const from = r.received().length;
      send(r, ['CLIENT', 'UNPAUSE'], ['SET', 'g', '2'], ['GET', 'g']);
      await r.until((got) => got.length >= from + '+OK\r\n+OK\r\n$1\r\n2\r\n'.length);
      assert.equal(since(r, from), '+OK\r\n+OK\r\n$1\r\n2\r\n');
    } finally {
      r.end();
    }
  } finally {
    await s.stop();
  }
});

test('CLIENT PAUSE: the same scenarios on redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis) => {
  await scenarios(redis.port);
}));
