// The coordinator's read pipeline on its own, with a fake node set: what maxPendingOps counts, and how a round's
// answers reach its reads when one of them expired while the round was out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { NodeReaders, ReadPipeline } from '../../src/cluster/reads.js';
import { nowMs } from '../../src/util/histogram.js';
import type { CoordinatorCounters, PipelineContext } from '../../src/cluster/pipeline.js';
import type { ResolvedOptions } from '../../src/cluster/options.js';
import type { NodeSet } from '../../src/cluster/nodes.js';
import type { ReadQuery } from '../../src/node/queries.js';

/** What the pipeline posted to a node. */
interface Sent { node: number; id: number; mode: string; queries: ReadQuery[] | null }

/** A read pipeline over three fake nodes (node 1 leads; `alive` and `nodes.leader` may be changed), its posts in `sent`. */
function pipeline(opts: { requestTimeoutMs: number; maxPendingOps: number; retryAfterMs?: number }): { reads: ReadPipeline; sent: Sent[]; alive: Map<number, boolean>; nodes: { leader: number | undefined } } {
  const sent: Sent[] = [];
  const alive = new Map([[1, true], [2, true], [3, true]]);
  const nodes = {
    leader: 1 as number | undefined,
    post: (node: number, msg: { id: number; mode: string; queries: ReadQuery[] | null }) => {
      sent.push({ node, id: msg.id, mode: msg.mode, queries: msg.queries });
      return alive.get(node) === true;
    },
    hint: () => undefined,
    alive: () => [...alive].filter(([, a]) => a).map(([id]) => ({ id })),
    get: (id: number) => ({ alive: alive.get(id) === true }),
  };
  const counters: CoordinatorCounters = { writes: 0, reads: 0, batchesSent: 0, readRoundsSent: 0, retries: 0, resends: 0, timeouts: 0, busy: 0, leaderChanges: 0 };
  let reads!: ReadPipeline;
  const ctx: PipelineContext = {
    opts: opts as unknown as ResolvedOptions,
    nodes: nodes as unknown as NodeSet,
    counters,
    retryAfterMs: opts.retryAfterMs ?? 60_000,
    scheduleFlush: () => undefined,
    pendingOps: () => reads.size,
  };
  reads = new ReadPipeline(ctx, new NodeReaders());
  return { reads, sent, alive, nodes };
}

const get = (k: string): ReadQuery => ({ q: 'get', key: Buffer.from(k) }) as ReadQuery;

test('a read that expired while its round was out keeps its place: the next read gets its own answers', async () => {
  const { reads, sent } = pipeline({ requestTimeoutMs: 60, maxPendingOps: 100 });
  const a = reads.query([get('a1'), get('a2')], 'linearizable', undefined);
  a.catch(() => undefined);
  await sleep(45);
  const bAt = nowMs(); // a's deadline is at most bAt + 15 (+1 for a timer's rounding), b's at least bAt + 60
  const b = reads.query([get('b')], 'linearizable', undefined);
  reads.flush(1); // one round: a's two queries, then b's
  assert.equal(sent.length, 1);
  // The time of the sweep is given, not slept to: a late timer on a loaded machine would expire b as well.
  reads.sweep(bAt + 40, ErrorCode.TIMEOUT); // a is past its deadline, b is not
  await assert.rejects(a, (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.TIMEOUT);
  reads.onReadOk(1, sent[0]!.id, ['A1', 'A2', 'B'] as never);
  assert.deepEqual(await b, ['B'], 'b was answered with a\'s first answer before the fix');
});

test('maxPendingOps counts reads whose round is out, not only those queued: a flood gets BUSY', async () => {
  const { reads, sent } = pipeline({ requestTimeoutMs: 10_000, maxPendingOps: 10 });
  const calls: Array<Promise<unknown>> = [];
  for (let turn = 0; turn < 5; turn++) {
    for (let i = 0; i < 10; i++) calls.push(reads.query([get(`k${i}`)], 'linearizable', undefined).catch((e: unknown) => e));
    reads.flush(1); // the round goes out; nothing answers
  }
  assert.equal(reads.size, 10, 'at most maxPendingOps pending');
  assert.equal(sent.length, 1, 'one round of 10; the later calls were refused');
  reads.rejectAll(new ClusterError(ErrorCode.CLUSTER_STOPPED, 'stopped'));
  const outcomes = (await Promise.all(calls)) as ClusterError[];
  assert.equal(outcomes.filter((e) => e.code === ErrorCode.BUSY).length, 40);
  assert.equal(reads.size, 0);
});

// Stale reads that only a node's thread answers (memory storage, size()) go to one node, with no barrier. Until
// session 32 such a read was kept like a barrier round: a leader change, or 2 s without an answer, sent it to the
// leader as a linearizable read, which needs a quorum; the very thing a stale read is for is an answer without one.
test('a stale read on a follower stays there when the leader changes: it is not sent to the leader as a linearizable read', async () => {
  const { reads, sent, nodes } = pipeline({ requestTimeoutMs: 60_000, maxPendingOps: 100 });
  const r = reads.query([get('k')], 'stale', 2);
  assert.deepEqual(sent.map((s) => [s.node, s.mode]), [[2, 'stale']]);
  nodes.leader = 3;
  reads.onLeaderChanged(3);
  reads.flush(3);
  assert.deepEqual(sent.map((s) => [s.node, s.mode]), [[2, 'stale']], 'sent again to the new leader as a barrier read');
  reads.onReadOk(2, sent[0]!.id, ['V'] as never);
  assert.deepEqual(await r, ['V']);
  assert.equal(reads.size, 0);
});

test('a stale read not answered for retryAfterMs waits for its node (to its deadline): no barrier round', async () => {
  const { reads, sent } = pipeline({ requestTimeoutMs: 60_000, maxPendingOps: 100, retryAfterMs: 10 });
  const r = reads.query([get('k')], 'stale', 2);
  await sleep(30);
  reads.sweep(nowMs(), ErrorCode.TIMEOUT);
  reads.flush(1);
  assert.deepEqual(sent.map((s) => [s.node, s.mode]), [[2, 'stale']]);
  reads.onReadOk(2, sent[0]!.id, ['V'] as never);
  assert.deepEqual(await r, ['V']);
});

test('a stale read whose node goes down: NODE_UNAVAILABLE when the caller named it, else another live node answers', async () => {
  const { reads, sent, alive, nodes } = pipeline({ requestTimeoutMs: 60_000, maxPendingOps: 100 });
  const named = reads.query([get('k')], 'stale', 2);
  const unnamed = reads.query([get('k')], 'stale', undefined); // the leader's: node 1
  assert.deepEqual(sent.map((s) => [s.node, s.mode]), [[2, 'stale'], [1, 'stale']]);
  alive.set(2, false);
  reads.nodeDown(2);
  await assert.rejects(named, (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.NODE_UNAVAILABLE);
  alive.set(1, false);
  nodes.leader = undefined;
  reads.nodeDown(1);
  assert.deepEqual(sent.map((s) => [s.node, s.mode]), [[2, 'stale'], [1, 'stale'], [3, 'stale']]);
  reads.onReadOk(1, sent[1]!.id, ['old'] as never); // the first node's answer, late: its round is gone
  reads.onReadOk(3, sent[2]!.id, ['V'] as never);
  assert.deepEqual(await unnamed, ['V']);
  assert.equal(reads.size, 0);
});
