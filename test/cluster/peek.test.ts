// The synchronous read fast path (peek): string keys go into LMDB's key buffer without a Buffer of their
// own, and values come out of lmdb-js's shared read buffer, so both must be exact and never alias.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withCluster } from './helpers.js';

test('peek: a string key and its UTF-8 bytes name the same entry; byte values are copies, not views of a shared buffer', async () => {
  await withCluster({ nodes: 1 }, async (c) => {
    const keys = ['a', 'ключ', '鍵🔑', 'x'.repeat(1024)];
    for (const [i, k] of keys.entries()) await c.put(k, `v${i}`);
    await c.put('bytes-1', Buffer.from([1, 2, 3]));
    await c.put('bytes-2', Buffer.from([9, 9]));
    for (const [i, k] of keys.entries()) {
      assert.equal(c.peek(k), `v${i}`, k);
      assert.equal(c.peek(Buffer.from(k, 'utf8')), `v${i}`);
      assert.equal(await c.get(k, { consistency: 'stale' }), `v${i}`, `stale get ${k}`);
    }
    await assert.rejects(c.get('é'.repeat(513), { consistency: 'stale' }), { code: 'INVALID_ARGUMENT' });
    const first = c.peek('bytes-1') as Uint8Array;
    const second = c.peek('bytes-2') as Uint8Array;
    assert.deepEqual([...first], [1, 2, 3], 'the first value is unchanged by the next read');
    assert.deepEqual([...second], [9, 9]);
    assert.equal(c.peek('absent'), undefined);
    assert.throws(() => c.peek('é'.repeat(513)), { code: 'INVALID_ARGUMENT' }); // 1026 UTF-8 bytes, 513 UTF-16 units
    assert.throws(() => c.peek(''), { code: 'INVALID_ARGUMENT' });
  });
});
