// A pipeline that mixes writes and key reads: the reads after writes ride the writes' batch (as `get` ops in the
// log, applied after them), so the pipeline is one round, not one per change between writes and reads; and the
// replies are those of the commands run one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, endsWith, raw, serve } from './helpers.js';

test('SET k, GET k, SET k, GET k, ... in one pipeline: each GET reads the write before it, and the pipeline is one log entry, not one per SET', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' });
  const c = await raw(s.port);
  try {
    const commit = async (): Promise<number> => (await s.cluster.status())[0]!.commit!;
    c.socket.write(encode('PING'));
    await c.until(endsWith('+PONG\r\n'));
    const before = await commit();
    const pairs = 200;
    const parts: Buffer[] = [];
    for (let i = 0; i < pairs; i++) parts.push(encode('SET', `k${i % 7}`, `v${i}`), encode('GET', `k${i % 7}`), encode('INCR', 'n'), encode('MGET', 'n', `k${i % 7}`, 'none'));
    parts.push(encode('PING', 'end'));
    c.socket.write(Buffer.concat(parts));
    const got = (await c.until(endsWith('$3\r\nend\r\n'), 20_000)).toString('latin1').slice('+PONG\r\n'.length);
    let want = '';
    for (let i = 0; i < pairs; i++) {
      const v = `v${i}`;
      const n = String(i + 1);
      want += `+OK\r\n$${v.length}\r\n${v}\r\n:${n}\r\n*3\r\n$${n.length}\r\n${n}\r\n$${v.length}\r\n${v}\r\n$-1\r\n`;
    }
    assert.equal(got, `${want}$3\r\nend\r\n`);
    // 800 commands, 400 of them writes: a few batches (of at most maxBatchOps operations each), where one round per
    // change between a write and a read would have made 400.
    const entries = (await commit()) - before;
    assert.ok(entries <= 4, `${entries} log entries for the pipeline`);
    // A tracking connection's reads are not folded into writes (they are remembered as they are sent), and reads
    // without writes before them are read as reads: both give the same replies.
    c.socket.write(Buffer.concat([encode('HELLO', '3'), encode('CLIENT', 'TRACKING', 'ON'), encode('SET', 'k0', 'x'), encode('GET', 'k0'), encode('GET', 'k1'), encode('PING', 'two')]));
    const tracked = (await c.until(endsWith('$3\r\ntwo\r\n'))).toString('latin1');
    assert.ok(tracked.endsWith('+OK\r\n+OK\r\n$1\r\nx\r\n$4\r\nv197\r\n$3\r\ntwo\r\n'), JSON.stringify(tracked.slice(-80)));
  } finally {
    c.end();
    await s.stop();
  }
});
