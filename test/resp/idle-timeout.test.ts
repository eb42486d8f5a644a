// CONFIG SET timeout: a connection idle for longer is closed without a reply, as Redis's clientsCron closes it; one
// subscribed to anything, or a monitor, is not (Redis exempts them), nor one that keeps sending or runs a command. Checked on a served
// cluster and, when one is installed, on redis-server with the same script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, encode, endsWith, raw, serve, NO_REDIS } from './helpers.js';

/** How long the idle connection is waited for: past the 1 s timeout and Redis's once-a-second check, bounded. */
const WAIT_MS = 6000;

/**
 * The script; `sleep`: with a connection that runs DEBUG SLEEP 2 meanwhile (not on redis-server, whose DEBUG SLEEP
 * holds the whole server, so that after it every connection is idle and the busy one may be closed too).
 */
async function script(port: number, sleep: boolean): Promise<void> {
  const busy = await SimpleConn.open('127.0.0.1', port);
  const idle = await raw(port);
  const subscribed = await raw(port);
  const monitor = await raw(port);
  const sleeper = await raw(port);
  let stop = false;
  let busyLoop: Promise<void> | undefined;
  try {
    const refused = (await busy.call(['CONFIG', 'SET', 'timeout', '-1'])) as RespError;
    assert.equal(refused.message, "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive");
    assert.deepEqual((await busy.call(['CONFIG', 'GET', 'timeout']) as RespValue[]).map(String), ['timeout', '0']);
    idle.socket.write(encode('PING'));
    await idle.until(endsWith('+PONG\r\n'));
    const idleFrom = Date.now(); // its last interaction is before this
    subscribed.socket.write(encode('SUBSCRIBE', 'ch'));
    await subscribed.until(endsWith(':1\r\n'));
    monitor.socket.write(encode('MONITOR'));
    await monitor.until(endsWith('+OK\r\n'));
    assert.equal(await busy.call(['CONFIG', 'SET', 'timeout', '1']), 'OK');
    // A command that runs for longer than the timeout: its connection is not idle.
    if (sleep) sleeper.socket.write(encode('DEBUG', 'SLEEP', '2'));
    // The busy connection sends a command every 300 ms until told to stop: CONFIG GET, which Redis does not feed to
    // monitors, so the monitor is written nothing and is as idle as the idle connection.
    let pings = 0;
    busyLoop = (async () => {
      while (!stop) {
        await busy.call(['CONFIG', 'GET', 'timeout']);
        pings++;
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const closed = await Promise.race([idle.closed.then(() => Date.now() - idleFrom), new Promise<undefined>((r) => setTimeout(() => r(undefined), WAIT_MS).unref())]);
    assert.ok(closed !== undefined, `the idle connection is closed within ${WAIT_MS} ms of the timeout's setting`);
    // More than the timeout after its last reply (900 ms: Redis counts in whole seconds of a clock cached per tick).
    assert.ok(closed >= 900, `closed ${closed} ms after its last reply`);
    assert.equal(idle.received().toString('latin1'), '+PONG\r\n', 'closed without a reply');
    // A second more: the others are still served.
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await busyLoop;
    if (sleep) assert.equal((await sleeper.until(endsWith('+OK\r\n'), WAIT_MS)).toString('latin1'), '+OK\r\n');
    assert.ok(pings >= 3, `the busy connection was answered (${pings} times)`);
    assert.equal(monitor.received().toString('latin1'), '+OK\r\n', 'nothing fed to the monitor while it waited');
    subscribed.socket.write(encode('PING'));
    await subscribed.until(endsWith('$0\r\n\r\n')); // ["pong", ""] in subscribed mode
    assert.deepEqual((await busy.call(['CONFIG', 'GET', 'timeout']) as RespValue[]).map(String), ['timeout', '1']);
    assert.equal(await busy.call(['CONFIG', 'SET', 'timeout', '0']), 'OK');
    await busy.call(['PING']);
    await monitor.until((b) => b.toString('latin1').includes('"PING"'));
  } finally {
    stop = true;
    busy.close();
    await busyLoop?.catch(() => undefined); // its call ended by the close, when an assertion above failed
    for (const r of [idle, subscribed, monitor, sleeper]) r.end();
  }
}

test('CONFIG SET timeout closes an idle connection, not a subscribed one, a monitor, a busy one or one running a command', async () => {
  const s = await serve();
  try {
    await script(s.port, true);
  } finally {
    await s.stop();
  }
});

test('CONFIG SET timeout: the same on redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis((redis) => script(redis.port, false)));
