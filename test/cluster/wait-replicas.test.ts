// Cluster.waitReplicas (Redis's WAIT): how many nodes besides the leader hold every acknowledged write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';

const isCode = (code: string) => (e: unknown) => e instanceof ClusterError && e.code === code;

test('waitReplicas counts the followers holding the acknowledged writes; a crashed one is not counted and the call waits out its timeout', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    await c.put('k', 'v1');
    assert.equal(await c.waitReplicas(2, 5_000), 2);
    const follower = (await c.status()).find((s) => s.role === 'follower')!.id;
    await c.crash(follower);
    await c.put('k', 'v2'); // acknowledged by the leader and the other follower
    assert.equal(await c.waitReplicas(1, 5_000), 1);
    const t0 = Date.now();
    assert.equal(await c.waitReplicas(2, 120), 1, 'the crashed follower lacks v2');
    assert.ok(Date.now() - t0 >= 110);
    assert.equal(await c.waitReplicas(0, 0), 1);
    for (const [n, ms] of [[1.5, 10], [1, -1], [1, 1.5], [1, 3_600_001]] as const) {
      await assert.rejects(c.waitReplicas(n, ms), isCode(ErrorCode.INVALID_ARGUMENT), `${n} ${ms}`);
    }
  } finally {
    await c.stop();
  }
});
