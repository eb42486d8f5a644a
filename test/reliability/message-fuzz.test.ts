// Bad messages never crash a node or lose data (issue 7 §4): malformed, truncated, stale, duplicated
// and hostile frames are injected into the receive path of live nodes while clients write; the nodes
// drop them, count them, and keep serving; every acknowledged write is still there afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cluster } from '../../src/index.js';
import { decodeFrame, encodeFrame } from '../../src/transport/port.js';
import type { PeerFrame } from '../../src/transport/types.js';

const hostileNumber = fc.oneof(
  fc.integer({ min: -5, max: 50 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(2 ** 53 + 2),
  fc.constant(-1),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.double(),
  fc.string(),
  fc.constant(null),
);
const nodeId = fc.oneof(fc.constantFrom(1, 2, 3), fc.constantFrom(0, 4, 99, -1), hostileNumber);
const entry = fc.record({ term: hostileNumber, index: hostileNumber, type: fc.oneof(fc.constantFrom(0, 1), hostileNumber), data: fc.oneof(fc.uint8Array({ maxLength: 32 }), fc.string(), fc.constant(null)) });
const message = fc.record({
  type: fc.oneof(fc.constantFrom('vote', 'vote-response', 'append', 'append-response', 'heartbeat', 'heartbeat-response', 'snapshot', 'timeout-now'), fc.string()),
  term: hostileNumber,
  from: nodeId,
  to: nodeId,
  preVote: fc.oneof(fc.boolean(), hostileNumber),
  granted: fc.oneof(fc.boolean(), hostileNumber),
  success: fc.oneof(fc.boolean(), hostileNumber),
  transfer: fc.boolean(),
  lastLogIndex: hostileNumber,
  lastLogTerm: hostileNumber,
  prevLogIndex: hostileNumber,
  prevLogTerm: hostileNumber,
  commit: hostileNumber,
  index: hostileNumber,
  conflictTerm: hostileNumber,
  conflictIndex: hostileNumber,
  readRound: hostileNumber,
  lastIndex: hostileNumber,
  entries: fc.oneof(fc.array(entry, { maxLength: 4 }), fc.constant(null), fc.string()),
  snapshot: fc.oneof(fc.record({ index: hostileNumber, term: hostileNumber, membership: fc.oneof(fc.record({ voters: fc.array(nodeId, { maxLength: 5 }) }), fc.constant(null)) }), fc.constant(null)),
}, { requiredKeys: ['type', 'term', 'from', 'to'] });

const frame = fc.oneof(
  fc.array(message, { minLength: 1, maxLength: 5 }).map((msgs) => encodeFrame({ k: 'raft', msgs } as unknown as PeerFrame)),
  fc.record({ k: fc.constantFrom('snap-begin', 'snap-chunk', 'snap-end', 'snap-ack', 'snap-abort', 'nonsense'), sid: hostileNumber, from: nodeId, seq: hostileNumber, data: fc.uint8Array({ maxLength: 64 }), msg: message, reason: fc.string() })
    .map((f) => encodeFrame(f as unknown as PeerFrame)),
  fc.uint8Array({ maxLength: 200 }), // garbage bytes
  fc.array(message, { minLength: 1, maxLength: 3 }).map((msgs) => encodeFrame({ k: 'raft', msgs } as unknown as PeerFrame).subarray(0, 7).slice()), // truncated
  fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object()), // not bytes at all
);

test('the frame decoder never throws anything but an Error on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeFrame(bytes);
      } catch (err) {
        assert.ok(err instanceof Error);
      }
    }),
    { numRuns: 2000 },
  );
});

test('hostile frames injected into live nodes are dropped and the cluster keeps serving without losing writes', async () => {
  const c = await Cluster.start({ nodes: 3 });
  try {
    const frames = fc.sample(frame, { numRuns: 1500, seed: 42 });
    const acked = new Map<string, string>();
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try {
          await c.put(`w${i}`, `v${i}`);
          acked.set(`w${i}`, `v${i}`);
        } catch {
          // outcome unknown; only acknowledged writes are checked
        }
      }
    })();
    let bad = 0;
    for (let i = 0; i < frames.length; i += 50) {
      const batch = frames.slice(i, i + 50);
      for (const id of [1, 2, 3]) {
        if (!c.members().find((m) => m.id === id)?.alive) continue;
        const from = (id % 3) + 1; // a real peer of `id`: its messages are the ones a node must not trust blindly
        bad = Math.max(bad, await c.injectFramesForTest(id, from, batch));
      }
    }
    // Duplicates and replays of valid traffic are part of normal operation; replay hostile frames too.
    for (const id of [1, 2, 3]) await c.injectFramesForTest(id, 1 + (id % 3), frames.slice(0, 200));
    stop = true;
    await writer;
    assert.ok(bad > 0, 'malformed frames were counted as bad');
    for (const m of c.members()) assert.ok(m.alive, `node ${m.id} is still running`);
    await c.put('after-fuzz', 'ok');
    assert.equal(await c.get('after-fuzz'), 'ok');
    assert.ok(acked.size > 0);
    for (const [k, v] of acked) assert.equal(await c.get(k), v);
    const m = await c.metrics();
    const dropped = m.nodes.reduce((acc, n) => acc + (n.counters.badFrames ?? 0), 0);
    assert.ok(dropped > 0, 'nodes logged and counted the frames they dropped');
  } finally {
    await c.stop();
  }
});
