// A node that missed more writes than the log keeps catches up by snapshot (issue 5 §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { key, waitFor, withCluster } from './helpers.js';

const WRITES = Number(process.env.SNAPSHOT_TEST_WRITES ?? 100_000);

test(`a node restarted after missing ${WRITES} writes catches up by snapshot`, async () => {
  await withCluster({ nodes: 3, snapshotEveryEntries: 20 }, async (c) => {
    const lagging = c.members().map((m) => m.id).find((id) => id !== c.leader())!;
    await c.crash(lagging);
    const inFlight = 512;
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < WRITES) {
        const i = next++;
        await c.put(key(i), `v${i}`);
      }
    }));
    await c.restart(lagging);
    await waitFor('the lagging node has the last write', async () => (await c.get(key(WRITES - 1), { consistency: 'stale', node: lagging })) === `v${WRITES - 1}` || undefined, 60_000);
    // The installed state is readable (stale reads go to the state environment) a moment before the node has
    // reset its log and counted the install, so wait for the counters rather than reading them once.
    let sent = 0;
    let received = 0;
    await waitFor('the lagging node counts the snapshot it installed', async () => {
      const m = await c.metrics();
      sent = m.nodes.reduce((acc, n) => acc + (n.counters.snapshotsSent ?? 0), 0);
      received = m.nodes.find((n) => n.id === lagging)!.counters.snapshotsReceived ?? 0;
      return (sent >= 1 && received >= 1) || undefined;
    }, 10_000).catch(() => undefined);
    assert.ok(sent >= 1, `a snapshot was streamed (sent ${sent})`);
    assert.ok(received >= 1, `the lagging node installed a snapshot (received ${received})`);
    for (const i of [0, 1, Math.floor(WRITES / 2), WRITES - 2]) {
      assert.equal(await c.get(key(i), { consistency: 'stale', node: lagging }), `v${i}`);
    }
  });
});

test('the control plane takes a snapshot point on request; a node that then missed writes catches up by snapshot', async () => {
  await withCluster({ nodes: 3, snapshotEveryEntries: 0 }, async (c) => {
    const lagging = c.members().map((m) => m.id).find((id) => id !== c.leader())!;
    await c.crash(lagging);
    for (let i = 0; i < 50; i++) await c.put(key(i), `v${i}`);
    const points = await c.snapshot();
    assert.equal(points.length, 2);
    for (const p of points) assert.ok(p.snapshotIndex >= 50, `node ${p.id} compacted up to ${p.snapshotIndex}`);
    await c.restart(lagging);
    await waitFor('the lagging node has every write', async () => (await c.get(key(49), { consistency: 'stale', node: lagging })) === 'v49' || undefined, 30_000);
    // metrics() reports a node whose control call failed (a busy machine) with empty counters: ask again.
    const installed = await waitFor('the lagging node reports the snapshot it installed', async () => {
      const m = await c.metrics();
      return (m.nodes.find((n) => n.id === lagging)?.counters.snapshotsReceived ?? 0) >= 1 || undefined;
    }, 10_000).catch(() => false);
    assert.ok(installed, 'it installed a snapshot');
  });
});

test('a follower stalled for a moment catches up from the log: the leader holds its compactions (up to two points due) rather than send it the state', async () => {
  await withCluster({ nodes: 3, storage: 'memory', snapshotEveryEntries: 50 }, async (c) => {
    for (let i = 0; i < 60; i++) await c.put(key(i), `a${i}`);
    const leader = c.leader()!;
    const stalled = c.members().map((m) => m.id).find((id) => id !== leader)!;
    // 200 entries while its thread is blocked. The leader sends it the first 64 (maxInflightMsgs, one entry each)
    // and holds the rest in its log, where points come due every 50 entries: compacted at once, the log would
    // start past what it has by the end (a snapshot, as before); held (at most two), the log still has them.
    const stall = c.stallNodeForTest(stalled, 3_000);
    for (let i = 0; i < 200; i++) await c.put(key(1000 + i), `b${i}`);
    await stall;
    await waitFor('the stalled node has the last write', async () => (await c.get(key(1199), { consistency: 'stale', node: stalled })) === 'b199' || undefined);
    const m = await c.metrics();
    const l = m.nodes.find((n) => n.id === leader)!.counters;
    assert.equal(l.snapshotsSent, 0, JSON.stringify(l));
    assert.ok(l.snapshotPointsHeld! >= 1, `the leader held a point: ${JSON.stringify(l)}`);
    // Caught up, nothing holds the log any more: the points held and the next ones due are compacted at.
    const caughtUp = (await c.status()).find((x) => x.id === leader)!.lastIndex!;
    for (let i = 0; i < 150; i++) await c.put(key(2000 + i), `c${i}`);
    const s = (await c.status()).find((x) => x.id === leader)!;
    assert.ok(s.snapshotIndex! >= caughtUp, `compacted to ${s.snapshotIndex}, past ${caughtUp}`);
  });
});
