// The snapshot sender (src/node/snapshots.ts) with a manual clock: a stream whose acknowledgements stop coming
// fails after ACK_STALL_MS, not after the whole install timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ACK_STALL_MS, SnapshotSender } from '../../src/node/snapshots.js';
import type { SnapshotRequest } from '../../src/raft/types.js';
import type { PeerFrame } from '../../src/transport/types.js';

interface Timer {
  at: number;
  fn: () => void;
}

/** Timers that fire only when the test moves the clock. */
class ManualClock {
  now = 0;
  private readonly timers = new Set<Timer>();
  setTimeout = (fn: () => void, ms: number): Timer => {
    const t = { at: this.now + ms, fn };
    this.timers.add(t);
    return t;
  };
  clearTimeout = (t: unknown): void => void this.timers.delete(t as Timer);
  async advance(ms: number): Promise<void> {
    this.now += ms;
    for (const t of [...this.timers]) {
      if (t.at <= this.now && this.timers.delete(t)) t.fn();
    }
    for (let i = 0; i < 20; i++) await Promise.resolve(); // let the sender's awaits run
  }
}

const meta = { index: 10, term: 2, membership: { voters: [1, 2] } };
const request: SnapshotRequest = { type: 'snapshot', term: 2, from: 1, to: 2, snapshot: meta } as SnapshotRequest;

function sender(clock: ManualClock): { s: SnapshotSender; frames: PeerFrame[]; reports: boolean[] } {
  const frames: PeerFrame[] = [];
  const reports: boolean[] = [];
  const transport = { sendFrame: (_to: number, f: PeerFrame) => void frames.push(f) } as never;
  const s = new SnapshotSender(1, transport, clock as never, { snapshotInstallTimeoutMs: 30_000 }, pino({ level: 'silent' }), {
    build: async () => ({
      meta,
      chunks: (async function* () {
        for (let i = 0; i < 6; i++) yield new Uint8Array([i]);
      })(),
    }),
    report: (_to, ok) => void reports.push(ok),
  });
  return { s, frames, reports };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

/** A sender on a manual clock that has sent the begin and its first window of chunks to node 2. */
async function streaming(): Promise<ReturnType<typeof sender> & { clock: ManualClock; sid: number }> {
  const clock = new ManualClock();
  const parts = sender(clock);
  parts.s.send(request);
  await settle();
  return { ...parts, clock, sid: (parts.frames[0] as { sid: number }).sid };
}

test('a snapshot stream whose acknowledgements stop fails after ACK_STALL_MS (the core then sends again), not after the install timeout', async () => {
  const { clock, s, frames, reports, sid } = await streaming();
  assert.deepEqual(frames.map((f) => f.k), ['snap-begin', 'snap-chunk', 'snap-chunk', 'snap-chunk', 'snap-chunk'], 'the begin and a window of chunks');
  s.onFrame(2, { k: 'snap-ack', sid, from: 2, seq: 0 } as PeerFrame); // then nothing more: an ack or a chunk was lost
  await settle();
  await clock.advance(ACK_STALL_MS - 1);
  assert.deepEqual(reports, [], 'still waiting');
  await clock.advance(1);
  await settle();
  assert.deepEqual(reports, [false]);
  assert.equal(frames[frames.length - 1]!.k, 'snap-abort');
  assert.match(String((frames[frames.length - 1] as { reason: unknown }).reason), /no acknowledgement within 5000 ms/);
  assert.deepEqual(s.active(), [], 'the next snapshot message starts a new stream');
});

test('a snapshot stream acknowledged in time completes, however long it takes as a whole', async () => {
  const { clock, s, frames, reports, sid } = await streaming();
  for (let seq = 0; seq < 6; seq++) {
    await clock.advance(ACK_STALL_MS - 1); // each ack just in time: the stream takes several stall periods
    s.onFrame(2, { k: 'snap-ack', sid, from: 2, seq } as PeerFrame);
    await settle();
  }
  assert.deepEqual(reports, [true]);
  assert.equal(frames[frames.length - 1]!.k, 'snap-end');
});
