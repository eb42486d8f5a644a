// Configuration changes and learners (thesis §4.1–§4.2, one server at a time), each test named after its rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, Raft, encodeConfEntry, type ConfChange, type NodeId, type RaftConfig } from '../../src/raft/index.js';
import { Cluster, config, empty, enc, roundTrip } from './harness.js';

/** A node that joins with an empty log, knowing only the configuration it is added in. */
function join(c: Cluster, id: NodeId, voters: NodeId[], learners: NodeId[], over: Partial<RaftConfig> = {}): Raft {
  const r = new Raft(config(id, voters, { learners, ...over }), empty());
  c.nodes.set(id, r);
  c.applied.set(id, []);
  c.reads.set(id, []);
  c.ids.push(id);
  return r;
}

function elect(c: Cluster, id: NodeId): Raft {
  c.get(id).campaign();
  c.stabilize();
  assert.equal(c.get(id).status().role, 'leader');
  return c.get(id);
}

function change(r: Raft, ch: ConfChange): number {
  const res = r.proposeConfChange(ch);
  assert.ok(res.ok, `conf change refused: ${JSON.stringify(res)}`);
  return res.index;
}

/** A 3-voter cluster with node 4 added as a learner and caught up. */
function withLearner(over: Partial<RaftConfig> = {}): Cluster {
  const c = new Cluster([1, 2, 3], over);
  const l = elect(c, 1);
  join(c, 4, [1, 2, 3], [4], over);
  change(l, { type: 'add-learner', id: 4 });
  c.stabilize();
  return c;
}

test('§4.1 a configuration takes effect on each server as soon as its entry is appended, before it commits', () => {
  const c = new Cluster([1, 2, 3]);
  const l = elect(c, 1);
  const index = change(l, { type: 'add-learner', id: 4 });
  assert.deepEqual(l.learners, [4], 'the leader uses the new configuration at once');
  assert.ok(l.status().commit < index);
  // Deliver the append to node 2 only, and keep every response from reaching the leader.
  c.flush();
  const toTwo = c.queue.filter((m) => m.to === 2 && m.type === 'append');
  c.queue = [];
  for (const m of toTwo) c.get(2).step(m);
  assert.deepEqual(c.get(2).learners, [4]);
  assert.ok(c.get(2).status().commit < index, 'not committed yet on node 2');
  assert.deepEqual(c.get(3).learners, [], 'node 3 has not appended it');
  assert.equal(c.get(2).membership().index, index);
});

test('§4.1 an uncommitted configuration entry truncated away reverts the node to the previous configuration', () => {
  const c = new Cluster([1, 2, 3, 4, 5]);
  const l = elect(c, 1);
  change(l, { type: 'add-learner', id: 9 });
  c.flush();
  // Only node 2 appends the change; then {1, 2} are cut off and 3 is elected by 3, 4, 5 without it.
  const toTwo = c.queue.filter((m) => m.to === 2 && m.type === 'append');
  c.queue = [];
  for (const m of toTwo) c.get(2).step(m);
  assert.deepEqual(c.get(2).learners, [9]);
  const minority = [1, 2];
  c.filter = (m) => minority.includes(m.from) === minority.includes(m.to);
  c.tick(40, [3, 4, 5]);
  assert.equal([3, 4, 5].filter((id) => c.get(id).status().role === 'leader').length, 1);
  c.heal();
  c.tick(3);
  assert.deepEqual(c.get(2).learners, [], 'the truncated change no longer applies on node 2');
  assert.deepEqual(c.get(1).learners, [], 'nor on the old leader');
  assert.equal(c.get(2).membership().index, 0);
  assert.equal(c.get(2).log.entry(2)?.type, EntryType.Noop);
});

test('§4.2.1 learners receive the log but their acknowledgements never commit an entry', () => {
  const c = withLearner();
  const l = c.get(1);
  // Two learners: with the leader they would be a majority of five if they counted.
  join(c, 5, [1, 2, 3], [4, 5]);
  change(l, { type: 'add-learner', id: 5 });
  c.stabilize();
  assert.equal(c.get(4).status().commit, l.status().commit, 'the learner caught up');
  c.filter = (m) => ![2, 3].includes(m.from) && ![2, 3].includes(m.to);
  const res = l.propose([enc('a')]);
  assert.ok(res.ok);
  c.stabilize();
  assert.equal(c.get(4).status().lastIndex, res.lastIndex, 'the learners have the entry');
  assert.equal(c.get(5).status().lastIndex, res.lastIndex);
  assert.ok(l.status().commit < res.lastIndex, 'leader + learners is no quorum of 3 voters');
  c.heal();
  c.tick(2);
  assert.ok(l.status().commit >= res.lastIndex);
});

test('§4.2.1 a learner never campaigns, whatever its election timer says', () => {
  const c = withLearner({ preVote: true, checkQuorum: true });
  const before = c.get(4).status().term;
  c.isolate(4);
  c.tick(200, [4]);
  assert.equal(c.get(4).status().role, 'follower');
  assert.equal(c.get(4).status().term, before);
  assert.equal(c.get(4).stats.elections + c.get(4).stats.preVotes, 0);
  c.get(4).campaign();
  assert.equal(c.get(4).status().role, 'follower', 'campaign() is a no-op for a learner');
});

test('§4.2.1 votes: a candidate is not elected by a learner; vote requests go to voters only', () => {
  const c = withLearner();
  c.filter = (m) => m.from !== 3 && m.to !== 3 && m.from !== 1 && m.to !== 1;
  c.get(2).campaign();
  c.flush();
  assert.deepEqual(
    c.queue.filter((m) => m.type === 'vote').map((m) => m.to).sort(),
    [1, 3],
  );
  c.stabilize();
  assert.notEqual(c.get(2).status().role, 'leader');
});

test('§6.4 ReadIndex: a learner\'s heartbeat answer confirms no read', () => {
  const c = withLearner();
  c.tick(1);
  c.filter = (m) => ![2, 3].includes(m.from) && ![2, 3].includes(m.to);
  const before = c.reads.get(1)?.length ?? 0;
  assert.ok(c.get(1).readIndex(77).ok);
  c.stabilize();
  c.tick(3, [1, 4]);
  assert.equal(c.reads.get(1)?.length, before, 'no read state with only the learner answering');
  c.heal();
  c.tick(2);
  assert.ok(c.reads.get(1)?.some((r) => r.id === 77));
});

test('§6.2 check-quorum and the lease count voters only: a leader hearing only a learner steps down and leases nothing', () => {
  const c = withLearner({ preVote: true, checkQuorum: true });
  c.filter = (m) => ![2, 3].includes(m.from) && ![2, 3].includes(m.to);
  c.tick(25, [1, 4]);
  assert.notEqual(c.get(1).status().role, 'leader');
  assert.ok(c.get(1).stats.checkQuorumStepDowns > 0);
});

test('§4.1 one change at a time: no new change until the previous one is committed', () => {
  const c = new Cluster([1, 2, 3]);
  const l = elect(c, 1);
  change(l, { type: 'add-learner', id: 4 });
  const again = l.proposeConfChange({ type: 'add-learner', id: 5 });
  assert.equal(again.ok ? 'ok' : again.code, 'CONF_CHANGE_PENDING');
  c.stabilize();
  assert.ok(l.proposeConfChange({ type: 'add-learner', id: 5 }).ok);
});

test('§4.1 the fix for one-at-a-time changes: a new leader changes membership only once an entry of its term is committed', () => {
  const c = new Cluster([1, 2, 3]);
  c.get(1).campaign();
  // Elected (votes delivered) but its no-op not yet acknowledged by anyone.
  for (let i = 0; i < 3; i++) {
    c.flush();
    const q = c.queue;
    c.queue = [];
    for (const m of q) if (m.type === 'vote' || m.type === 'vote-response') c.get(m.to).step(m);
  }
  const l = c.get(1);
  assert.equal(l.status().role, 'leader');
  const res = l.proposeConfChange({ type: 'add-learner', id: 4 });
  assert.equal(res.ok ? 'ok' : res.code, 'CONF_CHANGE_PENDING');
  c.tick(1);
  assert.ok(l.proposeConfChange({ type: 'add-learner', id: 4 }).ok);
});

test('§4.1 invalid changes are refused: promote a non-learner, add a member, remove a stranger or the last voter', () => {
  const c = new Cluster([1]);
  const l = elect(c, 1);
  const code = (ch: ConfChange): string => {
    const r = l.proposeConfChange(ch);
    return r.ok ? 'ok' : r.code;
  };
  assert.equal(code({ type: 'promote', id: 2 }), 'INVALID_CONF_CHANGE');
  assert.equal(code({ type: 'add-learner', id: 1 }), 'INVALID_CONF_CHANGE');
  assert.equal(code({ type: 'remove', id: 9 }), 'INVALID_CONF_CHANGE');
  assert.equal(code({ type: 'remove', id: 1 }), 'INVALID_CONF_CHANGE');
  assert.equal(code({ type: 'add-learner', id: 0 }), 'INVALID_CONF_CHANGE');
  assert.equal(new Raft(config(2, [1, 2]), empty()).proposeConfChange({ type: 'add-learner', id: 3 }).ok, false);
});

test('§4.2 a promoted learner counts toward the quorum at once (the leader\'s configuration is its latest entry)', () => {
  const c = new Cluster([1, 2]);
  const l = elect(c, 1);
  join(c, 3, [1, 2], [3]);
  change(l, { type: 'add-learner', id: 3 });
  c.stabilize();
  change(l, { type: 'promote', id: 3 });
  c.stabilize();
  assert.deepEqual(c.get(3).voters, [1, 2, 3]);
  assert.deepEqual(c.get(2).voters, [1, 2, 3]);
  c.isolate(2);
  const res = l.propose([enc('b')]);
  assert.ok(res.ok);
  c.stabilize();
  assert.ok(l.status().commit >= res.lastIndex, 'leader + promoted node is a majority of 3');
  // And the promoted node can be elected.
  c.heal();
  assert.ok(l.transferLeadership(3));
  c.stabilize();
  assert.equal(c.get(3).status().role, 'leader');
});

test('§3.10 leadership is transferred only to voters', () => {
  const c = withLearner();
  assert.equal(c.get(1).transferLeadership(4), false);
  assert.equal(c.get(1).transferLeadership(2), true);
});

test('§4.2.2 a removed leader keeps replicating without counting itself, steps down once its removal commits, and never campaigns again', () => {
  const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: true });
  const l = elect(c, 1);
  const campaigns = l.stats.elections + l.stats.preVotes;
  const index = change(l, { type: 'remove', id: 1 });
  assert.equal(l.status().role, 'leader', 'still leader until the removal commits');
  c.stabilize();
  assert.ok(c.get(2).status().commit >= index);
  assert.notEqual(l.status().role, 'leader');
  assert.equal(l.stats.removedStepDowns, 1);
  // It handed over with timeout-now: a voter took over without waiting for an election timeout.
  const leaders = [2, 3].filter((id) => c.get(id).status().role === 'leader');
  assert.equal(leaders.length, 1);
  const newLeader = c.get(leaders[0]!);
  assert.deepEqual(newLeader.voters, [2, 3]);
  const term = newLeader.status().term;
  c.tick(200);
  assert.equal(l.stats.elections + l.stats.preVotes, campaigns, 'the removed node never campaigns');
  assert.equal(newLeader.status().role, 'leader');
  assert.equal(newLeader.status().term, term);
  const res = newLeader.propose([enc('after')]);
  assert.ok(res.ok);
  c.stabilize();
  assert.ok(newLeader.status().commit >= res.lastIndex);
});

test('§4.2.2 a removed follower stops campaigning and the rest commit without it (it only asks for pre-votes, though pre-vote is off)', () => {
  const c = new Cluster([1, 2, 3]);
  const l = elect(c, 1);
  change(l, { type: 'remove', id: 3 });
  c.stabilize();
  assert.deepEqual(c.get(3).voters, [1, 2]);
  c.isolate(3);
  c.tick(100, [3]);
  assert.equal(c.get(3).stats.elections, 0);
  c.heal();
  assert.ok(l.status().progress?.[3] === undefined, 'no progress kept for a removed node');
});

test('§4.2.2 a leader of two voters that removed itself and lost its leadership before the other had the change campaigns to commit it', () => {
  // The other voter, still under both, needs its vote, and its log is behind: before, no one could win (the
  // simulation with 1 or 2 voters and spares: Liveness).
  const c = new Cluster([1, 2], { checkQuorum: true });
  const l = elect(c, 1);
  c.isolate(2);
  const index = change(l, { type: 'remove', id: 1 });
  c.tick(30, [1]); // check-quorum: it hears from no voter of {2}, and steps down
  assert.equal(l.status().role, 'follower');
  assert.deepEqual(c.get(2).voters, [1, 2], 'node 2 never got the change');
  c.heal();
  c.tick(200); // node 2's campaigns (refused: its log is behind) reset node 1's timer until node 1 times out first
  const two = c.get(2).status();
  assert.equal(two.role, 'leader', 'node 2 leads the new configuration');
  assert.deepEqual(two.membership.voters, [2]);
  assert.ok(two.commit >= index, 'the removal committed');
  assert.ok(l.stats.elections >= 1 && l.status().role === 'follower', 'node 1 campaigned to commit it, then stepped down');
});

test('§7 a snapshot carries the configuration: compaction records it, a new node behind the compaction point gets it', () => {
  const c = new Cluster([1, 2, 3]);
  const l = elect(c, 1);
  change(l, { type: 'add-learner', id: 5 });
  c.stabilize();
  change(l, { type: 'remove', id: 5 });
  c.stabilize();
  change(l, { type: 'add-learner', id: 4 });
  c.stabilize();
  const applied = l.status().applied;
  l.compact({ index: applied, term: l.log.term(applied)! });
  assert.deepEqual(l.status().membership, { voters: [1, 2, 3], learners: [4], index: 0 });
  // Node 4 joins with an empty log: it is sent the snapshot and takes its configuration.
  join(c, 4, [1, 2, 3], [4]);
  c.stabilize();
  const snapMsg = { found: false };
  c.filter = (m) => {
    if (m.type === 'snapshot' && m.to === 4) {
      snapMsg.found = true;
      assert.deepEqual(m.snapshot.membership, { voters: [1, 2, 3], learners: [4] });
    }
    return true;
  };
  c.tick(2);
  assert.ok(snapMsg.found, 'the leader sent node 4 a snapshot');
  l.reportSnapshot(4, true);
  c.tick(3);
  assert.equal(c.get(4).status().commit, l.status().commit);
  assert.deepEqual(c.get(4).status().membership.learners, [4]);
});

test('a node restarts in the configuration of its snapshot and log, not its bootstrap voters', () => {
  const snap = { index: 4, term: 1, membership: { voters: [1, 2, 3], learners: [4] } };
  const conf = { term: 2, index: 5, type: EntryType.ConfChange, data: encodeConfEntry({ voters: [1, 2, 3, 4], learners: [] }) };
  const r = new Raft(config(4, [1, 2, 3]), { hardState: { term: 2, vote: 0, commit: 4 }, snapshot: snap, entries: [conf], applied: 4 });
  assert.deepEqual(r.status().membership, { voters: [1, 2, 3, 4], learners: [], index: 5 });
  const r2 = new Raft(config(4, [1, 2, 3]), { hardState: { term: 2, vote: 0, commit: 4 }, snapshot: snap, entries: [], applied: 4 });
  assert.deepEqual(r2.status().membership, { voters: [1, 2, 3], learners: [4], index: 0 });
  roundTrip(r2);
});

test('a node outside this node\'s configuration is heard: a leader of a configuration it has not seen yet reaches it', () => {
  const r = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 3, vote: 0, commit: 0 } }));
  r.step({ type: 'append', term: 3, from: 9, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 });
  assert.equal(r.status().leader, 9);
  // But responses from strangers are dropped by a leader, and their vote responses are not counted.
  const c = new Cluster([1, 2, 3]);
  const l = elect(c, 1);
  l.step({ type: 'append-response', term: l.status().term, from: 9, to: 1, success: true, index: 1, conflictTerm: 0, conflictIndex: 0 });
  assert.match(l.stats.lastDropReason, /outside the configuration/);
});

test('malformed configuration entries are dropped with their message', () => {
  const r = new Raft(config(2, [1, 2, 3]), empty({ hardState: { term: 3, vote: 0, commit: 0 } }));
  r.step({ type: 'append', term: 3, from: 1, to: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{ term: 3, index: 1, type: EntryType.ConfChange, data: enc('nope') }], commit: 0 });
  assert.equal(r.status().lastIndex, 0);
  assert.equal(r.stats.lastDropReason, 'malformed configuration entry');
});
