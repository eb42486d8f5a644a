// Issue #10 item 2: the lease is counted in ticks, and a stalled event loop drops setInterval callbacks.
// The host ticks the core by elapsed monotonic time, so a leader whose thread was blocked for longer than
// its lease comes back with the lease expired: it must not answer a lease read from its old state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { waitFor, withCluster } from './helpers.js';

const TIMING = { tickMs: 10, heartbeatTicks: 3, electionTimeoutMinTicks: 15, electionTimeoutMaxTicks: 30 };
const ELECTION_MAX_MS = TIMING.tickMs * TIMING.electionTimeoutMaxTicks;

test('§6.4.1 a leader stalled past its lease answers a lease read queued behind the stall with the newer leader’s write or NOT_LEADER, never its old value', async () => {
  await withCluster({ nodes: 3, timing: TIMING, requestTimeoutMs: 5_000 }, async (c) => {
    // With elections this fast, a busy machine can depose a leader before its first lease read: start from one that
    // served it (seen once in CI: NOT_LEADER here, before any fault).
    const L = await waitFor('a leader that serves a lease read', async () => {
      const leader = await c.waitForLeader();
      await c.put('k', 'old');
      const first = await c.leaseReadOnNodeForTest(leader, 'k').catch((err: unknown) => {
        if (err instanceof ClusterError && err.code === ErrorCode.NOT_LEADER) return undefined;
        throw err;
      });
      if (first === undefined) return undefined;
      assert.equal(first, 'old');
      return leader;
    }, 5_000);

    // Cut L off, then block its thread: what the new leader sends can no longer tell L it was deposed, so
    // only L's own clock can end its lease. (Both control calls are posted now, in this order; L handles
    // its side of the partition before the stall, and everything sent to it later waits behind the stall.)
    const others = c.members().map((m) => m.id).filter((id) => id !== L);
    const partitioned = c.partition([L], others);
    let stallOver = false;
    // Six election timeouts: room for an election and a commit on a loaded machine (the stall itself takes no CPU).
    const stall = c.stallNodeForTest(L, 6 * ELECTION_MAX_MS).then(() => {
      stallOver = true;
    });
    const N = await waitFor('a new leader', () => {
      const l = c.leader();
      return l !== undefined && l !== L ? l : undefined;
    }, 10 * ELECTION_MAX_MS);
    await c.put('k', 'new');
    assert.equal(stallOver, false, `node ${N} led and committed before node ${L}'s stall ended (the test needs a longer stall)`);

    const read = c.leaseReadOnNodeForTest(L, 'k').then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );
    await stall;
    await partitioned;
    const r = await read;
    if ('err' in r) {
      assert.ok(r.err instanceof ClusterError && r.err.code === ErrorCode.NOT_LEADER, `unexpected error: ${String(r.err)}`);
    } else {
      assert.equal(r.value, 'new', `node ${L} served a lease read from before node ${N}'s write`);
    }
  });
});
