// Bad input through the public API: every invalid key, value, option and configuration gets
// INVALID_ARGUMENT, and nothing is written (issue 7 §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';

const isInvalid = (e: unknown): boolean => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT;

const badKey = fc.oneof(
  fc.constant(''),
  fc.constant(new Uint8Array(0)),
  fc.string({ minLength: 1025, maxLength: 2000 }),
  fc.uint8Array({ minLength: 1025, maxLength: 1500 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.object(),
  fc.array(fc.string()),
);
const badValue = fc.oneof(fc.integer(), fc.boolean(), fc.constant(undefined), fc.object(), fc.array(fc.integer()), fc.double());
const goodKey = fc.string({ minLength: 1, maxLength: 50 });
const unknownField = fc.string({ minLength: 1, maxLength: 12 }).filter((f) => !['type', 'key', 'value', 'ttlMs', 'atMs', 'keepTtl', 'condition', 'fromRevision', 'signal', 'bufferSize'].includes(f));

test('invalid keys, values and operations are rejected with INVALID_ARGUMENT and write nothing', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory', maxValueBytes: 4096 });
  try {
    await fc.assert(
      fc.asyncProperty(badKey, goodKey, badValue, unknownField, async (k, gk, v, field) => {
        await assert.rejects(() => c.put(k as string, 'v'), isInvalid);
        await assert.rejects(() => c.get(k as string), isInvalid);
        await assert.rejects(() => c.delete(k as string), isInvalid);
        await assert.rejects(() => c.cas(k as string, null, 'v'), isInvalid);
        await assert.rejects(() => c.put(gk, v as unknown as string), isInvalid);
        await assert.rejects(() => c.put(gk, null as unknown as string), isInvalid);
        await assert.rejects(() => c.put(gk, 'x'.repeat(4097)), isInvalid);
        // undefined is absence in cas (docs/cache.md), not an invalid value.
        if (v !== undefined) await assert.rejects(() => c.cas(gk, v as unknown as string, 'x'), isInvalid);
        await assert.rejects(() => c.batch([{ type: 'put', key: gk, value: 'ok' }, { type: 'put', key: k as string, value: 'v' }]), isInvalid);
        await assert.rejects(() => c.batch([{ type: 'frobnicate', key: gk } as never]), isInvalid);
        await assert.rejects(() => c.get(gk, { consistency: (v ?? 7) as never }), isInvalid);
        // A field or option the call does not take (a misspelling) is refused, never ignored.
        await assert.rejects(() => c.batch([{ type: 'put', key: gk, value: 'ok', [field]: 1 } as never]), isInvalid);
        await assert.rejects(() => c.put(gk, 'ok', { [field]: 1 } as never), isInvalid);
        assert.throws(() => c.watch({ key: gk }, { [field]: 1 } as never), isInvalid);
      }),
      { numRuns: 150 },
    );
    await assert.rejects(() => c.batch('nope' as never), isInvalid);
    await assert.rejects(() => c.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v' }))), isInvalid);
    const m = await c.metrics();
    assert.equal(m.coordinator.writes, 0, 'no invalid call reached the write path');
    assert.equal(m.coordinator.batchesSent, 0, 'nothing was proposed');
    const leader = m.nodes.find((n) => n.id === c.leader())!;
    assert.equal(leader.counters.proposals ?? 0, 0, 'the leader received no proposal');
  } finally {
    await c.stop();
  }
});

test('invalid configurations are rejected with INVALID_ARGUMENT before any worker starts', async () => {
  const bad = fc.oneof(
    fc.record({ nodes: fc.oneof(fc.integer({ min: -5, max: 0 }), fc.integer({ min: 8, max: 100 }), fc.double({ noInteger: true }), fc.string()) }),
    fc.record({ storage: fc.string().filter((s) => s !== 'lmdb' && s !== 'memory') }),
    fc.record({ pool: fc.string().filter((s) => s !== 'piscina' && s !== 'inline') }),
    fc.record({ sync: fc.oneof(fc.string(), fc.integer()) }),
    fc.record({ timing: fc.oneof(fc.string().filter((s) => s !== 'fast' && s !== 'seed'), fc.record({ tickMs: fc.integer({ min: -10, max: 0 }) })) }),
    fc.record({ requestTimeoutMs: fc.oneof(fc.integer({ max: 0 }), fc.constant(Number.NaN)) }),
    fc.record({ maxPendingOps: fc.integer({ max: 0 }) }),
    fc.record({ maxInflightWriteBytes: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string()) }),
    fc.record({ maxPendingWriteBytes: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string()) }),
    fc.record({ logLevel: fc.string().filter((s) => !['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(s)) }),
    fc.dictionary(fc.string().filter((s) => s.length > 0 && !['nodes', 'dir', 'storage', 'pool', 'sync', 'timing', 'requestTimeoutMs', 'maxBatchOps', 'maxBatchBytes', 'maxPendingOps', 'maxInflightWriteBytes', 'maxPendingWriteBytes', 'maxValueBytes', 'snapshotEveryEntries', 'instrument', 'logLevel', 'logFile', 'seed', 'startTimeoutMs', 'codec', 'maxKeys', 'maxBytes'].includes(s)), fc.anything(), { minKeys: 1, maxKeys: 2 }),
  );
  await fc.assert(
    fc.asyncProperty(bad, async (opts) => {
      await assert.rejects(() => Cluster.start(opts as never), isInvalid);
    }),
    { numRuns: 200 },
  );
  await assert.rejects(() => Cluster.start('three' as never), isInvalid);
  await assert.rejects(() => Cluster.start({ timing: { tickMs: 10, heartbeatTicks: 10, electionTimeoutMinTicks: 5, electionTimeoutMaxTicks: 20 } }), isInvalid);
});
