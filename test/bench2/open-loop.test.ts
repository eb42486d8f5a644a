import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoop, type Clock } from '../../bench/open-loop.js';

/**
 * A simulated clock: timers resolve in time order, and time jumps to the next timer only once every
 * promise that can run has run (a macrotask turn between steps).
 */
class FakeClock implements Clock {
  t = 0;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  sleepUntil(ms: number): Promise<void> {
    return this.at(ms);
  }
  at(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: Math.max(ms, this.t), seq: this.seq++, resolve });
    });
  }
  /** Runs until `done` settles. */
  async run(done: Promise<unknown>): Promise<void> {
    let finished = false;
    void done.finally(() => (finished = true));
    for (let guard = 0; !finished; guard++) {
      assert.ok(guard < 1_000_000, 'fake clock: runaway');
      await new Promise((r) => setImmediate(r));
      if (finished) break;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      assert.ok(next !== undefined, 'fake clock: nothing scheduled but the loop is not done');
      this.t = next.at;
      next.resolve();
    }
  }
}

/** A fake cluster: every call takes `serviceMs`, except that nothing completes during [stallFrom, stallTo). */
function fakeCluster(clock: FakeClock, serviceMs: number, stallFrom: number, stallTo: number): () => Promise<number> {
  return async () => {
    let done = clock.now() + serviceMs;
    if (done >= stallFrom && done < stallTo) done = stallTo;
    await clock.at(done);
    return 1;
  };
}

test('open loop: a stall of X ms shows in the latencies of every call scheduled during it (coordinated omission corrected)', async () => {
  const clock = new FakeClock();
  const latencies: number[] = [];
  const call = fakeCluster(clock, 1, 500, 600); // 1 ms per call; a 100 ms stall from t = 500
  const p = openLoop(clock, { ratePerSec: 1000, durationMs: 1000, maxInFlight: 10_000 }, () => call(), (ms) => latencies.push(ms));
  await clock.run(p);
  const stats = await p;
  assert.equal(stats.sent, 1000);
  assert.equal(stats.done, 1000);
  assert.equal(stats.errors, 0);
  // Calls are due at t = 0, 1, ..., 999 ms; those that would complete during [500, 600) complete at 600:
  // the calls due at 499..598 waited 101 ms down to 2 ms, the others 1 ms.
  const sorted = latencies;
  const slow = sorted.filter((ms) => ms > 1.5);
  assert.equal(slow.length, 100);
  assert.ok(Math.max(...sorted) >= 100 && Math.max(...sorted) <= 101.5, `max ${Math.max(...sorted)}`);
  // The stall's latencies fall linearly: the call due X ms before its end waited X ms.
  const tail = slow.sort((a, b) => b - a);
  assert.ok(Math.abs(tail[0]! - 101) < 1e-9 && Math.abs(tail[49]! - 52) < 1e-9, `${tail[0]}, ${tail[49]}`);
});

test('open loop: a stall of the sending thread itself (a blocked event loop) still shows in the calls due during it', async () => {
  const clock = new FakeClock();
  // The sender's timers cannot fire during [500, 600): every sleep that ends in it ends at 600.
  const blocked: Clock = {
    now: () => clock.now(),
    sleepUntil: (ms) => clock.at(ms >= 500 && ms < 600 ? 600 : ms),
  };
  const lat: number[] = [];
  const lags: number[] = [];
  const p = openLoop(blocked, { ratePerSec: 1000, durationMs: 1000, maxInFlight: 10_000 }, async () => {
    await clock.at(clock.now() + 1);
    return 1;
  }, (ms, _ops, lagMs) => {
    lat.push(ms);
    lags.push(lagMs);
  });
  await clock.run(p);
  const s = await p;
  assert.equal(s.sent, 1000);
  // The calls due at 500..599 are sent together at 600: measured from their intended times they waited
  // 101 ms down to 2 ms; measured from when they were sent (what a closed loop would do) they took 1 ms.
  const slow = lat.filter((ms) => ms > 1.5).sort((a, b) => b - a);
  assert.equal(slow.length, 100);
  assert.ok(Math.abs(slow[0]! - 101) < 1e-9 && Math.abs(slow[99]! - 2) < 1e-9, `${slow[0]}, ${slow[99]}`);
  assert.ok(s.late >= 99);
  // The generator's lag is reported apart: 100 ms for the call due at 500, none outside the stall.
  assert.equal(Math.max(...lags), 100);
  assert.equal(lags.filter((l) => l > 0).length, 100);
});

test('a closed loop over the same stall records one slow call (the omission the open loop corrects)', async () => {
  const clock = new FakeClock();
  const call = fakeCluster(clock, 1, 500, 600);
  const lat: number[] = [];
  const loop = (async () => {
    while (clock.now() < 1000) {
      const t0 = clock.now();
      await call();
      lat.push(clock.now() - t0);
    }
  })();
  await clock.run(loop);
  assert.equal(lat.filter((ms) => ms > 1.5).length, 1);
});

test('open loop: calls held back by the in-flight bound count their wait', async () => {
  const clock = new FakeClock();
  const lat: number[] = [];
  // 10 ms per call, at most 2 in flight (200 calls/s) against 300 calls/s for 1 s: the generator falls behind.
  const p = openLoop(clock, { ratePerSec: 300, durationMs: 1000, maxInFlight: 2 }, async () => {
    await clock.at(clock.now() + 10);
    return 1;
  }, (ms) => lat.push(ms));
  await clock.run(p);
  const stats = await p;
  assert.equal(stats.sent, 300);
  assert.equal(stats.unsent, 0);
  assert.ok(stats.late > 250, `late ${stats.late}`);
  // One call every 5 ms: the last call, due at 997 ms, goes out near 1,495 ms.
  assert.ok(Math.max(...lat) > 450, `max ${Math.max(...lat)}`);
});

test('open loop: bounded in time: a whole duration behind, it stops sending and counts the calls not sent', async () => {
  const clock = new FakeClock();
  // 100 ms per call, 1 in flight, 1000 calls/s for 100 ms: one call per 100 ms is all the "cluster" takes.
  const p = openLoop(clock, { ratePerSec: 1000, durationMs: 100, maxInFlight: 1 }, async () => {
    await clock.at(clock.now() + 100);
    return 1;
  }, () => undefined);
  await clock.run(p);
  const s = await p;
  assert.ok(clock.now() <= 400, `ran until ${clock.now()}`); // not 100 × 100 ms
  assert.equal(s.sent + s.unsent, 100);
  assert.ok(s.unsent > 90, `unsent ${s.unsent}`);
});

test('open loop: errors are counted, not recorded', async () => {
  const clock = new FakeClock();
  const lat: number[] = [];
  const p = openLoop(clock, { ratePerSec: 100, durationMs: 100, maxInFlight: 10 }, async (i) => {
    await clock.at(clock.now() + 1);
    if (i % 2 === 1) throw new Error('boom');
    return 1;
  }, (ms) => lat.push(ms));
  await clock.run(p);
  const s = await p;
  assert.equal(s.sent, 10);
  assert.equal(s.errors, 5);
  assert.equal(lat.length, 5);
  assert.match(s.firstError ?? '', /boom/);
});
