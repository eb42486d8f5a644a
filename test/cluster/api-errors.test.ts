// The error codes TIMEOUT, NO_QUORUM, NODE_UNAVAILABLE and STORAGE provoked through the public API, and
// direct tests of transferLeadership and setLinkFaults (chaos runs them but swallows their failures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ClusterError, ErrorCode, type NodeId } from '../../src/index.js';
import { DATA_FILE, FORMAT_VERSION } from '../../src/storage/lmdb.js';
import { withCluster, withTempDir } from './helpers.js';

function isCode(code: ErrorCode): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ClusterError, `a ClusterError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

function followers(c: Cluster): NodeId[] {
  const leader = c.leader();
  return c.members().filter((m) => m.alive && m.id !== leader).map((m) => m.id);
}

test('NODE_UNAVAILABLE for a crashed or unknown node; NO_QUORUM when a majority is down; writes again once it is back', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3, requestTimeoutMs: 1000 }, async (c) => {
    await c.put('k', 'v1');
    const [down] = followers(c);
    await c.crash(down!);
    await assert.rejects(c.get('k', { consistency: 'stale', node: down! }), isCode(ErrorCode.NODE_UNAVAILABLE));
    await assert.rejects(c.get('k', { consistency: 'stale', node: 99 }), isCode(ErrorCode.NODE_UNAVAILABLE));
    assert.throws(() => c.peek('k', down!), isCode(ErrorCode.NODE_UNAVAILABLE));
    await assert.rejects(c.transferLeadership(down!), isCode(ErrorCode.NODE_UNAVAILABLE));
    await assert.rejects(c.snapshot(down!), isCode(ErrorCode.NODE_UNAVAILABLE));
    await c.put('k', 'v2'); // two of three: still a quorum

    const leader = c.leader()!;
    await c.crash(leader); // one node of three left: no leader can be elected
    assert.equal(c.leader(), undefined);
    await assert.rejects(c.put('k', 'v3'), isCode(ErrorCode.NO_QUORUM));
    await assert.rejects(c.get('k'), isCode(ErrorCode.NO_QUORUM));
    await assert.rejects(c.get('k', { consistency: 'lease' }), isCode(ErrorCode.NO_QUORUM));

    await c.restart(down!);
    await c.waitForLeader(10_000);
    const v = await c.get('k');
    assert.ok(v === 'v2' || v === 'v3', `the acknowledged write or the later one of unknown outcome, got ${String(v)}`);
  });
});

test('TIMEOUT while a leader is known but cannot commit; dropRate 1 on one follower leaves the other to commit', { timeout: 60_000 }, async () => {
  // The 'seed' timing (election timeout 1.5–3 s): the leader keeps leading (check-quorum) well past the 600 ms deadline.
  await withCluster({ nodes: 3, timing: 'seed', requestTimeoutMs: 600 }, async (c) => {
    await c.put('a', '1');
    const leader = c.leader()!;
    const [mute, other] = followers(c);
    await c.setLinkFaults({ dropRate: 1, nodes: [mute!] }); // every message node `mute` sends is dropped
    await c.put('b', '2'); // leader + `other`
    assert.equal(await c.get('b'), '2');

    await c.crash(other!); // left: the leader and a follower whose acknowledgements never arrive
    await assert.rejects(c.put('c', '3'), isCode(ErrorCode.TIMEOUT));
    assert.equal(c.leader(), leader, 'the leader was known all along (TIMEOUT, not NO_QUORUM)');

    await c.setLinkFaults({ nodes: [mute!] }); // clear: the follower's acknowledgements arrive again
    await c.put('d', '4');
    assert.equal(await c.get('d'), '4');
  });
});

test('STORAGE when a node cannot open its store (written in a format this code does not read)', { timeout: 60_000 }, async () => {
  // (A directory held by another process is refused before any node starts, with DIR_LOCKED.)
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    await c.put('k', 'v');
    await c.stop();
    const setFormat = async (v: number): Promise<unknown> => {
      const env = open({ path: join(dir, 'node-2', DATA_FILE), maxDbs: 8 });
      const meta = env.openDB({ name: 'meta', encoding: 'binary' });
      const old = meta.get('format');
      await meta.put('format', pack(v));
      await env.close();
      return old;
    };
    const original = await setFormat(99); // as a future version would leave it
    assert.ok(original !== undefined, 'node 2 records its format under meta/format');
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), (e: unknown) => {
      isCode(ErrorCode.STORAGE)(e);
      assert.match((e as Error).message, /node 2 .*FORMAT_VERSION/);
      return true;
    });
    await setFormat(FORMAT_VERSION); // put back: the same directory starts and has the write
    const again = await Cluster.start({ dir, nodes: 3 });
    try {
      assert.equal(await again.get('k'), 'v');
    } finally {
      await again.stop();
    }
  });
});

test('a node whose log environment is damaged stays down (CORRUPT) while the others start and serve; replaceNode swaps it; two of three damaged fail the start', { timeout: 90_000 }, async () => {
  // lmdb-js answers a file LMDB refuses with SIGSEGV, which would take this whole process down, test runner
  // included: the store checks the meta pages first (src/storage/env-header.ts).
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    for (let i = 0; i < 20; i++) await c.put(`k${i}`, `v${i}`);
    await c.stop();
    const logOf = (id: number): string => join(dir, `node-${id}`, DATA_FILE);
    const sound = [1, 2, 3].map((id) => readFileSync(logOf(id)));
    const zeros = Buffer.alloc(64 * 1024); // what a file system can give back after a crash

    writeFileSync(logOf(2), zeros);
    writeFileSync(logOf(3), zeros);
    await assert.rejects(Cluster.start({ dir, nodes: 3 }), (e: unknown) => {
      isCode(ErrorCode.STORAGE)(e);
      assert.match((e as Error).message, /node [23] .*CORRUPT.*data\.mdb is damaged: meta page 0: not a meta page/);
      return true;
    }, 'two of three voters damaged: no majority to start with');
    writeFileSync(logOf(3), sound[2]!);

    const degraded = await Cluster.start({ dir, nodes: 3 });
    try {
      const down = (await degraded.status()).find((s) => s.id === 2)!;
      assert.equal(down.alive, false);
      assert.match(down.error ?? '', /CORRUPT/);
      for (let i = 0; i < 20; i++) assert.equal(await degraded.get(`k${i}`), `v${i}`, 'nothing acknowledged is lost');
      await degraded.put('while-down', 'yes');
      await degraded.replaceNode(2, 4);
      assert.deepEqual(degraded.members().map((m) => m.id).sort(), [1, 3, 4]);
      assert.equal(existsSync(join(dir, 'node-2')), false, 'the removed node\'s store, damaged file included, is deleted');
      assert.equal(await degraded.get('while-down'), 'yes');
    } finally {
      await degraded.stop();
    }
    const again = await Cluster.start({ dir });
    try {
      assert.deepEqual(again.members().map((m) => m.id).sort(), [1, 3, 4], 'the replacement is what the directory holds now');
      assert.equal(await again.get('k19'), 'v19');
      assert.equal(await again.get('while-down'), 'yes');
    } finally {
      await again.stop();
    }
  });
});

test('a node with a damaged log record stays down (CORRUPT: the record\'s checksum) instead of applying a write nobody made', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, nodes: 3 });
    await c.put('k', 'needle-value');
    // Acknowledged means on a majority: node 2 may be the follower that has not written it yet (then nothing to damage).
    assert.equal(await c.waitReplicas(2, 10_000), 2);
    await c.stop();
    const path = join(dir, 'node-2', DATA_FILE);
    const bytes = readFileSync(path);
    let flipped = 0;
    for (let at = bytes.indexOf('needle-value'); at >= 0; at = bytes.indexOf('needle-value', at + 1), flipped++) bytes[at] = 0x4e; // 'N'
    assert.ok(flipped > 0);
    writeFileSync(path, bytes);
    const degraded = await Cluster.start({ dir, nodes: 3 });
    try {
      const down = (await degraded.status()).find((s) => s.id === 2)!;
      assert.equal(down.alive, false);
      assert.match(down.error ?? '', /CORRUPT.*log entry \d+ is damaged: checksum mismatch/);
      assert.equal(await degraded.get('k'), 'needle-value');
    } finally {
      await degraded.stop();
    }
  });
});

test('restart refuses a node whose log environment is gone or empty (it forgot its votes): STORAGE (CORRUPT); replaceNode swaps it', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c, dir) => {
    await c.put('k', 'v');
    const [a] = followers(c);
    await c.crash(a!);
    truncateSync(join(dir, `node-${a}`, DATA_FILE), 0);
    await assert.rejects(c.restart(a!), isCode(ErrorCode.STORAGE), 'an empty log environment');
    rmSync(join(dir, `node-${a}`), { recursive: true, force: true }); // a disk replaced, a folder deleted
    await assert.rejects(c.restart(a!), (e: unknown) => {
      isCode(ErrorCode.STORAGE)(e);
      assert.match((e as Error).message, new RegExp(`node ${a} failed: .*CORRUPT.*data\\.mdb is missing or empty, and this store was created before`));
      return true;
    });
    assert.equal(c.members().find((m) => m.id === a)?.alive, false, 'it did not come back empty');
    await c.replaceNode(a!, 4);
    await c.put('after', 'replace');
    assert.equal(await c.get('k'), 'v');
  });
});

test('a reopen where one node\'s log environment is empty starts without it (CORRUPT); where every one is empty (a first start cut short), starts anew', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const logOf = (id: number): string => join(dir, `node-${id}`, DATA_FILE);
    const c = await Cluster.start({ dir, nodes: 3 });
    await c.put('k', 'v');
    await c.stop();
    truncateSync(logOf(3), 0);
    const degraded = await Cluster.start({ dir, nodes: 3 });
    try {
      const down = (await degraded.status()).find((s) => s.id === 3)!;
      assert.equal(down.alive, false, 'node 3 did not come back without its votes');
      assert.match(down.error ?? '', /CORRUPT.*is missing or empty/);
      assert.equal(await degraded.get('k'), 'v');
    } finally {
      await degraded.stop();
    }
    for (const id of [1, 2, 3]) truncateSync(logOf(id), 0); // as a power loss during the very first start leaves it
    const fresh = await Cluster.start({ dir, nodes: 3 });
    try {
      assert.equal((await fresh.status()).filter((s) => s.alive).length, 3);
      assert.equal(await fresh.get('k'), undefined, 'no store held anything: a new cluster');
    } finally {
      await fresh.stop();
    }
  });
});

test('transferLeadership to each follower in turn: the leader moves there and writes continue', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('x', 'start');
    const first = c.leader()!;
    const order = [...followers(c), first];
    for (const target of order) {
      await c.transferLeadership(target);
      assert.equal(c.leader(), target);
      const status = await c.status();
      assert.equal(status.find((s) => s.id === target)?.role, 'leader', `node ${target} reports itself leader`);
      await c.put('x', `led-by-${target}`);
      assert.equal(await c.get('x'), `led-by-${target}`);
    }
  });
});

test('setLinkFaults: a link delay holds writes back by at least the delay; clearing it restores; invalid faults are rejected', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('w', '0');
    const delayMs = 150;
    await c.setLinkFaults({ delayMs });
    // A commit needs the leader's append to reach a follower and its acknowledgement to come back: two delayed hops.
    for (let i = 1; i <= 3; i++) {
      const t0 = performance.now();
      await c.put('w', String(i));
      const took = performance.now() - t0;
      assert.ok(took >= delayMs, `write ${i} took ${took.toFixed(1)} ms with a ${delayMs} ms link delay`);
    }
    await c.setLinkFaults({});
    await c.put('w', 'after');
    assert.equal(await c.get('w'), 'after');

    const invalid = isCode(ErrorCode.INVALID_ARGUMENT);
    await assert.rejects(c.setLinkFaults({ dropRate: 1.5 }), invalid);
    await assert.rejects(c.setLinkFaults({ dropRate: -0.1 }), invalid);
    await assert.rejects(c.setLinkFaults({ dropRate: Number.NaN }), invalid);
    await assert.rejects(c.setLinkFaults({ dropRate: '0.5' as unknown as number }), invalid);
    await assert.rejects(c.setLinkFaults({ delayMs: -1 }), invalid);
    await assert.rejects(c.setLinkFaults({ delayMs: 1.5 }), invalid);
    await assert.rejects(c.setLinkFaults({ delayMs: 60_001 }), invalid);
    await assert.rejects(c.setLinkFaults({ dropRate: 1, nodes: [42] }), isCode(ErrorCode.NODE_UNAVAILABLE)); // not silently ignored
    await assert.rejects(c.setLinkFaults({ dropRate: 1, nodes: 1 as unknown as number[] }), invalid);
    await c.put('w', 'end');
    assert.equal(await c.get('w'), 'end');
  });
});
