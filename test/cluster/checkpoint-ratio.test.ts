// A checkpoint copies the whole state file. Taken at every snapshot point, a large state was copied again and again
// for little data written (500 MB of 1 MB values: copied every 64 entries, 8 bytes copied per byte written on each
// node; the disk saturated and leaders changed). A state above 64 MiB is now copied once the data written since the
// last copy is half its size (src/node/host.ts CHECKPOINT_COPY_RATIO); a requested snapshot still copies at once,
// and a restart re-applies the longer log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/index.js';
import { waitFor, withTempDir } from './helpers.js';

const BIG = 1_000_000;
const BIG_KEYS = 72; // 72 MB of values: a state file above 64 MiB
const SMALL = 300;

test('a large state is not copied at every snapshot point; a requested snapshot copies it; a restart reads everything', async () => {
  await withTempDir(async (dir) => {
    const opts = { dir, nodes: 1, sync: false, snapshotEveryEntries: 10 } as const;
    let c = await Cluster.start(opts);
    try {
      for (let i = 0; i < BIG_KEYS; i++) await c.put(`big${i}`, new Uint8Array(BIG).fill(i));
      const counters = async () => (await c.metrics()).nodes[0]!.counters;
      const before = await counters();
      for (let i = 0; i < SMALL; i++) await c.put(`small${i}`, `v${i}`);
      const after = await counters();
      const points = after.snapshotPoints! - before.snapshotPoints!;
      const copies = after.checkpoints! - before.checkpoints!;
      assert.ok(points >= 25, `snapshot points while writing small values: ${points}`);
      // The old rule copied the 72 MB state at each of them.
      assert.ok(copies <= 1, `checkpoints of the large state while writing small values: ${copies} (points ${points})`);
      await c.snapshot();
      // At once, or when a copy under way completes.
      await waitFor('a requested snapshot point copies the state', async () => ((await counters()).checkpoints! > after.checkpoints! ? true : undefined));
      for (let i = SMALL; i < SMALL + 30; i++) await c.put(`small${i}`, `v${i}`);
    } finally {
      await c.stop();
    }
    c = await Cluster.start(opts);
    try {
      for (let i = 0; i < BIG_KEYS; i += 7) assert.ok(Buffer.from((await c.get(`big${i}`)) as Uint8Array).equals(Buffer.alloc(BIG, i)), `big${i}`);
      for (let i = 0; i < SMALL + 30; i++) assert.equal(await c.get(`small${i}`), `v${i}`);
    } finally {
      await c.stop();
    }
  });
});
