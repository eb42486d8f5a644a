// Reopening a directory (issue #10 item 3): the voters are fixed when a node's store is created, so a
// directory may only be reopened with the `nodes` it was created with. Reopened with fewer nodes, a
// lone node elected itself and answered a linearizable read without an acknowledged write; reopened
// with more, the logs diverged. Both must be refused at once with MEMBERSHIP_MISMATCH. And a directory
// is used by one cluster at a time (issue #10 item 5): a second one in the same process gets DIR_LOCKED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { LmdbStore, StorageError, StorageErrorCode } from '../../src/storage/index.js';
import { withTempDir } from './helpers.js';
import { open } from 'lmdb';
import { CLUSTER_FILE, CREATING_FILE } from '../../src/cluster/manifest.js';

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ClusterError, `a ClusterError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}
const isMismatch = isCode(ErrorCode.MEMBERSHIP_MISMATCH);

async function startWrite(dir: string, nodes: number, key: string, value: string): Promise<void> {
  const c = await Cluster.start({ dir, nodes });
  try {
    await c.put(key, value);
  } finally {
    await c.stop();
  }
}

test('membership: a directory of 3 nodes reopened with nodes: 1 is refused, and reopens with nodes: 3 holding every write', async () => {
  await withTempDir(async (dir) => {
    await startWrite(dir, 3, 'z', 'acknowledged');
    const t0 = Date.now();
    await assert.rejects(Cluster.start({ dir, nodes: 1 }), isMismatch);
    assert.ok(Date.now() - t0 < 5_000, 'refused at once, not after startTimeoutMs');
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      assert.equal(await c.get('z'), 'acknowledged');
    } finally {
      await c.stop();
    }
  });
});

test('membership: a directory of 1 node reopened with nodes: 3 (node-2, node-3 missing) is refused and left untouched', async () => {
  await withTempDir(async (dir) => {
    await startWrite(dir, 1, 'a', '1');
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), isMismatch);
    assert.equal(existsSync(join(dir, 'node-2')), false, 'no folder was created for the refused nodes');
    assert.equal(existsSync(join(dir, 'node-3')), false);
    const c = await Cluster.start({ dir, nodes: 1 });
    try {
      assert.equal(await c.get('a'), '1');
    } finally {
      await c.stop();
    }
  });
});

test('a node whose store folder is gone (a disk replaced) stays down while a majority starts; with a majority gone the reopen is refused and left untouched', { timeout: 90_000 }, async () => {
  await withTempDir(async (dir) => {
    await startWrite(dir, 3, 'z', 'acknowledged');
    rmSync(join(dir, 'node-2'), { recursive: true });
    for (const opts of [{ dir, nodes: 3 }, { dir }]) {
      const c = await Cluster.start(opts); // without nodes: the highest node found, 3, is adopted
      try {
        const down = (await c.status()).find((s) => s.id === 2)!;
        assert.equal(down.alive, false, 'node 2 did not come back empty under its id');
        assert.match(down.error ?? '', /^CORRUPT: .*node-2\/data\.mdb is missing or empty.*vote twice in a term$/, 'the message, without a stack trace');
        assert.equal(await c.get('z'), 'acknowledged');
      } finally {
        await c.stop();
      }
    }
    rmSync(join(dir, 'node-2'), { recursive: true, force: true });
    rmSync(join(dir, 'node-3'), { recursive: true });
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), (e: unknown) => {
      isMismatch(e);
      assert.match((e as Error).message, /holds the stores of nodes \[1\], not a majority of the voters \[1, 2, 3\]/);
      return true;
    });
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('node-')), ['node-1'], 'no folder was made for the missing nodes');
  });
  await withTempDir(async (dir) => {
    // The highest node's store gone, reopened without nodes: nodes 1 and 2 adopted, which their stores refuse.
    await startWrite(dir, 3, 'z', 'acknowledged');
    rmSync(join(dir, 'node-3'), { recursive: true });
    await assert.rejects(Cluster.start({ dir }), (e: unknown) => {
      isMismatch(e);
      assert.match((e as Error).message, /created for voters \[1, 2, 3\], opened for \[1, 2\]/);
      return true;
    });
    assert.equal(existsSync(join(dir, 'node-3')), false);
    const c = await Cluster.start({ dir, nodes: 3 });
    try {
      assert.equal((await c.status()).find((s) => s.id === 3)?.alive, false);
      assert.equal(await c.get('z'), 'acknowledged');
      await c.replaceNode(3, 4); // a membership manifest from here on
    } finally {
      await c.stop();
    }
    rmSync(join(dir, 'node-4'), { recursive: true });
    const m = await Cluster.start({ dir });
    try {
      assert.equal((await m.status()).find((s) => s.id === 4)?.alive, false, 'with a manifest too');
      assert.equal(await m.get('z'), 'acknowledged');
    } finally {
      await m.stop();
    }
  });
  await withTempDir(async (dir) => {
    // Two stores of a 2-node cluster are a majority of 3, but they refuse the voters [1, 2, 3]: the folder made
    // for node 3 goes again.
    await startWrite(dir, 2, 'a', '1');
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), isMismatch);
    assert.equal(existsSync(join(dir, 'node-3')), false, 'the folder made for node 3 is removed');
  });
});

test('a first start that failed part way (node 3 could not start) is begun again from nothing: every node healthy, not node 3 down for good', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    // Node 3's folder is held by a live process: nodes 1 and 2 create their stores, node 3 fails with DIR_LOCKED.
    mkdirSync(join(dir, 'node-3'));
    writeFileSync(join(dir, 'node-3', 'threadraft.lock'), `${process.ppid}\n`);
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), (e: unknown) => {
      isCode(ErrorCode.DIR_LOCKED)(e);
      assert.match((e as Error).message, /node 3 failed: .*node-3 is held by live process/);
      return true;
    });
    assert.ok(existsSync(join(dir, 'node-1', 'data.mdb')), 'node 1 had created its store');
    assert.ok(existsSync(join(dir, CREATING_FILE)), 'the creation is marked as not complete');
    rmSync(join(dir, 'node-3', 'threadraft.lock'));
    for (let round = 0; round < 2; round++) {
      const c = await Cluster.start({ dir, nodes: 3 });
      try {
        assert.deepEqual((await c.status()).map((s) => [s.id, s.alive, s.error]), [[1, true, undefined], [2, true, undefined], [3, true, undefined]]);
        assert.equal(existsSync(join(dir, CREATING_FILE)), false, 'complete once every node started');
        if (round === 0) await c.put('k', 'acknowledged');
        assert.equal(await c.get('k'), 'acknowledged', 'a complete directory is reopened as it is, never begun again');
      } finally {
        await c.stop();
      }
    }
  });
});

test('storage: \'memory\' on the directory of an LMDB cluster is INVALID_ARGUMENT (it would start empty, the data looking gone)', async () => {
  await withTempDir(async (dir) => {
    await assert.doesNotReject(async () => (await Cluster.start({ dir, storage: 'memory' })).stop(), 'an empty dir: allowed, and ignored');
    await startWrite(dir, 3, 'k', 'v');
    await assert.rejects(Cluster.start({ dir, storage: 'memory' }), (e: unknown) => {
      isCode(ErrorCode.INVALID_ARGUMENT)(e);
      assert.match((e as Error).message, /holds an LMDB cluster.*storage: 'lmdb'/);
      return true;
    });
  });
});

test('codec: a directory reopened with another codec is CODEC_MISMATCH, nothing changed; with its own it holds every write', async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3, codec: 'json' });
    try {
      await c.put('cart', { items: 2 });
    } finally {
      await c.stop();
    }
    for (const codec of [undefined, 'raw', 'msgpack'] as const) {
      await assert.rejects(Cluster.start({ dir, ...(codec ? { codec } : {}) }), (e: unknown) => {
        isCode(ErrorCode.CODEC_MISMATCH)(e);
        assert.match((e as Error).message, new RegExp(`created with codec: 'json', opened with codec: '${codec ?? 'raw'}'`));
        return true;
      });
    }
    const again = await Cluster.start({ dir, codec: 'json' });
    try {
      assert.deepEqual(await again.get('cart'), { items: 2 });
    } finally {
      await again.stop();
    }
    rmSync(join(dir, CLUSTER_FILE)); // a directory from before the codec was recorded: any codec, as before
    const raw = await Cluster.start({ dir });
    try {
      assert.equal(await raw.get('cart'), '{"items":2}');
    } finally {
      await raw.stop();
    }
  });
});

test('membership: node stores that recorded other voters are refused (node folders copied from a 1-node cluster)', async () => {
  await withTempDir(async (dir) => {
    await startWrite(dir, 1, 'a', '1');
    for (const id of [2, 3]) {
      cpSync(join(dir, 'node-1'), join(dir, `node-${id}`), { recursive: true });
      for (const f of readdirSync(join(dir, `node-${id}`))) if (f.includes('lock')) rmSync(join(dir, `node-${id}`, f));
    }
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), isMismatch);
  });
});

test('membership: an LMDB store records its voters when created and refuses to open with others (StorageError MEMBERSHIP_MISMATCH)', async () => {
  await withTempDir(async (dir) => {
    const s = LmdbStore.open({ dir, membership: { voters: [1, 2, 3] } });
    s.close();
    assert.throws(
      () => LmdbStore.open({ dir, membership: { voters: [1] } }),
      (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.MEMBERSHIP_MISMATCH,
    );
    const again = LmdbStore.open({ dir, membership: { voters: [3, 2, 1] } }); // the same set, in any order
    assert.deepEqual(again.appliedState().membership.voters, [1, 2, 3]);
    again.close();
  });
});

test('one directory, one cluster: a second Cluster.start on the same dir in this process is refused with DIR_LOCKED, the first keeps working', async () => {
  await withTempDir(async (dir) => {
    // A lock left by a dead process is stale and taken over.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'threadraft-cluster.lock'), `${dead} 0 stale\n`);
    const a = await Cluster.start({ dir, nodes: 3 });
    try {
      await a.put('k', 'v1');
      const t0 = Date.now();
      await assert.rejects(Cluster.start({ dir, nodes: 3 }), (e: unknown) => {
        isCode(ErrorCode.DIR_LOCKED)(e);
        assert.match((e as Error).message, /^\/.* is in use by another cluster of this process/, 'the code is not repeated in the message');
        return true;
      });
      const link = join(dir, '..', `${basename(dir)}-link`);
      symlinkSync(dir, link);
      try {
        await assert.rejects(Cluster.start({ dir: link, nodes: 3 }), isCode(ErrorCode.DIR_LOCKED), 'the same directory by another path');
      } finally {
        rmSync(link);
      }
      await assert.rejects(Cluster.start({ dir, nodes: 3, storage: 'lmdb', pool: 'inline' }), isCode(ErrorCode.DIR_LOCKED));
      assert.ok(Date.now() - t0 < 5_000, 'refused at once');
      await a.put('k', 'v2');
      assert.equal(await a.get('k'), 'v2');
      assert.equal(a.peek('k'), 'v2', "the first cluster's own reader still opens its directories");
    } finally {
      await a.stop();
    }
    const b = await Cluster.start({ dir, nodes: 3 }); // released by stop()
    try {
      assert.equal(await b.get('k'), 'v2');
    } finally {
      await b.stop();
    }
  });
});

test('cache bounds: a directory reopened with other maxKeys/maxBytes is refused with BOUNDS_MISMATCH; with the same ones it holds every write', async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3, maxKeys: 10 });
    await c.put('a', '1');
    await c.stop();
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), isCode(ErrorCode.BOUNDS_MISMATCH));
    await assert.rejects(Cluster.start({ dir, nodes: 3, maxKeys: 20 }), isCode(ErrorCode.BOUNDS_MISMATCH));
    // The refused opens left no "state open on this boot" mark, which would have the next boot rebuild the state.
    for (const id of [1, 2, 3]) {
      const env = open({ path: join(dir, `node-${id}`, 'data.mdb'), maxDbs: 4, readOnly: true });
      try {
        assert.equal(env.openDB({ name: 'meta', encoding: 'binary' }).getBinary('stateOpen'), undefined, `node ${id}`);
      } finally {
        await env.close();
      }
    }
    const again = await Cluster.start({ dir, nodes: 3, maxKeys: 10 });
    try {
      assert.equal(await again.get('a'), '1');
    } finally {
      await again.stop();
    }
  });
});
