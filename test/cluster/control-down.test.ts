// Control-plane calls (comlink) to a node that goes down while they are out. comlink never settles a call whose
// port closed: until session 32, metrics() or status() asked while a node was busy, then crashed, never returned
// (INFO in `threadraft serve` hung with it). Such a call now settles NODE_UNAVAILABLE when the node goes down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { withTimeout } from '../../src/cluster/nodes.js';
import { withCluster } from './helpers.js';

/** `p`, or a failure 15 s from now: the test fails instead of hanging. */
const within = <T>(p: Promise<T>, what: string): Promise<T> => withTimeout(p, 15_000, () => new Error(`${what} did not settle within 15 s`));

test('metrics() and status() asked of a node that crashes before it answers return, that node reported down', async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    const L = await c.waitForLeader();
    const F = c.members().map((m) => m.id).find((id) => id !== L)!;
    const stall = c.stallNodeForTest(F, 20_000).then(
      () => undefined,
      (err: unknown) => err,
    );
    const metrics = c.metrics();
    const status = c.status();
    await c.crash(F); // a stalled node does not answer its stop: the crash waits out its grace, then terminates it
    const [m, s] = await within(Promise.all([metrics, status]), 'metrics() and status()');
    assert.match(m.nodes.find((n) => n.id === F)?.unavailable ?? '', /NODE_UNAVAILABLE|down/);
    assert.ok(m.nodes.filter((n) => n.id !== F).every((n) => n.unavailable === undefined), 'the others answered');
    assert.ok(s.find((n) => n.id === F)?.error !== undefined, 'status() says why node F did not answer');
    const err = await within(stall, 'the stall call');
    assert.ok(err instanceof ClusterError && err.code === ErrorCode.NODE_UNAVAILABLE, `the stall call: ${String(err)}`);
  });
});

test('partition() and setInstrument() with a node that crashes before it answers resolve; the node restarts with the faults', async () => {
  await withCluster({ nodes: 3, sync: false }, async (c) => {
    const L = await c.waitForLeader();
    const others = c.members().map((m) => m.id).filter((id) => id !== L);
    const F = others[0]!;
    await c.put('k', 'before');
    await c.waitReplicas(2, 10_000);
    const stall = c.stallNodeForTest(F, 20_000).catch(() => undefined);
    const partitioned = c.partition([F], c.members().map((m) => m.id).filter((id) => id !== F));
    const instrumented = c.setInstrument(false);
    await c.crash(F);
    await within(Promise.all([partitioned, instrumented]), 'partition() and setInstrument()');
    await c.restart(F);
    await c.put('k', 'after'); // the other two commit it; F, cut off, cannot hear of it
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await c.get('k', { consistency: 'stale', node: F }), 'before', `node ${F} restarted without its partition`);
    await c.heal();
    void stall;
  });
});

test('metrics(), status() and resetMetrics() with a node whose thread is stuck return after requestTimeoutMs, that node reported as not answering', async () => {
  await withCluster({ nodes: 3, storage: 'memory', requestTimeoutMs: 1_000 }, async (c) => {
    const L = await c.waitForLeader();
    const stall = c.stallNodeForTest(L, 6_000);
    const t0 = Date.now();
    const [m, s] = await within(Promise.all([c.metrics(), c.status(), c.resetMetrics()]), 'metrics(), status() and resetMetrics()');
    const took = Date.now() - t0;
    assert.ok(took < 5_000, `they waited for the stuck node: ${took} ms`);
    assert.match(m.nodes.find((n) => n.id === L)?.unavailable ?? '', /TIMEOUT|did not answer/);
    assert.match(s.find((n) => n.id === L)?.error ?? '', /TIMEOUT|did not answer/);
    assert.ok(m.nodes.filter((n) => n.id !== L).every((n) => n.unavailable === undefined), 'the others answered');
    await stall;
  });
});
