// Membership changes through the public API (issue 16): learners, promotion, removal, replacing a lost node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { key, waitFor, withCluster, withTempDir } from './helpers.js';
import { LmdbStore } from '../../src/storage/index.js';

/** Writers of unique keys until stopped; every acknowledged write is remembered. */
function writers(c: Cluster, n: number): { acked: Map<string, string>; stop(): Promise<void> } {
  const acked = new Map<string, string>();
  let next = 100_000;
  let running = true;
  const loops = Array.from({ length: n }, async () => {
    while (running) {
      const i = next++;
      try {
        await c.put(key(i), `w${i}`);
        acked.set(key(i), `w${i}`);
      } catch (err) {
        // Unknown outcome (a leader change): not acknowledged, so not checked.
        if (!(err instanceof ClusterError)) throw err;
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every member's state holds every acknowledged write, read locally once it has applied the leader's commit index. */
async function assertReplicasHold(c: Cluster, acked: Map<string, string>): Promise<void> {
  const leader = await c.waitForLeader();
  const commit = (await c.status()).find((s) => s.id === leader)?.commit ?? 0;
  for (const m of c.members()) {
    await waitFor(`node ${m.id} applies up to ${commit}`, async () => ((await c.status()).find((s) => s.id === m.id)?.applied ?? 0) >= commit || undefined, 30_000);
    for (const [k, v] of acked) assert.equal(await c.get(k, { consistency: 'stale', node: m.id }), v, `node ${m.id} lost ${k}`);
  }
}

test('replaceNode: a node whose directory was deleted is replaced by a new one while writes continue; no acknowledged write is lost', async () => {
  await withCluster({ nodes: 3, snapshotEveryEntries: 50 }, async (c, dir) => {
    for (let i = 0; i < 300; i++) await c.put(key(i), `v${i}`);
    const victim = c.members().map((m) => m.id).find((id) => id !== c.leader())!;
    await c.crash(victim);
    rmSync(join(dir, `node-${victim}`), { recursive: true, force: true });
    const w = writers(c, 8);
    await c.replaceNode(victim, 4);
    await new Promise((r) => setTimeout(r, 200));
    await w.stop();
    assert.ok(w.acked.size > 0, 'writes went on during the replacement');
    assert.deepEqual(c.members().map((m) => m.id).sort(), [1, 2, 3, 4].filter((id) => id !== victim));
    assert.equal(existsSync(join(dir, `node-${victim}`)), false);
    const st = await c.status();
    for (const s of st) assert.equal(s.member, 'voter', `node ${s.id}`);
    for (let i = 0; i < 300; i++) w.acked.set(key(i), `v${i}`);
    await assertReplicasHold(c, w.acked);
    const m = await c.metrics();
    assert.ok((m.nodes.find((n) => n.id === 4)?.counters.snapshotsReceived ?? 0) >= 1, 'the new node caught up by snapshot');
    // The new voter counts: with it and one of the old ones down, the cluster still writes.
    const other = c.members().map((x) => x.id).find((id) => id !== 4 && id !== c.leader())!;
    await c.crash(other);
    await c.put('after', 'replace');
    assert.equal(await c.get('after'), 'replace');
  });
});

test('addLearner: a learner catches up and shows as a learner with its lag; promote and removeNode refuse what they cannot do', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    for (let i = 0; i < 20; i++) await c.put(key(i), `v${i}`);
    await c.addLearner(5);
    await waitFor('the learner has the writes', async () => (await c.get(key(19), { consistency: 'stale', node: 5 })) === 'v19' || undefined, 30_000);
    const st = await c.status();
    const learner = st.find((s) => s.id === 5)!;
    assert.equal(learner.member, 'learner');
    assert.equal(typeof learner.lag, 'number');
    assert.equal(st.filter((s) => s.member === 'voter').length, 3);
    const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof ClusterError ? e.code : String(e)));
    assert.equal(await code(c.addLearner(5)), ErrorCode.INVALID_ARGUMENT);
    assert.equal(await code(c.promote(2)), 'ok', 'promoting a voter is a no-op');
    assert.equal(await code(c.promote(9, { timeoutMs: 2_000 })), ErrorCode.INVALID_ARGUMENT);
    assert.equal(await code(c.addLearner(0)), ErrorCode.INVALID_ARGUMENT);
    await c.removeNode(5);
    assert.deepEqual(c.members().map((m) => m.id).sort(), [1, 2, 3]);
    await c.put('x', 'y');
    assert.equal(await c.get('x'), 'y');
  });
});

test('removeNode of the leader: it steps down once its removal commits and the others go on', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('a', '1');
    const leader = c.leader()!;
    await c.removeNode(leader);
    const next = await c.waitForLeader();
    assert.notEqual(next, leader);
    assert.equal(c.members().length, 2);
    await c.put('b', '2');
    assert.equal(await c.get('a'), '1');
    assert.equal(await c.get('b'), '2');
  });
});

test('reopen after membership changes: without nodes the stored membership is adopted; a conflicting nodes option is MEMBERSHIP_MISMATCH', async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      await c.put('before', '1');
      await c.replaceNode(3, 7);
      await c.addLearner(8);
      await c.put('after', '2');
    } finally {
      await c.stop();
    }
    await assert.rejects(Cluster.start({ dir, nodes: 5 }), (err: unknown) => err instanceof ClusterError && err.code === ErrorCode.MEMBERSHIP_MISMATCH);
    // A node listed while being added, stopped before its store existed and in no configuration: skipped.
    const manifestPath = join(dir, 'membership.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { nodes: Array<{ id: number; voters: number[] }> };
    manifest.nodes.push({ id: 9, voters: [1, 2, 7] });
    writeFileSync(manifestPath, JSON.stringify(manifest));
    for (const opts of [{ dir }, { dir, nodes: 3 }]) {
      const again = await Cluster.start(opts);
      try {
        assert.deepEqual(again.members().map((m) => m.id).sort(), [1, 2, 7, 8]);
        await waitFor('a leader that knows the configuration', async () => {
          const st = await again.status();
          return st.filter((s) => s.member === 'voter').length === 3 && st.find((s) => s.id === 8)?.member === 'learner' ? true : undefined;
        }, 15_000);
        assert.equal(await again.get('before'), '1');
        assert.equal(await again.get('after'), '2');
      } finally {
        await again.stop();
      }
    }
  });
});

test('a removed node\'s id is never given to a new node, in memory and in a reopened directory, and one id is added once (INVALID_ARGUMENT)', async () => {
  const neverReused = (e: unknown): boolean => {
    assert.ok(e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT, String(e));
    assert.match(e.message, /node \d was removed from this cluster: a node id is never reused/);
    return true;
  };
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    await c.addLearner(4);
    await c.removeNode(4);
    await assert.rejects(c.addLearner(4), neverReused);
    await c.removeNode(9); // never a node: resolves, and 9 stays free
    await c.addLearner(9);
    assert.deepEqual(c.members().map((m) => m.id).sort(), [1, 2, 3, 9]);
    // Two calls adding one id at once: the second is refused; it used to remove the first's node on its way out,
    // leaving a learner in the configuration with no node behind it.
    const [a, b] = await Promise.allSettled([c.addLearner(5), c.addLearner(5)]);
    assert.equal(a.status, 'fulfilled');
    assert.ok(b.status === 'rejected' && b.reason instanceof ClusterError && b.reason.code === ErrorCode.INVALID_ARGUMENT, String(b.status === 'rejected' ? b.reason : b.status));
    await c.put('after-5', 'x');
    await waitFor('node 5 applies the write', async () => ((await c.get('after-5', { consistency: 'stale', node: 5 }).catch(() => undefined)) === 'x' ? true : undefined), 15_000);
  });
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      await c.replaceNode(3, 4);
      await assert.rejects(c.addLearner(3), neverReused);
    } finally {
      await c.stop();
    }
    const again = await Cluster.start({ dir });
    try {
      await assert.rejects(again.addLearner(3), neverReused, 'the reopened directory remembers it');
      await again.put('k', 'v');
    } finally {
      await again.stop();
    }
  });
});

test('a stop cutting a membership call short leaves a directory the next start and a retry set right (what a kill leaves, made by hand)', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      await c.put('k', 'v');
      await c.addLearner(4);
      await c.promote(4);
    } finally {
      await c.stop();
    }
    const manifestPath = join(dir, 'membership.json');
    type M = { voters: number[]; learners: number[]; nodes: Array<{ id: number; voters: number[]; learners?: number[] }> };
    const read = (): M => JSON.parse(readFileSync(manifestPath, 'utf8')) as M;
    // 1. Killed after promote(4) committed, before the manifest said so: it still has 4 as a learner.
    writeFileSync(manifestPath, JSON.stringify({ ...read(), voters: [1, 2, 3], learners: [4] }));
    // 2. Killed during addLearner(5) after node 5's store was made, before the change was proposed.
    const m = read();
    m.nodes.push({ id: 5, voters: [1, 2, 3, 4], learners: [5] });
    writeFileSync(manifestPath, JSON.stringify(m));
    LmdbStore.open({ dir: join(dir, 'node-5'), membership: { voters: [1, 2, 3, 4], learners: [5] } }).close();
    // 3. Killed during addLearner(6) before its store existed: an empty folder.
    mkdirSync(join(dir, 'node-6'));
    const again = await Cluster.start({ dir });
    try {
      assert.deepEqual([read().voters, read().learners], [[1, 2, 3, 4], []], 'the start wrote the committed configuration');
      const check = await again.checkReplicas();
      assert.equal(check.consistent, true, `node 5 runs, but is no member: ${JSON.stringify(check.nodes)}`);
      assert.deepEqual(check.nodes.map((n) => n.id), [1, 2, 3, 4]);
      await again.addLearner(5); // it used to be "node 5 already exists", for good
      await again.addLearner(6); // it used to be "node-6 exists: a node id is never reused"
      await again.put('k2', 'v2');
      await waitFor('learners 5 and 6 apply', async () => {
        const vals = await Promise.all([5, 6].map((id) => again.get('k2', { consistency: 'stale', node: id }).catch(() => undefined)));
        return vals.every((v) => v === 'v2') ? true : undefined;
      }, 20_000);
      assert.equal((await again.checkReplicas()).consistent, true);
    } finally {
      await again.stop();
    }
    const four = await Cluster.start({ dir, nodes: 4 }); // refused before the start set the manifest right
    try {
      assert.equal(await four.get('k'), 'v');
    } finally {
      await four.stop();
    }
  });
});

test('reopen without nodes of a directory that never changed adopts its node folders', async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 1 });
    await c.put('a', '1');
    await c.stop();
    const again = await Cluster.start({ dir });
    try {
      assert.deepEqual(again.members().map((m) => m.id), [1]);
      assert.equal(await again.get('a'), '1');
    } finally {
      await again.stop();
    }
  });
});

test('reopen after a node installed a snapshot of a changed configuration: its store is still held to the voters it was created for', async () => {
  // Found by chaos (issue 16 item 4): installing a snapshot replaced the record the store is checked against at
  // open, so the reopen was refused with MEMBERSHIP_MISMATCH ("created for voters [1, 2, 4], opened for [1, 2, 3]").
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3, snapshotEveryEntries: 20 });
    try {
      await c.put('before', '1');
      await c.crash(2);
      await c.replaceNode(3, 4);
      for (let i = 0; i < 120; i++) await c.put(key(i), `v${i}`);
      await c.restart(2);
      const leader = await c.waitForLeader();
      await waitFor('node 2 catches up by a snapshot', async () => {
        const st = await c.status();
        const commit = st.find((s) => s.id === leader)?.commit ?? Infinity;
        return (st.find((s) => s.id === 2)?.applied ?? 0) >= commit || undefined;
      }, 30_000);
      assert.ok(((await c.status()).find((s) => s.id === 2)?.snapshotIndex ?? 0) > 0);
    } finally {
      await c.stop();
    }
    const again = await Cluster.start({ dir });
    try {
      assert.deepEqual(again.members().map((m) => m.id).sort(), [1, 2, 4]);
      assert.equal(await again.get('before'), '1');
      assert.equal(await again.get(key(119)), 'v119');
    } finally {
      await again.stop();
    }
  });
});

test('membership calls check their options and members, and stop() ends them with CLUSTER_STOPPED', async () => {
  const isCode = (code: string) => (e: unknown) => e instanceof ClusterError && e.code === code;
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3, storage: 'lmdb' });
    let stopped = false;
    try {
      // Replacing a node that is not a member would only add a voter.
      await assert.rejects(c.replaceNode(9, 4), (e: unknown) => isCode(ErrorCode.INVALID_ARGUMENT)(e) && /node 9 is not a member/.test((e as Error).message));
      await assert.rejects(c.addLearner(4, { timeoutMs: 'abc' as unknown as number }), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.addLearner(4, { timeout: 10 } as never), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.promote(4, { maxLagEntries: -1 }), isCode(ErrorCode.INVALID_ARGUMENT));
      assert.deepEqual(c.members().map((m) => m.id), [1, 2, 3]);
      // Other calls: a misspelt get option, and setLinkFaults() with nothing (no faults).
      await assert.rejects(c.get('a', { consitency: 'stale' } as never), isCode(ErrorCode.INVALID_ARGUMENT));
      await c.setLinkFaults();
      // stop() while a learner's worker starts: the call ends with CLUSTER_STOPPED at once, its worker too.
      const adding = c.addLearner(4).then(() => 'resolved', (e: unknown) => (isCode(ErrorCode.CLUSTER_STOPPED)(e) ? 'stopped' : String(e)));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await c.stop();
      stopped = true;
      assert.equal(await adding, 'stopped');
      assert.ok(Date.now() - t0 < 10_000, `settled ${Date.now() - t0} ms after stop()`);
      await assert.rejects(c.resetMetrics(), isCode(ErrorCode.CLUSTER_STOPPED));
    } finally {
      if (!stopped) await c.stop();
    }
  });
});
