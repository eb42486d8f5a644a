// §3.10 + §6.4.1: once a leader has sent timeout-now, the target may start an election that bypasses
// leader stickiness (a transfer vote) at any later moment, so the old leader's lease is void for the rest
// of that term, even after the transfer timed out. Found by `npm run mutate` (lease-after-timeout-now survived).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/raft/index.js';
import { Cluster } from './harness.js';

test('§3.10 a leader that sent timeout-now serves no lease read in that term, even after the transfer timed out', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true });
  c.get(1).campaign();
  c.stabilize();
  const leader = c.get(1);
  c.tick(2); // heartbeat rounds answered: the lease holds
  leader.leaseRead(1);
  assert.equal(leader.stats.leaseReads, 1, 'the lease serves reads before the transfer');

  // The timeout-now is held back (a slow link); everything else flows.
  const held: Message[] = [];
  c.filter = (m) => {
    if (m.type !== 'timeout-now') return true;
    held.push(m);
    return false;
  };
  assert.equal(leader.transferLeadership(2), true);
  c.stabilize();
  assert.equal(held.length, 1, 'timeout-now was sent');
  c.tick(12); // the transfer times out (electionTimeoutMin ticks); heartbeats keep the majority fresh
  assert.equal(leader.status().role, 'leader');
  assert.equal(leader.stats.transfersAborted, 1);

  const before = leader.stats.leaseReads;
  leader.leaseRead(2);
  assert.equal(leader.stats.leaseReads, before, 'no lease read after timeout-now in this term');

  // Why: the late timeout-now still makes node 2 leader at once, stickiness notwithstanding.
  c.heal();
  for (const m of held) c.get(m.to).step(m);
  c.stabilize();
  assert.equal(c.get(2).status().role, 'leader');
});
