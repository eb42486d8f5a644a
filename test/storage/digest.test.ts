// The digest op (Cluster.checkReplicas): a replica's whole state as one SHA-256, the same for the same state in
// every store, and different when what a client can read differs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Entry } from '../../src/raft/types.js';
import type { Op, OpResult, ReplicaDigest } from '../../src/storage/command.js';
import { stampEntryData } from '../../src/storage/command.js';
import { LmdbStore } from '../../src/storage/lmdb.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { SyncStore } from '../../src/storage/store.js';
import { cmd, cmdEntry, del, k, put, tempDir } from './helpers.js';

const membership = { voters: [1] };
const T0 = 1_700_000_000_000;

/** Applies commands one entry each, stamped T0 + index seconds, and returns each entry's first op result. */
class Driver {
  private index = 0;
  private seq = 0;
  constructor(readonly store: SyncStore) {}

  run(ops: Op[], atMs?: number): OpResult {
    const index = ++this.index;
    const e: Entry = cmdEntry(index, [cmd(1, ++this.seq, ops)]);
    e.data = stampEntryData(e.data, atMs ?? T0 + index * 1000);
    const res = this.store.write({ entries: [e], apply: [e] });
    return res.applied[0]![0]!.results[0]!;
  }

  digest(id = 1): { digest: string; keys: number } {
    const r = this.run([{ t: 'digest', id }]);
    assert.deepEqual(r, { ok: true });
    const [d, ...more] = finish(this.store);
    assert.equal(more.length, 0);
    assert.equal(d!.id, id);
    assert.equal(d!.index, this.index);
    return { digest: d!.digest, keys: d!.keys };
  }
}

/** Step the store's digests in progress to the end (a few records a step, as a node does a slice a turn). */
function finish(store: SyncStore, perStep = 2): ReplicaDigest[] {
  const out: ReplicaDigest[] = [];
  for (let i = 0; i < 100_000 && store.digestsPending > 0; i++) out.push(...store.digestStep(perStep));
  assert.equal(store.digestsPending, 0);
  return out;
}

function withStores(fn: (stores: Driver[]) => void): void {
  const d = tempDir();
  const lmdb = LmdbStore.open({ dir: d.dir, membership });
  const memory = new MemoryStore({ membership });
  try {
    fn([new Driver(lmdb), new Driver(memory)]);
  } finally {
    lmdb.close();
    memory.close();
    d.remove();
  }
}

test('digest op: the same state gives the same digest in LMDB and in memory; a change of value, kind or expiry changes it; put then delete comes back', () => {
  withStores((stores) => {
    const seen = stores.map((s) => {
      const empty = s.digest();
      assert.equal(empty.keys, 0);
      s.run([put('a', 'one')]);
      s.run([put('b', new Uint8Array([0x6f, 0x6e, 0x65]))]); // the bytes of 'one': another kind, another digest
      s.run([{ t: 'put', key: k('c'), value: 'x', ttlMs: 60_000 }]);
      const base = s.digest();
      assert.equal(base.keys, 3);
      s.run([put('tmp', 'v')]);
      assert.notEqual(s.digest().digest, base.digest, 'a new key');
      s.run([del('tmp')]);
      assert.deepEqual(s.digest(), base, 'the key gone again: the same state, the same digest');
      s.run([put('b', 'one')]);
      assert.notEqual(s.digest().digest, base.digest, 'the same bytes as a string: another kind, another digest');
      s.run([put('b', new Uint8Array([0x6f, 0x6e, 0x65]))]);
      assert.equal(s.digest().digest, base.digest);
      s.run([put('a', 'One')]);
      const value = s.digest();
      s.run([put('a', 'one')]);
      s.run([{ t: 'expire', key: k('c'), ttlMs: 120_000 }]);
      const expiry = s.digest();
      return [empty.digest, base.digest, value.digest, expiry.digest];
    });
    assert.deepEqual(seen[0], seen[1], 'LMDB and memory: the same digests for the same states');
    const [empty, base, value, expiry] = seen[0]!;
    assert.equal(new Set([empty, base, value, expiry]).size, 4, 'a value, an expiry: each changes the digest');
  });
});

test('digest op: keys expired at the entry\'s time are not in it (whether purged yet or not); alone in its command', () => {
  withStores((stores) => {
    for (const s of stores) {
      s.run([put('keep', 'v')]);
      const before = s.digest();
      s.run([{ t: 'put', key: k('short'), value: 'v', ttlMs: 1_500 }]);
      assert.equal(s.digest().keys, 2);
      s.run([put('other', 'w')], T0 + 60_000); // past the expiry
      s.run([del('other')]);
      assert.deepEqual(s.digest(), { ...before, digest: before.digest }, 'the expired key is gone from the digest');
      const mixed = s.run([{ t: 'digest', id: 7 }, put('x', 'y')]);
      assert.deepEqual(mixed, { ok: false, error: 'INVALID_COMMAND' });
      assert.deepEqual(s.run([{ t: 'digest', id: 1.5 } as Op]), { ok: false, error: 'INVALID_COMMAND' });
    }
  });
});

test('digest op: each digests the state after its entry, from a view that the writes after it (in its batch, or applied while it is read) do not change', () => {
  withStores((stores) => {
    const seen = stores.map((s) => {
      const a = cmdEntry(1, [cmd(1, 1, [put('a', '1')]), cmd(1, 2, [{ t: 'digest', id: 42 }]), cmd(1, 3, [put('b', '2')])]);
      const b = cmdEntry(2, [cmd(1, 4, [put('c', '3')])]);
      const c = cmdEntry(3, [cmd(1, 5, [{ t: 'digest', id: 43 }])]);
      const res = s.store.write({ entries: [a, b, c], apply: [a, b, c] });
      assert.deepEqual(res.applied.map((r) => r.map((x) => x.results)), [[[{ ok: true }], [{ ok: true }], [{ ok: true }]], [[{ ok: true }]], [[{ ok: true }]]]);
      assert.equal(s.store.digestsPending, 2);
      assert.deepEqual(s.store.digestStep(1), [], 'one record read of three');
      // Writes while the digests are read: a key the views hold changed, one removed, one added.
      const d = cmdEntry(4, [cmd(1, 6, [put('a', 'changed'), del('b'), put('0', 'new')])]);
      s.store.write({ entries: [d], apply: [d] });
      const [first, second] = finish(s.store, 1);
      assert.deepEqual([first!.id, first!.index, first!.keys, second!.id, second!.index, second!.keys], [42, 1, 2, 43, 3, 3], 'entry 1 holds a and b (b was put after the op, in its entry); entry 3 holds c too');
      return [first!.digest, second!.digest];
    });
    assert.deepEqual(seen[0], seen[1], 'LMDB and memory: the same digests');
    // The same states written afresh, each digested alone: the same digests as the views gave.
    withStores(([lmdb]) => {
      lmdb!.run([put('a', '1'), put('b', '2')]);
      assert.equal(lmdb!.digest().digest, seen[0]![0]);
      lmdb!.run([put('c', '3')]);
      assert.equal(lmdb!.digest().digest, seen[0]![1]);
    });
  });
});

test('digest op: a store closed while a digest is read releases its view; a plain batch starts none', () => {
  for (const make of ['lmdb', 'memory'] as const) {
    const d = tempDir();
    const store: SyncStore = make === 'lmdb' ? LmdbStore.open({ dir: d.dir, membership }) : new MemoryStore({ membership });
    try {
      const plain = cmdEntry(1, [cmd(1, 1, [put('a', '1'), put('b', '2')])]);
      store.write({ entries: [plain], apply: [plain] });
      assert.equal(store.digestsPending, 0);
      const e = cmdEntry(2, [cmd(1, 2, [{ t: 'digest', id: 1 }])]);
      store.write({ entries: [e], apply: [e] });
      assert.deepEqual(store.digestStep(1), []);
      assert.equal(store.digestsPending, 1);
    } finally {
      store.close();
      d.remove();
    }
    assert.equal(store.digestsPending, 0, `${make}: closing dropped the digest in progress`);
  }
});

test('digest op: the digest is SHA-256 of the documented byte stream, values larger than its hashing chunk included', () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const records: Array<[string, string | Uint8Array, number | undefined]> = [['a', 'é😀', undefined], ['b', big, T0 + 1e9], ['c', '', undefined]];
  const expected = createHash('sha256');
  for (const [key, value, expiresAt] of records) {
    const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    const head = Buffer.alloc(17);
    head.writeUInt32BE(Buffer.byteLength(key), 0);
    head.writeUInt8(typeof value === 'string' ? 0 : 1, 4);
    head.writeUInt32BE(v.byteLength, 5);
    head.writeDoubleBE(expiresAt ?? -1, 9);
    expected.update(head).update(key).update(v);
  }
  const hex = expected.digest('hex');
  withStores((stores) => {
    for (const s of stores) {
      s.run(records.map(([key, value, expiresAt]) => (expiresAt === undefined ? put(key, value) : { t: 'put', key: k(key), value, atMs: expiresAt })));
      assert.deepEqual(s.digest(), { digest: hex, keys: 3 }, s.store.kind);
    }
  });
});
