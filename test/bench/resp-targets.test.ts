// The benchmark's and the tests' redis-server starts (bench/resp-targets.ts) make sure the server answering on the
// port they chose is the one they started: another test's server may take that port between freePort() and the
// bind, and it answers PING too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answeredBy, onPath, startRedisNoPersist } from '../../bench/resp-targets.js';
import { callOnce } from '../../bench/resp-proto.js';
import { serve } from '../resp/helpers.js';

test('answeredBy tells a server by its INFO process_id', async () => {
  const s = await serve({ nodes: 1 });
  try {
    assert.equal(await answeredBy(s.port, process.pid), true, 'a RESP server of this process');
    assert.equal(await answeredBy(s.port, process.pid + 1), false, 'not another process');
    assert.equal(await answeredBy(s.port, undefined), false, 'a child that never started');
  } finally {
    await s.stop();
  }
});

test('a redis-server started for a test is the one that answers on its port', { skip: onPath('redis-server') ? false : 'redis-server is not installed' }, async () => {
  const redis = await startRedisNoPersist();
  try {
    const info = String(await callOnce('127.0.0.1', redis.port, ['INFO', 'server']));
    assert.match(info, /^process_id:\d+\r$/m);
    assert.notEqual(/^process_id:(\d+)\r$/m.exec(info)![1], String(process.pid), 'not this process\'s RESP server');
    assert.match(info, /^redis_version:/m);
  } finally {
    await redis.stop();
  }
});
