// watch(): change events in revision order with no gap and no duplicate, resumable from a retained revision,
// bounded per watcher, cancellable, and continuous across a crash of the node serving the subscription.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster, Watch, WatchEvent } from '../../src/index.js';
import { WATCH_RING } from '../../src/node/watch.js';
import { waitFor, withCluster } from './helpers.js';

/** The next `n` events of `w`, or a failure after `timeoutMs`. */
async function take(w: Watch, n: number, timeoutMs = 10_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${out.length} of ${n} events: ${JSON.stringify(out)}`)), Math.max(1, deadline - Date.now()));
    });
    try {
      const r = await Promise.race([w.next(), timeout]);
      if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events`);
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** No event within `ms` (the watch is quiet, or has ended). */
async function quiet(w: Watch, ms = 300): Promise<IteratorResult<WatchEvent> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([w.next(), new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms)))]);
  clearTimeout(timer);
  return r;
}

function brief(events: WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${String(e.key)}${e.value === undefined ? '' : `=${String(e.value)}`}`);
}

/** The coordinator's watch state and each live node's ring, read through internals (test-only). */
async function watchState(c: Cluster): Promise<{ hub: { watchers: number; node: number | undefined; retaining: boolean }; nodes: Array<{ subscriptions: number; retaining: boolean }> }> {
  const internals = c as unknown as { watches: { stats(): { watchers: number; node: number | undefined; retaining: boolean } }; nodes: { alive(): Array<{ control?: { status(): Promise<Record<string, unknown>> } }> } };
  const nodes = await Promise.all(internals.nodes.alive().map(async (h) => ((await h.control!.status()) as { watch: { subscriptions: number; retaining: boolean } }).watch));
  return { hub: internals.watches.stats(), nodes };
}

async function leaderApplied(c: Cluster): Promise<number> {
  const s = await c.status();
  return s.find((n) => n.id === c.leader())!.applied!;
}

async function keyAndPrefixWatches(c: Cluster): Promise<void> {
  const byKey = c.watch({ key: 'user:1' });
  const byPrefix = c.watch({ prefix: 'user:' });
  const byBytes = c.watch({ prefix: Buffer.from('bin') });
  await waitFor('subscribed', async () => (await watchState(c)).hub.node);
  const before = await leaderApplied(c);
  await c.put('user:1', 'ada');
  await c.put('other', 'x');
  await c.put('user:2', 'grace');
  assert.equal(await c.delete('user:1'), true);
  assert.equal(await c.delete('user:1'), false); // nothing changed: no event
  assert.equal((await c.cas('user:2', 'nope', 'z')).ok, false); // no match: no event
  await c.batch([{ type: 'put', key: 'user:3', value: 'c' }, { type: 'put', key: 'user:1', value: 'back' }]);
  await c.put('binary', new Uint8Array([1, 2]));
  const after = await leaderApplied(c);

  const k = await take(byKey, 3);
  assert.deepEqual(brief(k), ['put user:1=ada', 'delete user:1', 'put user:1=back']);
  const p = await take(byPrefix, 5);
  assert.deepEqual(brief(p), ['put user:1=ada', 'put user:2=grace', 'delete user:1', 'put user:3=c', 'put user:1=back']);
  for (const e of p) assert.equal(typeof e.key, 'string', 'a string watch gives string keys');
  // Revisions are the log indexes that applied them: increasing per write, shared by the ops of one batch.
  const revs = p.map((e) => e.revision);
  assert.ok(revs[0]! > before && revs[4]! <= after, `revisions ${revs} within (${before}, ${after}]`);
  assert.ok(revs[0]! < revs[1]! && revs[1]! < revs[2]! && revs[2]! < revs[3]!, `increasing: ${revs}`);
  assert.equal(revs[3], revs[4], 'one batch, one entry, one revision');
  assert.deepEqual(k.map((e) => e.revision), [revs[0], revs[2], revs[4]]);
  const [b] = await take(byBytes, 1);
  assert.ok(Buffer.isBuffer(b!.key) && Buffer.isBuffer(b!.value), 'a bytes watch gives Buffer keys; byte values are Buffers');
  assert.deepEqual([...(b!.value as Uint8Array)], [1, 2]);
  assert.equal(await quiet(byKey), undefined, 'nothing else for the key');
  for (const w of [byKey, byPrefix, byBytes]) await w.return();
}

test('watch: key and prefix watches see puts and deletes in apply order, with the log index as revision (memory)', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, keyAndPrefixWatches);
});

test('watch: key and prefix watches see puts and deletes in apply order, with the log index as revision (LMDB)', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'lmdb', sync: false }, keyAndPrefixWatches);
});

test('watch: a watch resumed from a retained revision gets exactly the events it missed, then live ones', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    const first = c.watch({ prefix: 'r' });
    await waitFor('subscribed', async () => (await watchState(c)).hub.node);
    for (let i = 0; i < 3; i++) await c.put(`r${i}`, `v${i}`);
    const seen: WatchEvent[] = [];
    for await (const e of first) {
      seen.push(e);
      if (seen.length === 3) break;
    }
    const resumeAt = first.nextRevision!;
    assert.equal(resumeAt, seen[2]!.revision + 1);
    for (let i = 3; i < 8; i++) await c.put(`r${i}`, `v${i}`); // while nobody watches (the rings linger)
    const again = c.watch({ prefix: 'r' }, { fromRevision: resumeAt });
    const missed = await take(again, 5);
    assert.deepEqual(brief(missed), [3, 4, 5, 6, 7].map((i) => `put r${i}=v${i}`));
    await c.put('r8', 'v8');
    assert.deepEqual(brief(await take(again, 1)), ['put r8=v8']);
    // From an earlier retained revision, alongside a live watcher: the same history again, no duplicate after it.
    const replay = c.watch({ prefix: 'r' }, { fromRevision: seen[1]!.revision });
    assert.deepEqual(brief(await take(replay, 8)), [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `put r${i}=v${i}`));
    await c.put('r9', 'v9');
    assert.deepEqual(brief(await take(replay, 1)), ['put r9=v9']);
    assert.deepEqual(brief(await take(again, 1)), ['put r9=v9']);
    assert.equal(await quiet(again), undefined);
    await replay.return();
    await again.return();
  });
});

test('watch: a revision older than the rings retain ends the watch with WATCH_COMPACTED', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    await c.put('early', '1'); // before anyone watched: not retained
    const early = await leaderApplied(c);
    // Every node past it before the first watcher starts the rings: a follower still behind would start its ring
    // before 'early', retain it, and rightly serve it (a flake under load, as the one below).
    await waitFor('every node applied early', async () => (await c.status()).every((n) => (n.applied ?? 0) >= early) || undefined);
    const live = c.watch({ prefix: 'big' });
    await waitFor('subscribed', async () => (await watchState(c)).hub.node);
    await assert.rejects(c.watch({ key: 'early' }, { fromRevision: early }).next(), { code: 'WATCH_COMPACTED' });
    // Past the ring's bound, its oldest revisions go, whole: a watcher that needs them is compacted.
    const batch = 1024;
    const batches = Math.ceil(WATCH_RING.maxEvents / batch) + 1;
    for (let b = 0; b < batches; b++) {
      await c.batch(Array.from({ length: batch }, (_, i) => ({ type: 'put' as const, key: `big${i}`, value: `${b}` })));
    }
    // Every node past the batches: a follower still behind holds the first revision in its ring, and the hub, told
    // 'compacted' by the others, would rightly be served by it (a flake of CI, 1 run in many).
    const last = await leaderApplied(c);
    await waitFor('every node applied the batches', async () => (await c.status()).every((n) => (n.applied ?? 0) >= last) || undefined);
    const [firstEvent] = await take(live, 1);
    await assert.rejects(c.watch({ prefix: 'big' }, { fromRevision: firstEvent!.revision }).next(), { code: 'WATCH_COMPACTED' });
    // The live watcher's default buffer (1024) holds one batch, then the next overflows: a slow consumer ends.
    const rest = await take(live, batch - 1);
    assert.equal(rest.length, batch - 1);
    await assert.rejects(take(live, 1), { code: 'WATCH_OVERFLOW' });
  });
});

test('watch: a slow consumer ends with WATCH_OVERFLOW after what it buffered (never more than bufferSize), and resumes from nextRevision', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    const slow = c.watch({ key: 'hot' }, { bufferSize: 5 });
    await waitFor('subscribed', async () => (await watchState(c)).hub.node);
    for (let i = 0; i < 20; i++) {
      await c.put('hot', `v${i}`);
      assert.ok(slow.buffered <= 5, `buffered ${slow.buffered}`);
    }
    assert.equal(slow.buffered, 5);
    const got = await take(slow, 5);
    assert.deepEqual(got.map((e) => e.value), ['v0', 'v1', 'v2', 'v3', 'v4']);
    await assert.rejects(slow.next(), { code: 'WATCH_OVERFLOW' });
    assert.deepEqual(await slow.next(), { value: undefined, done: true }, 'the error is thrown once, then the watch is done');
    assert.ok(slow.nextRevision! > got[4]!.revision);
    const resumed = c.watch({ key: 'hot' }, { fromRevision: slow.nextRevision! });
    const rest = await take(resumed, 15);
    assert.deepEqual(rest.map((e) => e.value), Array.from({ length: 15 }, (_, i) => `v${i + 5}`));
    await resumed.return();
  });
});

test('watch: an AbortSignal and break end the iterator and release the subscription; stop() ends the rest', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, async (c) => {
    const ac = new AbortController();
    const aborted = c.watch({ key: 'a' }, { signal: ac.signal });
    const broken = c.watch({ key: 'a' });
    await waitFor('subscribed', async () => (await watchState(c)).hub.node);
    const pending = aborted.next();
    ac.abort();
    assert.deepEqual(await pending, { value: undefined, done: true });
    await c.put('a', '1');
    let n = 0;
    for await (const e of broken) {
      assert.equal(e.value, '1');
      n++;
      break;
    }
    assert.equal(n, 1);
    await waitFor('released', async () => {
      const s = await watchState(c);
      return s.hub.watchers === 0 && s.hub.node === undefined && s.nodes.every((x) => x.subscriptions === 0) && s.nodes.every((x) => x.retaining);
    });
    const already = new AbortController();
    already.abort();
    assert.deepEqual(await c.watch({ key: 'a' }, { signal: already.signal }).next(), { value: undefined, done: true });
    assert.throws(() => c.watch({ key: '' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => c.watch({ key: 'a', prefix: 'a' } as never), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => c.watch({ key: 'a' }, { bufferSize: 0 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => c.watch({ key: 'a' }, { fromRevision: -1 }), { code: 'INVALID_ARGUMENT' });
    // An unknown option or target field is refused, as any call's: a misspelt bufferSize would otherwise be the default.
    assert.throws(() => c.watch({ key: 'a' }, { buffer: 5 } as never), { code: 'INVALID_ARGUMENT', message: 'watch: unknown option buffer' });
    assert.throws(() => c.watch({ key: 'a', revision: 3 } as never), { code: 'INVALID_ARGUMENT', message: /unknown field revision/ });
    assert.throws(() => c.watch({ key: 'a' }, null as never), { code: 'INVALID_ARGUMENT', message: 'watch options must be an object' });

    const open = c.watch({ prefix: '' });
    await waitFor('subscribed', async () => (await watchState(c)).hub.node);
    await c.put('b', '2');
    const waiting = take(open, 2, 20_000).then(() => 'two events', (e: Error) => e.message);
    await c.stop();
    assert.equal(await waiting, 'watch ended after 1 of 2 events', 'stop() ends the watch cleanly after what it buffered');
    assert.throws(() => c.watch({ key: 'a' }), { code: 'CLUSTER_STOPPED' });
  });
});

/** Writes under a prefix while the node serving the watch is crashed (and, on LMDB, restarted): no gap, no duplicate. */
async function crashServingNode(c: Cluster, restart: boolean): Promise<void> {
  const w = c.watch({ prefix: 'c/' }, { bufferSize: 100_000 });
  const serving = await waitFor('subscribed', async () => (await watchState(c)).hub.node);
  const acknowledged: string[] = [];
  const writers = [0, 1, 2].map(async (wi) => {
    for (let i = 0; i < 60; i++) {
      const value = `w${wi}-${i}`;
      try {
        await c.put(`c/${wi}`, value);
        acknowledged.push(value);
      } catch (err) {
        if ((err as { code?: string }).code !== 'TIMEOUT' && (err as { code?: string }).code !== 'NO_QUORUM') throw err;
      }
    }
  });
  await waitFor('some writes', () => acknowledged.length >= 30 || undefined);
  await c.crash(serving);
  const moved = await waitFor('resubscribed', async () => {
    const node = (await watchState(c)).hub.node;
    return node !== undefined && node !== serving ? node : undefined;
  });
  if (restart) await c.restart(serving);
  await Promise.all(writers);
  await c.put('c/end', 'end');
  const events: WatchEvent[] = [];
  while (events[events.length - 1]?.key !== 'c/end') events.push(...(await take(w, 1, 20_000)));
  const values = events.map((e) => String(e.value));
  assert.equal(new Set(values).size, values.length, 'no event twice');
  for (const v of acknowledged) assert.ok(values.includes(v), `acknowledged ${v} was delivered`);
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.revision >= events[i - 1]!.revision, 'revisions never go back');
  for (const wi of [0, 1, 2]) {
    const mine = events.filter((e) => e.key === `c/${wi}`).map((e) => Number(String(e.value).split('-')[1]));
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `writer ${wi}'s puts in order`);
  }
  assert.notEqual(moved, serving);
  await w.return();
}

test('watch: a crash of the node serving the subscription loses and duplicates nothing (memory)', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'memory' }, (c) => crashServingNode(c, false));
});

test('watch: a crash and restart of the node serving the subscription loses and duplicates nothing (LMDB)', { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3, storage: 'lmdb', sync: false }, (c) => crashServingNode(c, true));
});

for (const storage of ['memory', 'lmdb'] as const) {
  test(`watch: on an idle cluster an expired key is removed and its watchers hear 'expire' without any later write (${storage})`, { timeout: 60_000 }, async () => {
    await withCluster({ nodes: 3, storage }, async (c) => {
      const w = c.watch({ prefix: 'idle/' });
      await w.started;
      await c.put('idle/a', 'x', { ttlMs: 150 });
      await c.put('idle/b', 'y', { ttlMs: 300 });
      await c.put('idle/kept', 'z');
      const t0 = Date.now();
      // No write after these: the leader proposes the entries that purge them once each is due.
      const events = await take(w, 5, 10_000);
      assert.deepEqual(events.map((e) => [e.type, e.key]), [['put', 'idle/a'], ['put', 'idle/b'], ['put', 'idle/kept'], ['expire', 'idle/a'], ['expire', 'idle/b']]);
      assert.ok(Date.now() - t0 < 5_000, 'heard soon after their expiry');
      const leader = await c.waitForLeader();
      await waitFor('every node purged them', async () => {
        const m = await c.metrics();
        return m.nodes.every((n) => n.counters.keys === 1) ? true : undefined;
      }, 10_000);
      const idle = (await c.metrics()).nodes.find((n) => n.id === leader)!.counters.idlePurges ?? 0;
      assert.ok(idle >= 1 && idle <= 20, `a few purge entries, one per key due at most per tick: ${idle}`);
      await w.return();
    });
  });
}

test('watch decodes values with the cluster codec (json)', async () => {
  await withCluster({ nodes: 3, storage: 'memory', codec: 'json' }, async (c) => {
    const w = (c as unknown as Cluster<unknown>).watch<{ n: number }>({ prefix: 'j/' });
    await (c as unknown as Cluster<unknown>).put('j/1', { n: 1 });
    const first = await w.next();
    assert.deepEqual(first.value?.value, { n: 1 });
    await w.return();
  });
});

test('a value the codec cannot decode (written raw by batch) is NOT_DECODABLE for reads and ends a watch, and nothing crashes', async () => {
  for (const codec of ['json', 'msgpack'] as const) {
    await withCluster({ nodes: 3, storage: 'memory', codec }, async (cc) => {
      const c = cc as unknown as Cluster<unknown>;
      const w = c.watch<unknown>({ prefix: 'j/' });
      await w.started;
      await c.put('j/0', { n: 0 });
      // Not JSON text; for msgpack, an array of two whose second element is missing.
      await c.batch([{ type: 'put', key: 'j/1', value: codec === 'json' ? 'plain text' : new Uint8Array([0x92, 0x01]) }]);
      await c.put('j/2', { n: 2 });
      const first = await w.next();
      assert.deepEqual(first.value?.value, { n: 0 });
      await assert.rejects(w.next(), (err: Error & { code?: string }) => err.code === 'NOT_DECODABLE', codec);
      assert.equal(w.nextRevision, first.value!.revision + 1, 'resume from the revision that failed');
      await assert.rejects(c.get('j/1'), (err: Error & { code?: string }) => err.code === 'NOT_DECODABLE');
      await assert.rejects(c.scan({ prefix: 'j/' }), (err: Error & { code?: string }) => err.code === 'NOT_DECODABLE');
      // A cas that does not match reports the current value: it cannot decode it either; nothing was written.
      await assert.rejects(c.cas('j/1', 'x', 'y'), (err: Error & { code?: string }) => err.code === 'NOT_DECODABLE');
      assert.deepEqual(await c.get('j/2'), { n: 2 });
      await c.put('j/1', 'fixed');
      assert.equal(await c.get('j/1'), 'fixed');
    });
  }
});
