// A node counts the time a stall swallowed (src/node/host.ts countElapsed) before it steps a peer's frame: the
// tick it hears its leader on starts its stickiness promise (§4.2.3), which the leader's lease relies on. Stepped
// on a tick from before the stall, the heartbeat is followed by the stall's catch-up ticks, and the follower
// campaigns (and would grant votes) one tick after hearing its leader. And it judges its timeouts only after
// what the stall queued (onTimer): the first timer after a stall counts, the next one acts. The real NodeHost on
// memory storage, with a clock and timers the test moves by hand and a transport that records what the node sends.
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

/** Node 1 of [1, 2, 3] on a HandRuntime; `deliver` hands it a frame from a peer. */
async function openNode(): Promise<{ runtime: HandRuntime; sent: Message[]; deliver: (from: number, msgs: Message[]) => void; host: NodeHost }> {
  const runtime = new HandRuntime();
  const sent: Message[] = [];
  let handler: ((from: number, frame: PeerFrame) => void) | undefined;
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
      onFrame: (h) => void (handler = h),
      close: () => undefined,
      setFaults: () => undefined,
    },
    openStorage: () => openHostStorage(opts),
    toMain: () => undefined,
    log: pino({ enabled: false }),
  });
  host.start();
  return { runtime, sent, deliver: (from, msgs) => handler!(from, { k: 'raft', msgs }), host };
}

const heartbeatFrom2 = (term: number): Message => ({ type: 'heartbeat', from: 2, to: 1, term, commit: 0, readRound: 0 });
/** Votes sent (pre-votes included) from `from` on: a campaign. */
const votesSince = (sent: Message[], from: number): Message[] => sent.slice(from).filter((m) => m.type === 'vote');

test('§4.2.3 a follower counts the ticks a stall swallowed before it steps its leader\'s heartbeat: it does not campaign one tick after hearing the leader', async () => {
  const { runtime, sent, deliver, host } = await openNode();
  try {
    await runtime.tick(TICK_MS);
    deliver(2, [heartbeatFrom2(1)]);
    await runtime.settle();
    assert.equal(host.raft.status().leader, 2, 'node 1 follows node 2 after its heartbeat');

    // A stall of 2.5 maximum election timeouts: no timer fires; the leader's next heartbeat is handled first.
    runtime.time += 2.5 * ELECTION_MAX * TICK_MS;
    deliver(2, [heartbeatFrom2(1)]);
    await runtime.settle();
    const before = sent.length;
    // The timer fires one tick after the heartbeat, and again. (Stepped on a tick from before the stall, the
    // heartbeat leaves the stall's ticks to the first, which finds them late and leaves acting to the second.)
    await runtime.tick(TICK_MS);
    await runtime.tick(TICK_MS);
    assert.deepEqual(votesSince(sent, before), [], 'node 1 campaigned two ticks after hearing its leader: the stall\'s ticks were counted after the heartbeat');
    assert.deepEqual([host.raft.status().role, host.raft.status().leader], ['follower', 2]);
  } finally {
    await host.stop();
  }
});

test('a follower whose timer fires first after a stall reads the heartbeat the stall queued before it judges its election timeout', async () => {
  const { runtime, sent, deliver, host } = await openNode();
  try {
    await runtime.tick(TICK_MS);
    deliver(2, [heartbeatFrom2(1)]);
    await runtime.settle();
    assert.equal(host.raft.status().leader, 2);

    // A stall of 2.5 maximum election timeouts during which the leader's heartbeat arrived: Node runs the overdue
    // timer before it reads the port (timers come before poll in the event loop).
    const before = sent.length;
    await runtime.tick(2.5 * ELECTION_MAX * TICK_MS);
    assert.deepEqual(votesSince(sent, before), [], 'node 1 campaigned before reading the heartbeat the stall queued');
    deliver(2, [heartbeatFrom2(1)]);
    await runtime.settle();
    await runtime.tick(TICK_MS); // the next timer judges the timeouts, with the heartbeat counted
    assert.deepEqual(votesSince(sent, before), []);
    assert.deepEqual([host.raft.status().role, host.raft.status().leader], ['follower', 2]);
    // Without a heartbeat the timeout does fire: the deferral is one timer, not a blind spot.
    await runtime.tick(2.5 * ELECTION_MAX * TICK_MS);
    await runtime.tick(TICK_MS);
    assert.ok(votesSince(sent, before).length > 0, 'node 1 never campaigned after its leader fell silent');
  } finally {
    await host.stop();
  }
});

test('a leader whose timer fires first after a stall reads the answers the stall queued before it checks its quorum (§6.2)', async () => {
  const { runtime, sent, deliver, host } = await openNode();
  try {
    // Node 1 campaigns and wins with node 2's (pre-)votes.
    for (let i = 0; i < ELECTION_MAX && votesSince(sent, 0).length === 0; i++) await runtime.tick(TICK_MS);
    const preVote = votesSince(sent, 0).find((m) => m.to === 2)!;
    assert.ok(preVote, 'node 1 campaigned');
    deliver(2, [{ type: 'vote-response', from: 2, to: 1, term: preVote.term, preVote: true, granted: true }]);
    await runtime.settle();
    const vote = sent.find((m) => m.type === 'vote' && !m.preVote && m.to === 2)!;
    deliver(2, [{ type: 'vote-response', from: 2, to: 1, term: vote.term, preVote: false, granted: true }]);
    await runtime.settle();
    assert.equal(host.raft.status().role, 'leader');
    const term = vote.term;
    const answer = (): void => deliver(2, [{ type: 'append-response', from: 2, to: 1, term, success: true, index: host.raft.status().lastIndex as number, conflictTerm: 0, conflictIndex: 0 }]);
    answer();
    await runtime.settle();
    for (let i = 0; i < ELECTION_MAX; i++) {
      await runtime.tick(TICK_MS);
      answer();
      await runtime.settle();
    }
    assert.equal(host.raft.status().role, 'leader');

    // A stall of 2.5 maximum election timeouts: node 2 answered meanwhile, but the overdue timer runs first.
    await runtime.tick(2.5 * ELECTION_MAX * TICK_MS);
    assert.equal(host.raft.status().role, 'leader', 'the leader stepped down before reading the answer the stall queued');
    answer();
    await runtime.settle();
    await runtime.tick(TICK_MS);
    assert.equal(host.raft.status().role, 'leader', 'node 2\'s answer keeps a quorum active');
    assert.equal(host.raft.stats.checkQuorumStepDowns, 0);
    // Without answers the check does step it down.
    for (let i = 0; i < 3 * ELECTION_MAX && host.raft.status().role === 'leader'; i++) await runtime.tick(TICK_MS);
    assert.equal(host.raft.stats.checkQuorumStepDowns, 1, 'a leader that hears nobody never stepped down');
  } finally {
    await host.stop();
  }
});
