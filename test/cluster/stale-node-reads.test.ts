// A stale read that a node's own thread answers (memory storage; size() on any storage) stays with that node.
// Until session 32 the coordinator treated it like a barrier round: unanswered after two election timeouts, or at a
// leader change, it was sent to the leader as a linearizable read. The caller then got the leader's state instead
// of the node's, and with no quorum no answer at all, which is what a stale read is for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { waitFor, withCluster } from './helpers.js';

const TIMING = { tickMs: 10, heartbeatTicks: 3, electionTimeoutMinTicks: 15, electionTimeoutMaxTicks: 30 };
const RETRY_AFTER_MS = 2 * TIMING.tickMs * TIMING.electionTimeoutMaxTicks; // the coordinator's resend interval

test('a stale read on a memory node answers from that node, even when the node is slower than the resend interval', async () => {
  await withCluster({ nodes: 3, storage: 'memory', timing: TIMING, requestTimeoutMs: 10_000 }, async (c) => {
    const L = await c.waitForLeader();
    const F = c.members().map((m) => m.id).find((id) => id !== L)!;
    await c.put('k', 'old');
    await waitFor(`node ${F} holds k`, async () => (await c.get('k', { consistency: 'stale', node: F })) === 'old');
    await c.partition([F], c.members().map((m) => m.id).filter((id) => id !== F));
    await c.put('k', 'new'); // committed by the other two: F cannot know it

    const roundsBefore = (await c.metrics()).coordinator.readRoundsSent;
    const stall = c.stallNodeForTest(F, 3 * RETRY_AFTER_MS);
    const read = c.get('k', { consistency: 'stale', node: F });
    await stall;
    assert.equal(await read, 'old', `node ${F}'s own state: the leader's answer came instead`);
    assert.equal((await c.metrics()).coordinator.readRoundsSent, roundsBefore, 'no barrier round was sent for a stale read');
    await c.heal();
  });
});

test('a stale read on a memory node that crashes while it is out fails NODE_UNAVAILABLE when the node goes down', async () => {
  await withCluster({ nodes: 3, storage: 'memory', timing: TIMING, requestTimeoutMs: 60_000 }, async (c) => {
    const L = await c.waitForLeader();
    const F = c.members().map((m) => m.id).find((id) => id !== L)!;
    await c.put('k', 'v');
    const stall = c.stallNodeForTest(F, 20_000).catch(() => undefined); // ends with the crash
    let settled = false;
    const read = c.get('k', { consistency: 'stale', node: F }).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    ).finally(() => {
      settled = true;
    });
    await c.crash(F); // a stalled node does not answer its stop: the crash waits out its grace, then terminates it
    await new Promise((r) => setImmediate(r));
    assert.ok(settled, 'answered when the node went down, not at the request deadline (60 s)');
    const r = await read;
    assert.ok('err' in r && r.err instanceof ClusterError && r.err.code === ErrorCode.NODE_UNAVAILABLE, `got ${JSON.stringify(r)}`);
    void stall; // settled NODE_UNAVAILABLE by the crash (test/cluster/control-down.test.ts)
  });
});
