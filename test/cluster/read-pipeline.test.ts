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

function pipeline(opts: { requestTimeoutMs: number; maxPendingOps: number }): { reads: ReadPipeline; sent: Array<{ id: number; queries: ReadQuery[] | null }> } {
  const sent: Array<{ id: number; queries: ReadQuery[] | null }> = [];
  const nodes = {
    leader: 1,
    post: (_node: number, msg: { t: string; id: number; queries: ReadQuery[] | null }) => {
      sent.push({ id: msg.id, queries: msg.queries });
      return true;
    },
    hint: () => undefined,
    alive: () => [{ id: 1 }],
    get: () => ({ alive: true }),
  } as unknown as NodeSet;
  const counters: CoordinatorCounters = { writes: 0, reads: 0, batchesSent: 0, readRoundsSent: 0, retries: 0, resends: 0, timeouts: 0, busy: 0, leaderChanges: 0 };
  let reads!: ReadPipeline;
  const ctx: PipelineContext = {
    opts: opts as unknown as ResolvedOptions,
    nodes,
    counters,
    retryAfterMs: 60_000,
    scheduleFlush: () => undefined,
    pendingOps: () => reads.size,
  };
  reads = new ReadPipeline(ctx, new NodeReaders());
  return { reads, sent };
}

const get = (k: string): ReadQuery => ({ q: 'get', key: Buffer.from(k) }) as ReadQuery;

test('a read that expired while its round was out keeps its place: the next read gets its own answers', async () => {
  const { reads, sent } = pipeline({ requestTimeoutMs: 60, maxPendingOps: 100 });
  const a = reads.query([get('a1'), get('a2')], 'linearizable', undefined);
  a.catch(() => undefined);
  await sleep(40);
  const b = reads.query([get('b')], 'linearizable', undefined);
  reads.flush(1); // one round: a's two queries, then b's
  assert.equal(sent.length, 1);
  await sleep(30);
  reads.sweep(nowMs(), ErrorCode.TIMEOUT); // a is past its deadline, b is not
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
