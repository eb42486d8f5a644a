// Cluster.checkReplicas: every replica digests its state at one entry, under load, and a replica whose state
// differs (here: a record changed behind its back, as a damaged page of state.mdb would, which nothing else sees)
// is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open } from 'lmdb';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { decodeRecord, encodeRecord } from '../../src/storage/codec.js';
import { STATE_FILE } from '../../src/storage/lmdb.js';
import { withTempDir } from './helpers.js';

test('checkReplicas: the replicas agree under load; a crashed one is missing; one whose state was changed on disk differs', { timeout: 90_000 }, async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      for (let i = 0; i < 200; i++) await c.put(`k${i}`, `v${i}`, i % 10 === 0 ? { ttlMs: 600_000 } : undefined);
      // Writes keep going while it runs: the digests are of one entry's state on each replica all the same.
      let writing = true;
      const load = (async () => {
        for (let i = 0; writing && i < 100_000; i++) await c.put(`w${i % 50}`, `x${i}`);
      })();
      const ok = await c.checkReplicas();
      writing = false;
      await load;
      assert.equal(ok.consistent, true, JSON.stringify(ok));
      assert.deepEqual(ok.nodes.map((n) => n.status), ['match', 'match', 'match']);
      assert.ok((ok.keys ?? 0) >= 200 && ok.index > 200, JSON.stringify(ok));

      const [f] = c.members().map((m) => m.id).filter((id) => id !== c.leader());
      await c.crash(f!);
      for (const bad of [{ timeout: 1 }, 5, 'x', [], null, { timeoutMs: -1 }]) {
        await assert.rejects(c.checkReplicas(bad as never), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT, JSON.stringify(bad));
      }
      const down = await c.checkReplicas({ timeoutMs: 300 });
      assert.equal(down.consistent, false);
      assert.equal(down.nodes.find((n) => n.id === f)?.status, 'missing');
      await c.restart(f!);
      assert.equal((await c.checkReplicas()).consistent, true, 'back, it applies the entries it missed and agrees');
    } finally {
      await c.stop();
    }

    // Node 3's record of k1 changed in its state environment, as a damaged page would: nothing checks the state's records.
    const env = open({ path: join(dir, 'node-3', STATE_FILE), maxDbs: 16, noSync: true, useWritemap: true, compression: false, encoding: 'binary' });
    let changed = 0;
    for (const name of ['kv0', 'kv1']) {
      const db = env.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary', compression: false });
      const key = Buffer.from('k1');
      const b = db.getBinary(key);
      if (b === undefined) continue;
      await db.put(key, encodeRecord({ ...decodeRecord(b), value: 'tampered' }));
      changed++;
    }
    await env.close();
    assert.equal(changed, 1);

    const again = await Cluster.start({ dir, nodes: 3 });
    try {
      assert.equal(await again.get('k1', { consistency: 'stale', node: 3 }), 'tampered', 'the change is there');
      const bad = await again.checkReplicas();
      assert.equal(bad.consistent, false);
      assert.deepEqual(bad.nodes.map((n) => n.status), ['match', 'match', 'differs']);
      assert.equal(bad.nodes[2]!.keys, bad.keys, 'the same keys, one value differs');
    } finally {
      await again.stop();
    }
  });
});

test('checkReplicas: a memory cluster agrees; timeoutMs is checked', { timeout: 30_000 }, async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    await c.put('a', '1');
    const r = await c.checkReplicas();
    assert.equal(r.consistent, true);
    assert.equal(r.keys, 1);
    await assert.rejects(c.checkReplicas({ timeoutMs: -1 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  } finally {
    await c.stop();
  }
});
