// Cluster.start elects its first leader without waiting an election timeout (src/cluster/cluster.ts,
// campaignAtStart): once every node is up, the voter with the longest log campaigns, and the nodes start cold
// (RaftConfig.coldStart), so on a reopened directory the others do not refuse its votes as a node restarted
// alone must (it may have underwritten a live leader's lease).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/index.js';
import { key, withTempDir } from './helpers.js';

interface Internals {
  nodes: { alive(): Array<{ id: number; options: { coldStart?: boolean }; control?: { status(): Promise<Record<string, unknown>> } }> };
}

/** Each live node's core counters (test-only, through the control plane). */
async function coreStats(c: Cluster): Promise<Array<{ id: number; elections: number; votesIgnoredInLease: number }>> {
  const nodes = (c as unknown as Internals).nodes.alive();
  return Promise.all(
    nodes.map(async (h) => {
      const s = (await h.control!.status()) as { coreStats: { elections: number; votesIgnoredInLease: number } };
      return { id: h.id, elections: s.coreStats.elections, votesIgnoredInLease: s.coreStats.votesIgnoredInLease };
    }),
  );
}

test('a reopened cluster starts cold: the voter asked to campaign at start is not refused as a restarted node; the handles keep no coldStart for later restarts', async () => {
  await withTempDir(async (dir) => {
    const first = await Cluster.start({ dir, nodes: 3 });
    for (let i = 0; i < 20; i++) await first.put(key(i), `v${i}`);
    const before = Math.max(...(await first.status()).map((s) => s.term));
    await first.stop();

    const c = await Cluster.start({ dir });
    try {
      const stats = await coreStats(c);
      // Without the cold start every node refuses votes for its first minimum election timeout (500 ms), so the
      // campaign at start is ignored (votesIgnoredInLease > 0) and the leader comes from a later timeout.
      assert.deepEqual(stats.map((s) => s.votesIgnoredInLease), [0, 0, 0], JSON.stringify(stats));
      const leader = (await c.status()).find((s) => s.id === c.leader())!;
      assert.equal(leader.term, before + 1, 'one election after the reopen');
      // restartNode and replaceNode spawn from the handle's options: a node restarted alone keeps the refusal.
      for (const h of (c as unknown as Internals).nodes.alive()) assert.equal(h.options.coldStart, undefined, `node ${h.id}'s handle`);
      for (let i = 0; i < 20; i++) assert.equal(await c.get(key(i)), `v${i}`);
    } finally {
      await c.stop();
    }
  });
});
