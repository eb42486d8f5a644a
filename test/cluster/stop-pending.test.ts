// stop() ends the calls in progress with CLUSTER_STOPPED, including those that wait on the cluster by polling
// (checkReplicas waiting for a report that cannot come, transferLeadership to a node that cannot win), rather than
// letting them run out their own timeouts after the cluster is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ClusterError, ErrorCode, type NodeId } from '../../src/index.js';

function isCode(code: ErrorCode): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ClusterError, `a ClusterError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('checkReplicas waiting for a crashed member ends with CLUSTER_STOPPED at stop(), not with a verdict after its timeout', { timeout: 60_000 }, async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    await c.put('k', 'v');
    const follower = c.members().find((m) => m.id !== c.leader())!.id;
    await c.crash(follower);
    const check = c.checkReplicas({ timeoutMs: 20_000 });
    const settled = check.then(() => 'resolved', (e: unknown) => e);
    await sleep(300); // the digest entry commits; the check now waits for the crashed member's report
    await c.stop();
    await assert.rejects(check, isCode(ErrorCode.CLUSTER_STOPPED));
    assert.notEqual(await settled, 'resolved');
  } finally {
    await c.stop();
  }
});

test('transferLeadership to a node that cannot win ends with CLUSTER_STOPPED at stop(), not TIMEOUT; its timeoutMs is checked', { timeout: 60_000 }, async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    await c.put('k', 'v');
    const target: NodeId = c.members().find((m) => m.id !== c.leader())!.id;
    await assert.rejects(c.transferLeadership(target, 'soon' as unknown as number), isCode(ErrorCode.INVALID_ARGUMENT));
    await assert.rejects(c.transferLeadership(target, -1), isCode(ErrorCode.INVALID_ARGUMENT));
    // Everything the target sends is dropped: it can never collect the votes.
    await c.setLinkFaults({ dropRate: 1, nodes: [target] });
    const move = c.transferLeadership(target, 20_000);
    move.catch(() => {});
    await sleep(300);
    await c.stop();
    await assert.rejects(move, isCode(ErrorCode.CLUSTER_STOPPED));
  } finally {
    await c.stop();
  }
});
