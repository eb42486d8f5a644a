// Clear errors (issue #10, "clear errors"): each misuse is a ClusterError with a stable code, returned
// at once: never a raw errno, a wait of startTimeoutMs, or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { withTempDir } from './helpers.js';

function isCode(code: ErrorCode, says?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ClusterError, `a ClusterError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (says) assert.match(e.message, says);
    return true;
  };
}

/** `start` must reject with `code` well before startTimeoutMs (set to 20 s here). */
async function refusedAtOnce(options: Parameters<typeof Cluster.start>[0], code: ErrorCode, says?: RegExp): Promise<void> {
  const t0 = Date.now();
  await assert.rejects(Cluster.start({ startTimeoutMs: 20_000, ...options }), isCode(code, says));
  assert.ok(Date.now() - t0 < 3_000, `refused at once, took ${Date.now() - t0} ms`);
}

test('start: a dir that is a file, under a file, or under /sys is INVALID_ARGUMENT at once', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await refusedAtOnce({ dir: file, nodes: 1 }, ErrorCode.INVALID_ARGUMENT, /not a directory/);
    await refusedAtOnce({ dir: join(file, 'sub'), nodes: 1 }, ErrorCode.INVALID_ARGUMENT, /not a directory/);
    await refusedAtOnce({ dir: '/sys/threadraft-test', nodes: 1 }, ErrorCode.INVALID_ARGUMENT, /kernel filesystem/);
  });
});

test('start: a dir that is not writable is INVALID_ARGUMENT at once', { skip: process.getuid?.() === 0 ? 'root may write anywhere' : false }, async () => {
  await withTempDir(async (tmp) => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro, { mode: 0o500 });
    await refusedAtOnce({ dir: join(ro, 'cluster'), nodes: 1 }, ErrorCode.INVALID_ARGUMENT, /not a writable directory/);
  });
});

test('start: a dir under /proc is INVALID_ARGUMENT at once (a recursive mkdir there never returned)', () => {
  // In a child with a deadline: before the fix the child's event loop froze forever.
  const index = new URL('../../src/index.js', import.meta.url).href;
  const script = `import { Cluster } from ${JSON.stringify(index)};
    Cluster.start({ dir: '/proc/threadraft-test/x', nodes: 1 }).then(
      (c) => { console.log('started'); return c.stop(); },
      (e) => console.log(e.code));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000, encoding: 'utf8' });
  assert.equal(r.signal, null, 'the child finished (it was not killed at the deadline)');
  assert.equal(r.stdout.trim(), ErrorCode.INVALID_ARGUMENT, r.stderr);
});

test('start: a bad logFile (a directory, under a file, in a missing directory) is INVALID_ARGUMENT at once', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const base = { storage: 'memory' as const, nodes: 1, logLevel: 'info' as const };
    await refusedAtOnce({ ...base, logFile: tmp }, ErrorCode.INVALID_ARGUMENT, /is a directory/);
    await refusedAtOnce({ ...base, logFile: join(file, 'log') }, ErrorCode.INVALID_ARGUMENT, /does not exist/);
    await refusedAtOnce({ ...base, logFile: join(tmp, 'missing', 'log') }, ErrorCode.INVALID_ARGUMENT, /does not exist/);
  });
});

test('API misuse is INVALID_ARGUMENT saying why; string values count their UTF-8 bytes; leader() after stop() is undefined', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    const ascii = 'a'.repeat(400_000); // 400 kB of UTF-8, under the 1 MiB limit (was counted as 1.2 MB)
    await c.put('big', ascii);
    assert.equal(((await c.get('big')) as string).length, 400_000);
    assert.deepEqual(await c.cas('big', ascii, ascii), { ok: true, current: ascii });
    await assert.rejects(c.put('big', 'é'.repeat(600_000)), isCode(ErrorCode.INVALID_ARGUMENT, /1200000 bytes/), '1.2 MB of UTF-8 is over the limit');

    await assert.rejects(c.partition([1, 2], [2, 3]), isCode(ErrorCode.INVALID_ARGUMENT, /more than one group/));
    await assert.rejects(c.get('big', { node: 1 }), isCode(ErrorCode.INVALID_ARGUMENT, /stale/));
    await assert.rejects(c.get('big', { consistency: 'lease', node: 1 }), isCode(ErrorCode.INVALID_ARGUMENT, /stale/));
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(c.waitForLeader(bad), isCode(ErrorCode.INVALID_ARGUMENT), `waitForLeader(${bad})`);
    }
    assert.equal(typeof (await c.waitForLeader(0)), 'number', 'waitForLeader(0) returns the known leader');
    await assert.rejects(c.put('k', new Uint16Array([1, 2]) as unknown as Uint8Array), isCode(ErrorCode.INVALID_ARGUMENT, /Uint16Array.*only Uint8Array/));
    await assert.rejects(c.put('k', new Float32Array([1]) as unknown as Uint8Array), isCode(ErrorCode.INVALID_ARGUMENT, /Float32Array.*only Uint8Array/));
    await assert.rejects(c.put(new Uint16Array([1]) as unknown as Uint8Array, 'v'), isCode(ErrorCode.INVALID_ARGUMENT, /key.*Uint16Array/));
    assert.equal(await c.get('k'), undefined, 'nothing was written');
    // Lone surrogates: '\uD800' and '\uDC00' were both written as U+FFFD, one key; a value read back changed.
    for (const call of [() => c.put('\uD800', 'a'), () => c.get('\uDC00'), () => c.delete('x\uDC00'), () => c.batch([{ type: 'put', key: '\uD800', value: 'a' }])]) {
      await assert.rejects(call(), isCode(ErrorCode.INVALID_ARGUMENT, /key "x?\\u[dD][89cC]00" holds a lone surrogate/));
    }
    assert.throws(() => c.peek('\uD800'), isCode(ErrorCode.INVALID_ARGUMENT, /lone surrogate/));
    await assert.rejects(c.put('k', 'v\uD800'), isCode(ErrorCode.INVALID_ARGUMENT, /value .* holds a lone surrogate/));
    await c.put('pair', '\uD83D\uDE00'); // a surrogate pair is one code point: fine
    assert.equal(await c.get('pair'), '\uD83D\uDE00');
    assert.equal(await c.get('k'), undefined, 'nothing was written');
    assert.equal(typeof c.leader(), 'number');
  } finally {
    await c.stop();
  }
  assert.equal(c.leader(), undefined, 'no stale leader id after stop()');
});

test('a node id or an increment that is not one is INVALID_ARGUMENT, never a TypeError (String() of it used to throw)', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    // An object without toString (String() throws), a Symbol (a template literal throws), a number's text, 1.5, 0.
    const bad: unknown[] = [Object.create(null), Symbol('id'), '1', 1.5, 0];
    const byId: Record<string, (id: never) => Promise<unknown>> = {
      crash: (id) => c.crash(id), restart: (id) => c.restart(id), transferLeadership: (id) => c.transferLeadership(id),
      snapshot: (id) => c.snapshot(id), staleGet: (id) => c.get('k', { consistency: 'stale', node: id }),
      setLinkFaults: (id) => c.setLinkFaults({ delayMs: 1, nodes: [id] }), removeNode: (id) => c.removeNode(id),
      promote: (id) => c.promote(id),
    };
    for (const [name, call] of Object.entries(byId)) {
      for (const id of bad) await assert.rejects(call(id as never), isCode(ErrorCode.INVALID_ARGUMENT, /node id must be a positive integer/), name);
      if (name !== 'removeNode' && name !== 'promote') await assert.rejects(call(99 as never), isCode(ErrorCode.NODE_UNAVAILABLE, /no node 99/), `${name}(99)`);
    }
    for (const by of [Object.create(null), '5', 1.5]) {
      await assert.rejects(c.incr('n', by as number), isCode(ErrorCode.INVALID_ARGUMENT, /incr: by must be a safe integer/));
      await assert.rejects(c.decr('n', by as number), isCode(ErrorCode.INVALID_ARGUMENT, /decr: by must be a safe integer/));
    }
    await assert.rejects(c.incr('n', '5' as unknown as number), isCode(ErrorCode.INVALID_ARGUMENT, /got "5"/), 'a text shown as one');
    assert.equal(await c.get('n'), undefined, 'nothing was written');
  } finally {
    await c.stop();
  }
});

test('start: an unknown key inside timing is INVALID_ARGUMENT, as an unknown top-level option is', async () => {
  const timing = { tickMs: 10, heartbeatTicks: 1, electionTimeoutMinTicks: 5, electionTimeoutMaxTicks: 10 };
  await refusedAtOnce({ nodes: 1, storage: 'memory', timing: { ...timing, bogus: 1 } as never }, ErrorCode.INVALID_ARGUMENT, /timing: unknown option bogus/);
});
