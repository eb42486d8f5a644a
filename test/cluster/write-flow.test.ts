// The coordinator's write flow control, step by step against a fake leader (no workers): the bytes sent and not
// applied stay within maxInflightWriteBytes, and a sent write is sent again only when it was lost, never merely
// because it is slow. Both were found with 1,600 calls of 10 × 20 KB puts in flight (session 31): every write
// unresolved after two election timeouts went again, about four times each, and a leader given 320 MB at once
// stopped heartbeating; elections followed (5 to 6 terms in 30 s) and in some runs a fifth or more of the calls
// timed out. Also here: what a refusal does (a leader handing leadership over, or a node that no longer leads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WritePipeline } from '../../src/cluster/writes.js';
import { WriteProfile } from '../../src/cluster/profile.js';
import { resolveOptions, type ClusterOptions } from '../../src/cluster/options.js';
import type { CoordinatorCounters, PipelineContext } from '../../src/cluster/pipeline.js';
import type { NodeSet } from '../../src/cluster/nodes.js';
import type { ToNode } from '../../src/node/protocol.js';
import { decodeApplied, encodeApplied } from '../../src/node/applied.js';
import { decodeCommands } from '../../src/storage/codec.js';
import { ErrorCode } from '../../src/errors.js';
import type { Op } from '../../src/storage/command.js';
import { nowMs } from '../../src/util/histogram.js';

const RETRY_AFTER_MS = 100;

interface Sent {
  id: number;
  to: number;
  client: number;
  seqs: number[];
}

/** A pipeline whose leader is node 1 and whose messages to nodes are recorded in `sent`. */
function pipeline(options: ClusterOptions) {
  const sent: Sent[] = [];
  const counters: CoordinatorCounters = { writes: 0, reads: 0, batchesSent: 0, readRoundsSent: 0, retries: 0, resends: 0, timeouts: 0, busy: 0, leaderChanges: 0 };
  const nodes = {
    post(id: number, msg: ToNode): boolean {
      if (msg.t !== 'propose') return true;
      const commands = decodeCommands(msg.data)!;
      sent.push({ id: msg.id, to: id, client: commands[0]!.client, seqs: commands.map((c) => c.seq) });
      return true;
    },
    hint(): void {},
  } as unknown as NodeSet;
  const ctx: PipelineContext = {
    opts: resolveOptions(options),
    nodes,
    counters,
    retryAfterMs: RETRY_AFTER_MS,
    scheduleFlush: () => undefined,
    pendingOps: () => p.size,
  };
  const p = new WritePipeline(ctx, new WriteProfile());
  /** The leader applies the writes of sent batch `k`. */
  const apply = (k: number): void => {
    const b = sent[k]!;
    p.onApplied(decodeApplied(encodeApplied([b.seqs.map((seq) => ({ client: b.client, seq, results: [{ ok: true }], duplicate: false }))], null)));
  };
  const seqsSent = (): number[] => sent.flatMap((b) => b.seqs);
  return { p, sent, apply, seqsSent, counters };
}

function put(i: number, bytes: number): Op[] {
  return [{ t: 'put', key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes, 1) }];
}

test('writes sent and not applied stay within maxInflightWriteBytes; the rest go, in order, as the leader applies', async () => {
  const { p, sent, apply, seqsSent, counters } = pipeline({ maxInflightWriteBytes: 1024 * 1024, maxBatchBytes: 2 * 1024 * 1024 });
  const done = Array.from({ length: 10 }, (_, i) => p.submit(put(i, 300_000)));
  p.flush(1);
  // 3 × 300 KB fit in 1 MiB, a fourth does not.
  assert.deepEqual(seqsSent(), [1, 2, 3]);
  p.flush(1);
  assert.deepEqual(seqsSent(), [1, 2, 3], 'nothing more goes before the leader applies');
  apply(0);
  p.flush(1);
  assert.deepEqual(seqsSent(), [1, 2, 3, 4, 5, 6]);
  apply(1);
  p.flush(1);
  apply(2);
  p.flush(1);
  assert.deepEqual(seqsSent(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every write sent once, in order');
  apply(3);
  await Promise.all(done);
  assert.equal(p.size, 0);
  assert.equal(sent.length, 4);
  assert.equal(counters.resends, 0);
});

test('one write larger than maxInflightWriteBytes goes alone when nothing is in flight', async () => {
  const { p, apply, seqsSent } = pipeline({ maxInflightWriteBytes: 100_000 });
  const small = p.submit(put(0, 10));
  const big = p.submit(put(1, 500_000));
  p.flush(1);
  assert.deepEqual(seqsSent(), [1], 'the large write waits while a write is in flight');
  apply(0);
  p.flush(1);
  assert.deepEqual(seqsSent(), [1, 2]);
  apply(1);
  await Promise.all([small, big]);
});

test('writes accepted and not applied stay within maxPendingWriteBytes: beyond, BUSY; one write always goes when none is pending', async () => {
  const { p, apply, counters } = pipeline({ maxPendingWriteBytes: 1_000_000, maxBatchBytes: 2 * 1024 * 1024 });
  // Until session 32 only maxPendingOps (65 536 calls) bounded what waits here: 64 GiB of 1 MiB puts.
  const accepted = Array.from({ length: 3 }, (_, i) => p.submit(put(i, 300_000)));
  const refused = p.submit(put(3, 300_000));
  await assert.rejects(refused, (e: unknown) => (e as { code?: string }).code === ErrorCode.BUSY && /maxPendingWriteBytes 1000000/.test((e as Error).message));
  assert.equal(counters.busy, 1);
  p.flush(1);
  apply(0); // all three applied: their bytes no longer count
  await Promise.all(accepted);
  const big = p.submit(put(4, 1_500_000)); // larger than the bound, nothing pending: accepted
  const after = p.submit(put(5, 10));
  await assert.rejects(after, (e: unknown) => (e as { code?: string }).code === ErrorCode.BUSY);
  p.flush(1);
  apply(1);
  await big;
  assert.equal(p.size, 0);
});

test('a write slower than retryAfterMs is not sent again while the leader applies the writes sent before it', async () => {
  const { p, sent, apply } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  const b = p.submit(put(1, 10));
  p.flush(1);
  assert.equal(sent.length, 2);
  await new Promise((r) => setTimeout(r, RETRY_AFTER_MS + 50));
  apply(0); // the leader is behind, not stuck: it applies a, sent before b
  p.sweep(nowMs(), ErrorCode.TIMEOUT);
  p.flush(1);
  assert.equal(sent.length, 2, 'b, unresolved for longer than retryAfterMs but not lost, was sent again');
  apply(1);
  await Promise.all([a, b]);
});

test('a write whose batch a later batch to the same node overtook is sent again at once', async () => {
  const { p, sent, apply } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  const b = p.submit(put(1, 10));
  p.flush(1);
  apply(1); // b applied, a not: a's entry was cut off with a term that node led (it leads again)
  p.sweep(nowMs(), ErrorCode.TIMEOUT);
  p.flush(1);
  assert.equal(sent.length, 3);
  assert.deepEqual(sent[2]!.seqs, [1]);
  apply(2);
  await Promise.all([a, b]);
});

test('a write is sent again once its node has resolved nothing for retryAfterMs (stuck, or deposed unseen)', async () => {
  const { p, sent, apply, counters } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  p.sweep(nowMs(), ErrorCode.TIMEOUT);
  p.flush(1);
  assert.equal(sent.length, 1, 'not before retryAfterMs');
  p.sweep(nowMs() + RETRY_AFTER_MS + 1, ErrorCode.TIMEOUT);
  p.flush(1);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.seqs, [1]);
  assert.equal(counters.resends, 1);
  apply(1);
  await a;
});

test('a batch refused by a leader handing leadership over goes again at the next sweep, not at once', async () => {
  const { p, sent, apply } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  p.onProposalFailed(1, sent[0]!.id, { name: 'ClusterError', code: ErrorCode.NOT_LEADER, message: 'transferring', leader: 1 });
  p.flush(1);
  assert.equal(sent.length, 1, 'sent again at once: a tight loop of refusals while the transfer lasts');
  p.sweep(nowMs(), ErrorCode.TIMEOUT);
  p.flush(1);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.seqs, [1]);
  apply(1);
  await a;
});

test('a batch refused by a node that no longer leads goes again at once, to the leader it names', async () => {
  const { p, sent, apply } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  p.onProposalFailed(1, sent[0]!.id, { name: 'ClusterError', code: ErrorCode.NOT_LEADER, message: 'not the leader', leader: 2 });
  p.flush(2);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.to, 2);
  apply(1);
  await a;
});

test('writes refused during a leadership transfer go as soon as the new leader is known', async () => {
  const { p, sent, apply } = pipeline({});
  const a = p.submit(put(0, 10));
  p.flush(1);
  p.onProposalFailed(1, sent[0]!.id, { name: 'ClusterError', code: ErrorCode.NOT_LEADER, message: 'transferring', leader: 1 });
  p.onLeaderChanged(); // the transfer ended: node 2 leads
  p.flush(2);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.to, 2);
  apply(1);
  await a;
});
