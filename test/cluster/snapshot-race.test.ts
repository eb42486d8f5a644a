// The snapshot hand-off (issue #10 item 6): a received snapshot is stepped into the core, and the
// next Ready installs it with take(meta). A new stream, or the install timeout, between delivery and
// take must not take the delivered data away (the host would throw and the node die), and take(meta)
// must never hand over data of another snapshot than `meta`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SnapshotReceiverSlot } from '../../src/node/snapshots.js';
import { realRuntime } from '../../src/node/runtime.js';
import type { Message, SnapshotMeta } from '../../src/raft/types.js';
import type { PeerFrame, Transport } from '../../src/transport/types.js';
import type { SnapshotReceiver } from '../../src/adaptor/index.js';

const LEADER = 2;

interface FakeReceiver extends SnapshotReceiver {
  chunks: Uint8Array[];
  aborted: boolean;
}

function meta(index: number, term: number): SnapshotMeta {
  return { index, term, membership: { voters: [1, 2, 3] } };
}

function snapshotMsg(m: SnapshotMeta): Message {
  return { type: 'snapshot', from: LEADER, to: 1, term: m.term, snapshot: m } as unknown as Message;
}

/** A slot with a fake transport and storage: records frames sent, receivers opened, messages delivered. */
function harness(installTimeoutMs = 30_000) {
  const sent: PeerFrame[] = [];
  const receivers: FakeReceiver[] = [];
  const delivered: Message[] = [];
  let round = 0;
  const transport: Transport = {
    sendRaft: () => undefined,
    sendFrame: (_to, f) => void sent.push(f),
    onFrame: () => undefined,
    close: () => undefined,
  };
  const slot = new SnapshotReceiverSlot(1, transport, realRuntime, { snapshotInstallTimeoutMs: installTimeoutMs }, pino({ enabled: false }), {
    begin: async () => {
      const r: FakeReceiver = {
        id: receivers.length + 1,
        chunks: [],
        aborted: false,
        write: async (c) => void r.chunks.push(c),
        // A stream is whole when it holds chunks 0..n-1 of n in order (each chunk is [sid, seq, n]).
        check: async () => {
          const n = r.chunks[0]?.[2] ?? 0;
          if (n === 0 || r.chunks.length !== n || r.chunks.some((c, i) => c[1] !== i)) throw new Error('snapshot stream is incomplete');
        },
        abort: async () => void (r.aborted = true),
      };
      receivers.push(r);
      return r;
    },
    deliver: (m) => void delivered.push(m),
    round: () => round,
    leader: () => LEADER,
  });
  const stream = (sid: number, m: SnapshotMeta, chunks = 1): void => {
    slot.onFrame(LEADER, { k: 'snap-begin', sid, from: LEADER });
    for (let seq = 0; seq < chunks; seq++) slot.onFrame(LEADER, { k: 'snap-chunk', sid, from: LEADER, seq, data: new Uint8Array([sid, seq, chunks]) });
    slot.onFrame(LEADER, { k: 'snap-end', sid, from: LEADER, msg: snapshotMsg(m) });
  };
  /** The host's Ready: the next round; afterReady once the Ready (and any install) is done. */
  const ready = (): number => ++round;
  return { slot, sent, receivers, delivered, stream, ready };
}

const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('snapshot hand-off: a new stream between delivery and install does not take the delivered snapshot away', async () => {
  const h = harness();
  const m1 = meta(100, 3);
  const m2 = meta(200, 4);
  h.stream(1, m1, 2);
  await settle();
  assert.equal(h.delivered.length, 1, 'the first snapshot was stepped into the core');
  // The leader starts another stream before the core's next Ready installs the first one.
  h.stream(2, m2, 1);
  await settle();
  const r = h.ready();
  const got = await h.slot.take(m1);
  assert.ok(got, 'take(m1) returns the delivered receiver (before the fix: undefined, and the host threw)');
  assert.equal(got.id, 1);
  assert.equal((got as FakeReceiver).aborted, false, 'the delivered receiver was not aborted');
  assert.deepEqual((got as FakeReceiver).chunks.map((c) => [...c]), [[1, 0, 2], [1, 1, 2]]);
  assert.equal(h.receivers.length, 1, 'the second stream opens no storage receive until the first is installed');
  h.slot.afterReady(r);
  await settle();
  // Now the second stream proceeds and is delivered with its own metadata.
  assert.equal(h.receivers.length, 2);
  assert.equal(h.delivered.length, 2);
  assert.equal(await h.slot.take(m1), undefined, 'take(m1) never hands over the data of m2');
  const got2 = await h.slot.take(m2);
  assert.equal(got2?.id, 2);
  h.slot.close();
});

test('snapshot hand-off: take(meta) returns nothing for a delivered snapshot with other metadata', async () => {
  const h = harness();
  h.stream(1, meta(100, 3));
  await settle();
  h.ready();
  assert.equal(await h.slot.take(meta(100, 2)), undefined, 'another term');
  assert.equal(await h.slot.take(meta(101, 3)), undefined, 'another index');
  assert.equal((await h.slot.take(meta(100, 3)))?.id, 1);
  h.slot.close();
});

test('snapshot hand-off: the install timeout does not discard a delivered snapshot the core is installing', async () => {
  const h = harness(15);
  const m1 = meta(50, 2);
  h.stream(1, m1);
  await settle(5);
  assert.equal(h.delivered.length, 1);
  await settle(40); // past the install timeout, before the Ready
  h.ready();
  const got = await h.slot.take(m1);
  assert.equal(got?.id, 1, 'the delivered snapshot is still there (before the fix: aborted by the timer)');
  assert.equal((got as FakeReceiver).aborted, false);
  h.slot.close();
});

test('snapshot hand-off: a delivered snapshot the core did not install is discarded after the next Ready, and the next stream proceeds', async () => {
  const h = harness();
  h.stream(1, meta(100, 3));
  await settle();
  h.stream(2, meta(120, 3));
  await settle();
  assert.equal(h.receivers.length, 1);
  h.slot.afterReady(h.ready()); // the core rejected the first one (stale): nothing taken
  await settle();
  assert.equal(h.receivers[0]!.aborted, true, 'the rejected receive was aborted');
  assert.equal(h.receivers.length, 2, 'the second stream went on');
  assert.equal((await h.slot.take(meta(120, 3)))?.id, 2);
  h.slot.close();
});

test('snapshot receive: a repeated chunk is ignored and the stream completes', async () => {
  const h = harness();
  const m = meta(100, 3);
  const chunk = (seq: number): PeerFrame => ({ k: 'snap-chunk', sid: 7, from: LEADER, seq, data: new Uint8Array([7, seq, 3]) });
  h.slot.onFrame(LEADER, { k: 'snap-begin', sid: 7, from: LEADER });
  for (const seq of [0, 0, 1, 0, 2, 1]) h.slot.onFrame(LEADER, chunk(seq));
  h.slot.onFrame(LEADER, { k: 'snap-end', sid: 7, from: LEADER, msg: snapshotMsg(m) });
  await settle();
  assert.equal(h.delivered.length, 1, 'delivered (before the fix: aborted as out of order at the second chunk 0)');
  assert.ok(!h.sent.some((f) => f.k === 'snap-abort'));
  h.ready();
  const got = await h.slot.take(m);
  assert.deepEqual((got as FakeReceiver).chunks.map((c) => c[1]), [0, 1, 2]);
  h.slot.close();
});

test('snapshot receive: an end with chunks missing (a repeated begin and end of a finished session) is aborted, never stepped into the core', async () => {
  const h = harness();
  const m = meta(85, 3);
  // Simulation seed 50979: the session's frames arrive again after it was aborted: begin, chunk 0 of 4, end.
  h.slot.onFrame(LEADER, { k: 'snap-begin', sid: 4, from: LEADER });
  h.slot.onFrame(LEADER, { k: 'snap-chunk', sid: 4, from: LEADER, seq: 0, data: new Uint8Array([4, 0, 4]) });
  h.slot.onFrame(LEADER, { k: 'snap-end', sid: 4, from: LEADER, msg: snapshotMsg(m) });
  await settle();
  assert.equal(h.delivered.length, 0, 'not delivered (before the fix: delivered, and the install failed the node)');
  assert.equal(h.receivers[0]!.aborted, true);
  assert.ok(h.sent.some((f) => f.k === 'snap-abort' && f.sid === 4), 'the sender is told');
  // The next stream goes through.
  h.stream(5, m, 2);
  await settle();
  assert.equal(h.delivered.length, 1);
  h.ready();
  assert.equal((await h.slot.take(m))?.id, 2);
  h.slot.close();
});
