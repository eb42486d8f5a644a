// Boundaries no other test pinned (both found by `npm run mutate`: the mutants survived).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/raft/index.js';
import { Cluster } from './harness.js';

function granted(msgs: Message[]): boolean {
  return msgs.some((m) => m.type === 'vote-response' && m.granted);
}

test('§4.2.3 stickiness lasts the whole minimum election timeout: a vote one tick before its end is ignored', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: true }); // electionTimeoutMinTicks 10
  c.get(1).campaign();
  c.stabilize(); // node 2 hears its leader now
  const follower = c.get(2);
  for (let i = 0; i < 9; i++) follower.tick(); // 9 ticks later: still inside the window (9 < 10)
  follower.step({ type: 'vote', term: 2, from: 3, to: 2, preVote: false, lastLogIndex: 9, lastLogTerm: 1, transfer: false });
  const rd = follower.ready();
  assert.equal(granted([...rd.messages, ...rd.persistedMessages]), false, 'a vote inside the window is not granted');
  assert.equal(follower.status().term, 1, 'nor does it move the follower to the candidate term');
  follower.advance(rd);
});

test('§9.6 a pre-vote request does not change the receiver\'s term, and is granted to an up-to-date candidate', () => {
  const c = new Cluster([1, 2, 3], { preVote: true });
  const node = c.get(2);
  node.step({ type: 'vote', term: 1, from: 3, to: 2, preVote: true, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
  const rd = node.ready();
  assert.equal(granted([...rd.messages, ...rd.persistedMessages]), true, 'the pre-vote is granted');
  assert.equal(node.status().term, 0, 'the receiver keeps its term');
  node.advance(rd);
});
