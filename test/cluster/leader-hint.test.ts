// The coordinator's view of the leader when a node refuses a proposal or a read (NodeSet.hint): a node that no
// longer leads says so in its refusal at once, but in its state report only with its next Ready, which may wait
// behind its storage writes. Until session 31 the refuser was taken back as leader at once (its last report said
// it leads): each refused batch made two leader changes, each sending every write in flight again, to it.
// No workers: the handles are set by hand and the reports given as a node's messages would give them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeSet, type NodeHandle } from '../../src/cluster/nodes.js';
import type { Role } from '../../src/raft/types.js';
import type { NodeOptions } from '../../src/node/config.js';

function nodeSet() {
  const changes: Array<number | undefined> = [];
  const set = new NodeSet({ message: () => undefined, down: () => undefined, leaderChanged: (l) => void changes.push(l) });
  for (const id of [1, 2, 3]) {
    const h: NodeHandle = {
      id, options: {} as NodeOptions, worker: undefined, control: undefined, controlPort: undefined, failControl: () => undefined, alive: true,
      role: 'follower', leader: 0, term: 0, started: Promise.resolve(), fatal: undefined,
    };
    set.handles.set(id, h);
  }
  /** Node `id`'s state report (what its 'state' message does). */
  const report = (id: number, role: Role, leader: number, term: number): void =>
    (set as unknown as { onState(h: NodeHandle, role: Role, leader: number, term: number): void }).onState(set.get(id), role, leader, term);
  return { set, changes, report };
}

test('a leader that refuses with no leader known is not taken back until it reports leading again', () => {
  const { set, changes, report } = nodeSet();
  report(1, 'leader', 1, 2);
  assert.equal(set.leader, 1);
  set.hint(1, 0); // stepped down (a higher term seen); its report of that waits for its next Ready
  assert.equal(set.leader, undefined);
  set.recoverLeader(); // the coordinator's sweep
  assert.equal(set.leader, undefined, 'the refuser was adopted again on its stale report');
  assert.deepEqual(changes, [1, undefined]);
  report(1, 'follower', 0, 3);
  report(2, 'leader', 2, 3);
  assert.equal(set.leader, 2);
  assert.deepEqual(changes, [1, undefined, 2]);
});

test('a refusal naming another live node follows that node', () => {
  const { set, changes, report } = nodeSet();
  report(1, 'leader', 1, 2);
  set.hint(1, 3);
  assert.equal(set.leader, 3);
  assert.deepEqual(changes, [1, 3]);
});

test('a leader that refuses naming itself (handing leadership over) stays the leader: no change', () => {
  const { set, changes, report } = nodeSet();
  report(1, 'leader', 1, 2);
  set.hint(1, 1);
  assert.equal(set.leader, 1);
  assert.deepEqual(changes, [1]);
});

test('a refusal from a node we do not believe leads changes nothing', () => {
  const { set, changes, report } = nodeSet();
  report(1, 'leader', 1, 2);
  set.hint(2, 0);
  assert.equal(set.leader, 1);
  assert.deepEqual(changes, [1]);
});
