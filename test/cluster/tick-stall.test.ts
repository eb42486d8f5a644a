// A follower counts the time a stall swallowed before it steps a peer's frame (src/node/host.ts onFrame): the
// tick it hears its leader on starts its stickiness promise (§4.2.3), which the leader's lease relies on. Stepped
// on a tick from before the stall, the heartbeat is followed by the stall's catch-up ticks, and the follower
// campaigns (and would grant votes) one tick after hearing its leader. The real NodeHost on memory storage, with
// a clock and timers the test moves by hand and a transport that records what the node sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { NodeHost } from '../../src/node/host.js';
import { openHostStorage, type HostRuntime, type TimerHandle } from '../../src/node/runtime.js';
import type { NodeOptions } from '../../src/node/config.js';
import type { Message } from '../../src/raft/types.js';
import type { PeerFrame } from '../../src/transport/types.js';

const TICK_MS = 10;
const ELECTION_MAX = 20;

/** Time moves only when the test says; the interval fires only from tick(); immediates run in settle(). */
class HandRuntime implements HostRuntime {
  time = 0;
  private intervals = new Set<{ fn: () => void }>();
  private immediates: Array<() => void> = [];
  now(): number {
    return this.time;
  }
  wallNow(): number {
    return 1_700_000_000_000 + this.time;
  }
  setTimeout(): TimerHandle {
    return {}; // the follower's timers here (snapshot install) never need to fire
  }
  clearTimeout(): void {}
  setInterval(fn: () => void): TimerHandle {
    const h = { fn };
    this.intervals.add(h);
    return h;
  }
  clearInterval(h: TimerHandle): void {
    this.intervals.delete(h as { fn: () => void });
  }
  setImmediate(fn: () => void): void {
    this.immediates.push(fn);
  }
  /** One timer firing `ms` after the current time. */
  async tick(ms: number): Promise<void> {
    this.time += ms;
    for (const h of this.intervals) h.fn();
    await this.settle();
  }
  /** Run the host's queued turns and their storage continuations until it is idle (bounded). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((r) => setImmediate(r));
      const fns = this.immediates.splice(0);
      if (fns.length === 0) return;
      for (const fn of fns) fn();
    }
    throw new Error('the host did not go idle in 100 turns');
  }
}

test('§4.2.3 a follower counts the ticks a stall swallowed before it steps its leader\'s heartbeat: it does not campaign one tick after hearing the leader', async () => {
  const runtime = new HandRuntime();
  const sent: Message[] = [];
  let deliver: ((from: number, frame: PeerFrame) => void) | undefined;
  const opts: NodeOptions = {
    id: 1, voters: [1, 2, 3], dir: '', storage: 'memory', pool: 'inline', sync: true,
    timing: { tickMs: TICK_MS, heartbeatTicks: 2, electionTimeoutMinTicks: 10, electionTimeoutMaxTicks: ELECTION_MAX },
    snapshotEveryEntries: 10_000, snapshotEveryBytes: 1 << 30, snapshotChunkBytes: 1024, snapshotInstallTimeoutMs: 60_000,
    maxInflightMsgs: 4, maxInflightBytes: 1 << 20, maxMsgBytes: 1 << 20, maxApplyBytes: 1 << 20, maxOutstandingReadies: 1,
    maxValueBytes: 1024, instrument: false, logLevel: 'silent', seed: 7,
  };
  const host = await NodeHost.open(opts, {
    runtime,
    transport: {
      sendRaft: (msgs) => void sent.push(...msgs),
      sendFrame: () => undefined,
      onFrame: (h) => void (deliver = h),
      close: () => undefined,
      setFaults: () => undefined,
    },
    openStorage: () => openHostStorage(opts),
    toMain: () => undefined,
    log: pino({ enabled: false }),
  });
  try {
    host.start();
    const heartbeat = (): void => deliver!(2, { k: 'raft', msgs: [{ type: 'heartbeat', from: 2, to: 1, term: 1, commit: 0, readRound: 0 }] });
    await runtime.tick(TICK_MS);
    heartbeat();
    await runtime.settle();
    assert.equal(host.raft.status().leader, 2, 'node 1 follows node 2 after its heartbeat');

    // A stall of 2.5 maximum election timeouts: no timer fires; the leader's next heartbeat is handled first.
    runtime.time += 2.5 * ELECTION_MAX * TICK_MS;
    heartbeat();
    await runtime.settle();
    const before = sent.length;
    await runtime.tick(TICK_MS); // the timer fires once, one tick after the heartbeat
    const votes = sent.slice(before).filter((m) => m.type === 'vote');
    assert.deepEqual(votes, [], 'node 1 campaigned one tick after hearing its leader: the stall\'s ticks were counted after the heartbeat');
    assert.deepEqual([host.raft.status().role, host.raft.status().leader], ['follower', 2]);
  } finally {
    await host.stop();
  }
});
