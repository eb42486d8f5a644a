import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raft, type Message, type SnapshotMeta } from '../../src/raft/index.js';
import { Cluster, config, empty, enc, entries, roundTrip } from './harness.js';

function elected(over: Parameters<typeof config>[2] = {}): Cluster {
  const c = new Cluster([1, 2, 3], over);
  c.get(1).campaign();
  c.stabilize();
  return c;
}

test('§6.4 ReadIndex waits for a heartbeat quorum', () => {
  const c = elected();
  const r = c.get(1);
  c.filter = (m) => m.type !== 'heartbeat-response';
  assert.deepEqual(r.readIndex(7), { ok: true });
  c.stabilize();
  assert.deepEqual(c.reads.get(1), [], 'no ReadState without a quorum of heartbeat responses');
  c.heal();
  c.tick(1); // the next heartbeat round is answered by a majority
  assert.deepEqual(c.reads.get(1), [{ id: 7, index: 1 }]);
});

test('§6.4 ReadIndex is deferred until an entry of the leader’s term (its no-op) commits', () => {
  const r = new Raft(config(1, [1, 2, 3]), empty());
  r.campaign();
  roundTrip(r);
  r.step({ type: 'vote-response', term: 1, from: 2, to: 1, preVote: false, granted: true });
  assert.deepEqual(r.readIndex(1), { ok: true });
  let rd = roundTrip(r);
  assert.equal(rd.messages.filter((m) => m.type === 'heartbeat').length, 0, 'no round starts before the no-op commits');
  r.step({ type: 'append-response', term: 1, from: 2, to: 1, success: true, index: 1, conflictTerm: 0, conflictIndex: 0 });
  rd = roundTrip(r);
  const hb = rd.messages.filter((m) => m.type === 'heartbeat');
  assert.equal(hb.length, 2);
  r.step({ type: 'heartbeat-response', term: 1, from: 2, to: 1, readRound: hb[0]?.type === 'heartbeat' ? hb[0].readRound : 0, lastIndex: 1 });
  assert.deepEqual(r.ready().readStates, [{ id: 1, index: 1 }]);
});

test('§6.4 batching: all reads requested before one heartbeat round share it', () => {
  const c = elected();
  const r = c.get(1);
  const roundsBefore = r.stats.heartbeatRounds;
  for (let id = 1; id <= 5; id++) r.readIndex(id);
  c.stabilize();
  assert.equal(r.stats.heartbeatRounds, roundsBefore + 1);
  assert.deepEqual(c.reads.get(1)?.map((s) => s.id), [1, 2, 3, 4, 5]);
});

test('lease read: served with no round trip while a majority answered within the lease; otherwise falls back to ReadIndex', () => {
  const c = elected({ checkQuorum: true });
  const r = c.get(1);
  c.tick(2); // heartbeat rounds answered
  const rounds = r.stats.heartbeatRounds;
  assert.deepEqual(r.leaseRead(9), { ok: true });
  assert.equal(r.stats.leaseReads, 1);
  c.flush();
  assert.deepEqual(c.reads.get(1), [{ id: 9, index: 1 }]);
  assert.equal(r.stats.heartbeatRounds, rounds, 'no round trip');
  // Cut the leader off: after the lease runs out, a lease read needs a heartbeat round like ReadIndex.
  c.isolate(1);
  c.tick(9, [1]);
  assert.deepEqual(r.leaseRead(10), { ok: true });
  assert.equal(r.stats.leaseReads, 1, 'the lease expired');
});

test('lease read without check-quorum always falls back to ReadIndex', () => {
  const c = elected();
  c.tick(2);
  c.get(1).leaseRead(1);
  assert.equal(c.get(1).stats.leaseReads, 0);
});

test('§3.10 transfer: timeout-now makes the target leader', () => {
  const c = elected();
  assert.equal(c.get(1).transferLeadership(3), true);
  c.stabilize();
  assert.equal(c.leader(), 3);
  assert.equal(c.get(3).status().term, 2);
});

test('§3.10 transfer: the leader refuses proposals while transferring, brings the target up to date first', () => {
  const c = elected();
  c.filter = (m) => m.to !== 3;
  c.get(1).propose([enc('a'), enc('b')]);
  c.stabilize();
  c.heal();
  assert.equal(c.get(1).transferLeadership(3), true);
  assert.deepEqual(c.get(1).propose([enc('c')]), { ok: false, code: 'TRANSFERRING', leader: 1 });
  c.stabilize();
  assert.equal(c.leader(), 3);
  assert.equal(c.get(3).log.lastIndex >= 3, true);
});

test('§3.10 transfer aborts after an election timeout when the target does not respond', () => {
  const c = elected();
  c.isolate(3);
  assert.equal(c.get(1).transferLeadership(3), true);
  c.tick(10, [1, 2]);
  assert.equal(c.get(1).stats.transfersAborted, 1);
  assert.equal(c.get(1).propose([enc('x')]).ok, true);
});

test('§7 a follower behind the compaction point is sent a snapshot; its progress waits in snapshot state until reportSnapshot', () => {
  const c = elected();
  c.isolate(3);
  c.get(1).propose([enc('a'), enc('b'), enc('c')]);
  c.stabilize();
  const meta: SnapshotMeta = { index: 3, term: 1, membership: { voters: [1, 2, 3] } };
  c.get(1).compact(meta);
  assert.equal(c.get(1).status().firstIndex, 4);
  c.heal();
  const sent: Message[] = [];
  c.filter = (m) => {
    if (m.type === 'snapshot') sent.push(m);
    return m.type !== 'snapshot';
  };
  c.tick(2);
  assert.equal(sent.length, 1, 'exactly one snapshot: progress is paused while it streams');
  assert.equal(c.get(1).stats.snapshotsSent, 1);
  assert.equal(c.get(1).status().progress?.[3]?.state, 'snapshot');
  c.get(1).reportSnapshot(3, false);
  assert.equal(c.get(1).status().progress?.[3]?.state, 'probe');
  c.heal();
  c.tick(2);
  assert.equal(c.get(3).status().snapshotIndex, 3);
  assert.equal(c.get(3).status().commit, 4);
});

test('peerCatchingUpTo: true while a compaction at the index would leave a peer that the log can still catch up a snapshot to get', () => {
  const c = new Cluster([1, 2, 3]);
  c.isolate(3); // never hears the leader: its progress stays a probe from the leader's last entry at election
  c.get(1).campaign();
  c.stabilize();
  const leader = c.get(1);
  leader.propose([enc('a'), enc('b'), enc('c'), enc('d')]);
  c.stabilize();
  const pr = leader.status().progress![3]!;
  const last = leader.status().lastIndex;
  assert.equal(pr.state, 'probe');
  assert.ok(pr.next < last, JSON.stringify(pr));
  assert.equal(leader.peerCatchingUpTo(pr.next - 1), false, 'it has been sent everything up to there');
  assert.equal(leader.peerCatchingUpTo(pr.next), true);
  assert.equal(leader.peerCatchingUpTo(last), true);
  assert.equal(c.get(2).peerCatchingUpTo(last), false, 'a follower holds nothing');
  // Compacted past what it needs, the log cannot catch it up any more: nothing to hold for.
  leader.compact({ index: pr.next, term: leader.status().term });
  assert.equal(leader.peerCatchingUpTo(last), false);
  // Caught up (healed), it needs nothing either.
  c.heal();
  c.tick(2);
  c.stabilize();
  assert.equal(leader.status().progress![3]!.match, last);
  assert.equal(leader.peerCatchingUpTo(last), false);
});

test('§7 receiving a snapshot beyond commit resets the log, sets commit, and acks its index after persistence', () => {
  const f = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 1, vote: 0, commit: 1 }, entries: entries(1, 1), applied: 1 }));
  const meta: SnapshotMeta = { index: 10, term: 2, membership: { voters: [1, 2, 3] } };
  f.step({ type: 'snapshot', term: 2, from: 1, to: 2, snapshot: meta });
  const rd = f.ready();
  assert.deepEqual(rd.snapshot, meta);
  assert.equal(rd.entries.length, 0);
  assert.equal(rd.hardState?.commit, 10);
  assert.deepEqual(rd.messages, []);
  assert.deepEqual(rd.persistedMessages.map((m) => m.type === 'append-response' && [m.success, m.index]), [[true, 10]]);
  f.advance(rd);
  assert.deepEqual([f.status().applied, f.status().firstIndex, f.status().lastIndex], [10, 11, 10]);
});

test('§7 a snapshot at or below the commit index (a late or duplicated one) is ignored: the log stays, the reply acks the commit', () => {
  // The follower already compacted past the late snapshot's index: its log no longer holds that entry.
  const voters = { voters: [1, 2, 3] };
  const later = entries(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2).slice(10);
  const f = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 2, vote: 0, commit: 12 }, snapshot: { index: 10, term: 2, membership: voters }, entries: later, applied: 12 }));
  f.step({ type: 'snapshot', term: 2, from: 1, to: 2, snapshot: { index: 8, term: 2, membership: voters } });
  const rd = f.ready();
  assert.equal(rd.snapshot, undefined, 'nothing to install');
  assert.deepEqual(rd.persistedMessages.map((m) => m.type === 'append-response' && [m.success, m.index]), [[true, 12]]);
  f.advance(rd);
  assert.deepEqual([f.status().commit, f.status().firstIndex, f.status().lastIndex, f.status().applied], [12, 11, 12, 12]);
});

test('§7 a snapshot whose last entry the follower holds keeps the entries after it (entries it acknowledged stay)', () => {
  const f = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 2, vote: 0, commit: 1 }, entries: entries(1, 1, 2, 2, 2), applied: 1 }));
  f.step({ type: 'snapshot', term: 2, from: 1, to: 2, snapshot: { index: 3, term: 2, membership: { voters: [1, 2, 3] } } });
  const rd = f.ready();
  assert.equal(rd.snapshot, undefined, 'the log already holds the snapshot\'s last entry: no install');
  assert.equal(rd.hardState?.commit, 3);
  assert.deepEqual(rd.persistedMessages.map((m) => m.type === 'append-response' && [m.success, m.index]), [[true, 3]]);
  f.advance(rd);
  assert.equal(f.status().lastIndex, 5, 'entries 4 and 5 kept');
});

test('§7 a snapshot ack with a higher index than sent (the host sent a newer applied point) resumes replication', () => {
  const c = elected();
  c.isolate(3);
  c.get(1).propose([enc('a'), enc('b'), enc('c')]);
  c.stabilize();
  c.get(1).compact({ index: 2, term: 1, membership: { voters: [1, 2, 3] } });
  c.heal();
  c.filter = (m) => {
    if (m.type === 'snapshot') m.snapshot = { index: 4, term: 1, membership: { voters: [1, 2, 3] } };
    return true;
  };
  c.tick(2);
  c.get(1).reportSnapshot(3, true);
  c.tick(2);
  assert.equal(c.get(1).status().progress?.[3]?.state, 'replicate');
  assert.equal(c.get(3).status().commit, 4);
});

test('compact() beyond applied is an invariant violation', () => {
  const c = elected();
  assert.throws(() => c.get(1).compact({ index: 5, term: 1, membership: { voters: [1, 2, 3] } }), /beyond applied/);
});

test('initial state: commit = max(hardState.commit, snapshot index, applied)', () => {
  const snap: SnapshotMeta = { index: 3, term: 1, membership: { voters: [1, 2, 3] } };
  const ents = entries(1, 1, 1, 1, 2).slice(3);
  const r = new Raft(config(1, [1, 2, 3]), { hardState: { term: 2, vote: 0, commit: 2 }, snapshot: snap, entries: ents, applied: 4 });
  assert.deepEqual([r.status().commit, r.status().applied, r.status().firstIndex, r.status().lastIndex], [4, 4, 4, 5]);
  assert.throws(() => new Raft(config(1, [1, 2, 3]), empty({ hardState: { term: 1, vote: 0, commit: 5 }, entries: entries(1) })), /commit 5 > lastIndex 1/);
  assert.throws(() => new Raft(config(1, [1, 2, 3]), empty({ entries: [...entries(1), { term: 1, index: 3, type: 0, data: enc('x') }] })), /not contiguous/);
});

test('malformed messages are dropped and counted, never thrown', () => {
  const r = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 3, vote: 0, commit: 0 } }));
  const bad: unknown[] = [
    null,
    42,
    { type: 'append', term: 3, from: 0, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 }, // from no node (a node outside the configuration is heard: membership.test.ts)
    { type: 'append', term: 3, from: 1, to: 3, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 }, // not for us
    { type: 'append', term: -1, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 },
    { type: 'append', term: NaN, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 },
    { type: 'append', term: 2 ** 60, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 },
    { type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 3, index: 2, type: 0, data: enc('x') }], commit: 0 },
    { type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 3, index: 1, type: 0, data: 'str' }], commit: 0 },
    { type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: 'nope', commit: 0 },
    { type: 'vote', term: 4, from: 1, to: 2, preVote: 'yes', lastLogIndex: 0, lastLogTerm: 0, transfer: false },
    { type: 'snapshot', term: 3, from: 1, to: 2, snapshot: { index: 5, term: 9, membership: { voters: [1] } } },
    { type: 'gossip', term: 3, from: 1, to: 2 },
    { type: 'heartbeat', term: 2, from: 1, to: 2, commit: 0, readRound: 0 }, // stale term
  ];
  for (const m of bad) assert.doesNotThrow(() => r.step(m as Message));
  assert.equal(r.stats.droppedMessages, bad.length);
  assert.deepEqual([r.status().term, r.status().lastIndex, r.status().leader], [3, 0, 0]);
});
