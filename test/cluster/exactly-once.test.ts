// Exactly once beyond 1,024 unresolved writes (issue #10 item 4): the state machine keeps
// SESSION_WINDOW results per client session, and every unresolved write is resent after a leader
// change. With 1,100 writes in flight, a retry of seq 1 found no result and applied a second time.
// The coordinator's sending rule (inSessionWindow) keeps every write it may retry within the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/index.js';
import { inSessionWindow } from '../../src/cluster/writes.js';
import { SESSION_WINDOW } from '../../src/storage/apply.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { pack } from '../../src/storage/codec.js';
import type { Command, CommandResult } from '../../src/storage/command.js';
import { EntryType } from '../../src/raft/types.js';
import { key } from './helpers.js';

const CLIENT = 7;
const MAX_BATCH_OPS = 1024;

/**
 * The coordinator and the state machine, step by step: writes 1..n are submitted at once; each round
 * the coordinator sends what its rule allows (batches of MAX_BATCH_OPS, with its floor), the state
 * machine applies, every reply is lost and a leader change resends every write sent and unresolved;
 * then the replies of the oldest `resolvePerRound` arrive. Returns the retries that applied again.
 */
function run(n: number, resolvePerRound: number): { reapplied: number[]; sent: number } {
  const store = new MemoryStore({ membership: { voters: [1] } });
  let index = 0;
  const apply = (seqs: number[], floor: number): CommandResult[] => {
    const out: CommandResult[] = [];
    for (let i = 0; i < seqs.length; i += MAX_BATCH_OPS) {
      const cmds: Command[] = seqs.slice(i, i + MAX_BATCH_OPS).map((seq) => ({
        client: CLIENT, seq, floor, ops: [{ t: 'cas', key: Buffer.from(key(seq)), expected: null, value: 'once' }],
      }));
      out.push(...store.apply([{ index: ++index, term: 1, type: EntryType.Normal, data: pack(cmds) }])[0]!);
    }
    return out;
  };
  const pending = Array.from({ length: n }, (_, i) => i + 1); // ascending
  const sent = new Set<number>();
  const reapplied: number[] = [];
  while (pending.length > 0) {
    const floor = pending[0]!;
    apply(pending.filter((s) => !sent.has(s) && inSessionWindow(s, floor)).map((s) => (sent.add(s), s)), floor);
    // Leader change: every write sent and unresolved is resent; each must be recognised as a duplicate.
    const retried = pending.filter((s) => sent.has(s));
    apply(retried, floor).forEach((r) => {
      if (!r.duplicate) reapplied.push(r.seq);
    });
    pending.splice(0, Math.min(resolvePerRound, retried.length));
  }
  for (let seq = 1; seq <= n; seq++) assert.equal(store.get(Buffer.from(key(seq))), 'once');
  return { reapplied, sent: sent.size };
}

test('exactly once: with 1,100 writes unresolved, retries after a leader change never apply twice', () => {
  const r = run(1100, 1100);
  assert.deepEqual(r.reapplied, [], `retries applied a second time: seqs ${r.reapplied.slice(0, 5).join(', ')}...`);
  assert.equal(r.sent, 1100);
});

test('exactly once: 5,000 writes resolved a few at a time, each round retried after a leader change, apply once', () => {
  const r = run(5000, 300);
  assert.deepEqual(r.reapplied, [], `retries applied a second time: seqs ${r.reapplied.slice(0, 5).join(', ')}...`);
  assert.equal(r.sent, 5000);
});

test('the session window: the coordinator never sends at or beyond floor + SESSION_WINDOW', () => {
  assert.equal(inSessionWindow(1, 1), true);
  assert.equal(inSessionWindow(SESSION_WINDOW, 1), true);
  assert.equal(inSessionWindow(SESSION_WINDOW + 1, 1), false);
});

test('the session window holds writes back without stalling: 3,000 concurrent writes across a leader transfer all apply once', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    const n = 3000;
    const writes = Array.from({ length: n }, (_, i) => c.cas(key(i), null, `v${i}`));
    const first = c.leader()!;
    const target = c.members().find((m) => m.id !== first)!.id;
    await c.transferLeadership(target);
    const results = await Promise.all(writes);
    results.forEach((r, i) => assert.deepEqual(r, { ok: true, current: `v${i}` }, `write ${i} applied once`));
    const values = await Promise.all(Array.from({ length: n }, (_, i) => c.get(key(i))));
    values.forEach((v, i) => assert.equal(v, `v${i}`));
  } finally {
    await c.stop();
  }
});
