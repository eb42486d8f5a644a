// The storage conformance suite (after openraft's storage Suite): ONE list of cases, run through the
// adaptors against every implementation and bridge (LMDB/memory × piscina/inline).
import assert from 'node:assert/strict';
import { type NodeStorage, type NodeStorageOptions, openNodeStorage, StorageError } from '../../src/adaptor/index.js';
import type { Entry } from '../../src/raft/types.js';
import { encodeConfEntry } from '../../src/raft/membership.js';
import { validateKey, validateValue } from '../../src/storage/validate.js';
import { cas, cmd, cmdEntry, del, entries, indexes, k, noop, put, raw, rejectsWith, tempDir, terms } from './helpers.js';

export interface SuiteConfig {
  name: string;
  kind: 'lmdb' | 'memory';
  pool: 'piscina' | 'inline';
  transfer?: 'pack' | 'clone';
}

export interface Ctx {
  config: SuiteConfig;
  s: NodeStorage;
  /** Open another store of the same kind in its own directory. */
  other(extra?: Partial<NodeStorageOptions>): Promise<NodeStorage>;
  /** Close and reopen this store on the same directory (durable kinds only). */
  reopen(extra?: Partial<NodeStorageOptions>): Promise<NodeStorage>;
}

export interface Case {
  name: string;
  /** Needs state that survives a close (LMDB only). */
  durable?: boolean;
  options?: Partial<NodeStorageOptions>;
  run(c: Ctx): Promise<void>;
}

const membership = { voters: [1, 2, 3] };

async function appendLog(s: NodeStorage, es: Entry[]): Promise<void> {
  await s.write({ entries: es, apply: [] });
}

export const cases: Case[] = [
  // ── log reads ──
  {
    name: 'an empty store returns no entries',
    async run({ s }) {
      assert.deepEqual(await s.logReader.tryGetLogEntries(1, 100), []);
      assert.deepEqual(await s.logReader.tryGetLogEntries(5, 6), []);
    },
  },
  {
    name: 'an empty store has no last and no purged log id',
    async run({ s }) {
      assert.deepEqual(await s.logReader.getLogState(), { lastPurged: undefined, last: undefined });
    },
  },
  {
    name: 'an empty store starts from zero hard state, no snapshot, no entries, applied 0',
    async run({ s }) {
      const init = await s.loadInitialState();
      assert.deepEqual(init.hardState, { term: 0, vote: 0, commit: 0 });
      assert.equal(init.snapshot, undefined);
      assert.deepEqual(init.entries, []);
      assert.equal(init.applied, 0);
      assert.equal((await s.stateMachine.appliedState()).lastApplied, undefined);
      assert.deepEqual((await s.stateMachine.appliedState()).membership, membership);
    },
  },
  {
    name: 'appended entries read back intact, in order',
    async run({ s }) {
      const es = entries(1, 10);
      await appendLog(s, es);
      const got = await s.logReader.tryGetLogEntries(1, 11);
      assert.deepEqual(indexes(got), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (let i = 0; i < 10; i++) assert.deepEqual(Buffer.from(got[i]!.data), Buffer.from(es[i]!.data));
      assert.deepEqual((await s.logReader.getLogState()).last, { index: 10, term: 1 });
    },
  },
  {
    name: 'range edges: first, last, one past last, end beyond last, empty range',
    async run({ s }) {
      await appendLog(s, entries(1, 5));
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(1, 2)), [1]);
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(5, 6)), [5]);
      assert.deepEqual(await s.logReader.tryGetLogEntries(6, 7), []);
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(4, 1000)), [4, 5]);
      assert.deepEqual(await s.logReader.tryGetLogEntries(3, 3), []);
      assert.deepEqual(await s.logReader.tryGetLogEntries(4, 2), []);
    },
  },
  {
    name: 'a malformed range is INVALID_RANGE',
    async run({ s }) {
      await rejectsWith(s.logReader.tryGetLogEntries(0, 3), 'INVALID_RANGE');
      await rejectsWith(s.logReader.tryGetLogEntries(1.5, 3), 'INVALID_RANGE');
    },
  },
  {
    name: 'log ids and entry types survive (Noop and Normal, large indexes of later terms)',
    async run({ s }) {
      await appendLog(s, [noop(1, 1), raw(2, 2, 1000), noop(3, 7)]);
      const got = await s.logReader.tryGetLogEntries(1, 4);
      assert.deepEqual(got.map((e) => [e.index, e.term, e.type, e.data.byteLength]), [[1, 1, 1, 0], [2, 2, 0, 1000], [3, 7, 1, 0]]);
    },
  },
  // ── truncate / append ──
  {
    name: 'truncate then append: a conflicting suffix is replaced (§5.3)',
    async run({ s }) {
      await appendLog(s, entries(1, 6, 1));
      await appendLog(s, [raw(3, 2), raw(4, 2)]);
      const got = await s.logReader.tryGetLogEntries(1, 100);
      assert.deepEqual(indexes(got), [1, 2, 3, 4]);
      assert.deepEqual(terms(got), [1, 1, 2, 2]);
      assert.deepEqual((await s.logReader.getLogState()).last, { index: 4, term: 2 });
    },
  },
  {
    name: 'the log cache stays coherent across a truncating append',
    async run({ s }) {
      await appendLog(s, entries(1, 6, 1));
      assert.deepEqual(terms(await s.logReader.tryGetLogEntries(1, 7)), [1, 1, 1, 1, 1, 1]);
      await appendLog(s, [raw(2, 3)]);
      assert.deepEqual(terms(await s.logReader.tryGetLogEntries(1, 7)), [1, 3]);
      assert.deepEqual(await s.logReader.tryGetLogEntries(3, 7), []);
    },
  },
  {
    name: 'entries starting past last + 1 are INVALID_ENTRIES and nothing is written',
    async run({ s }) {
      await appendLog(s, entries(1, 3));
      await rejectsWith(s.write({ entries: [raw(5)], apply: [], hardState: { term: 9, vote: 1, commit: 0 } }), 'INVALID_ENTRIES');
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(1, 10)), [1, 2, 3]);
      assert.deepEqual((await s.loadInitialState()).hardState, { term: 0, vote: 0, commit: 0 });
    },
  },
  {
    name: 'non-contiguous entries are INVALID_ENTRIES and nothing is written',
    async run({ s }) {
      const err = await rejectsWith(s.write({ entries: [raw(1), raw(2), raw(4)], apply: [] }), 'INVALID_ENTRIES');
      assert.equal(err.subject, 'log');
      assert.equal(err.verb, 'write');
      assert.deepEqual(await s.logReader.tryGetLogEntries(1, 10), []);
    },
  },
  {
    name: 'decreasing terms and malformed entries are INVALID_ENTRIES',
    async run({ s }) {
      await rejectsWith(s.write({ entries: [raw(1, 2), raw(2, 1)], apply: [] }), 'INVALID_ENTRIES');
      await rejectsWith(s.write({ entries: [{ index: 1, term: 1, type: 0, data: 'x' as unknown as Uint8Array }], apply: [] }), 'INVALID_ENTRIES');
      await rejectsWith(s.write({ entries: [{ index: 1, term: 0, type: 0, data: new Uint8Array(1) }], apply: [] }), 'INVALID_ENTRIES');
      assert.deepEqual(await s.logReader.tryGetLogEntries(1, 10), []);
    },
  },
  // ── purge ──
  {
    name: 'purge then read: purged indexes are LOG_PURGED, the rest reads',
    async run({ s }) {
      await appendLog(s, entries(1, 10));
      await s.write({ entries: [], apply: entries(1, 4), purgeTo: { index: 4, term: 1 } });
      const err = await rejectsWith(s.logReader.tryGetLogEntries(4, 6), 'LOG_PURGED');
      assert.equal(err.subject, 'log');
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(5, 7)), [5, 6]);
      assert.deepEqual(await s.logReader.getLogState(), { lastPurged: { index: 4, term: 1 }, last: { index: 10, term: 1 } });
    },
  },
  {
    name: 'purge at the last entry empties the log; last = lastPurged; appends continue after it',
    async run({ s }) {
      await appendLog(s, [...entries(1, 2), raw(3, 2)]);
      await s.write({ entries: [], apply: [...entries(1, 2), raw(3, 2)], purgeTo: { index: 3, term: 2 } });
      assert.deepEqual(await s.logReader.getLogState(), { lastPurged: { index: 3, term: 2 }, last: { index: 3, term: 2 } });
      await rejectsWith(appendLog(s, [raw(3, 2)]), 'INVALID_ENTRIES');
      await appendLog(s, [raw(4, 2)]);
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(4, 20)), [4]);
      const init = await s.loadInitialState();
      assert.deepEqual(init.snapshot, { index: 3, term: 2, membership });
      assert.deepEqual(indexes(init.entries), [4]);
    },
  },
  {
    name: 'the log is never purged past the applied index (what is purged must be in the state machine): INVALID_RANGE, nothing written',
    async run({ s }) {
      await appendLog(s, entries(1, 5));
      await s.write({ entries: [], apply: entries(1, 2) });
      await rejectsWith(s.write({ entries: [], apply: [], purgeTo: { index: 3, term: 1 } }), 'INVALID_RANGE');
      assert.deepEqual(await s.logReader.getLogState(), { lastPurged: undefined, last: { index: 5, term: 1 } });
    },
  },
  {
    name: 'the log cache forgets purged entries',
    async run({ s }) {
      await appendLog(s, entries(1, 5));
      await s.logReader.tryGetLogEntries(1, 6);
      await s.write({ entries: [], apply: entries(1, 2), purgeTo: { index: 2, term: 1 } });
      await rejectsWith(s.logReader.tryGetLogEntries(1, 3), 'LOG_PURGED');
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(3, 6)), [3, 4, 5]);
    },
  },
  // ── hard state ──
  {
    name: 'hard state is saved with the batch and loads back',
    async run({ s }) {
      await s.write({ entries: entries(1, 2), hardState: { term: 3, vote: 2, commit: 1 }, apply: [] });
      assert.deepEqual((await s.loadInitialState()).hardState, { term: 3, vote: 2, commit: 1 });
      await s.write({ entries: [], hardState: { term: 4, vote: 0, commit: 2 }, apply: [] });
      assert.deepEqual((await s.loadInitialState()).hardState, { term: 4, vote: 0, commit: 2 });
    },
  },
  {
    name: 'hard state and log survive a reopen',
    durable: true,
    async run(c) {
      await c.s.write({ entries: entries(1, 7, 2), hardState: { term: 2, vote: 3, commit: 5 }, apply: [] });
      const s = await c.reopen();
      const init = await s.loadInitialState();
      assert.deepEqual(init.hardState, { term: 2, vote: 3, commit: 5 });
      assert.deepEqual(indexes(init.entries), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(terms(await s.logReader.tryGetLogEntries(1, 8)), [2, 2, 2, 2, 2, 2, 2]);
    },
  },
  // ── configuration (membership) ──
  {
    name: 'applying a ConfChange entry records its configuration with the applied index; the state machine ignores it',
    async run({ s }) {
      const conf: Entry = { index: 2, term: 1, type: 2, data: encodeConfEntry({ voters: [1, 2, 3], learners: [4] }) };
      const e1 = cmdEntry(1, [cmd(1, 1, [put('m', '1')])]);
      await s.write({ entries: [e1, conf], apply: [], hardState: { term: 1, vote: 1, commit: 2 } });
      const [stored] = await s.logReader.tryGetLogEntries(2, 3);
      assert.deepEqual([stored?.type, Buffer.from(stored?.data ?? []).equals(Buffer.from(conf.data))], [2, true], 'a ConfChange entry is stored like any other');
      assert.deepEqual((await s.stateMachine.appliedState()).membership, membership, 'not before it is applied');
      const res = await s.stateMachine.apply([e1, conf]);
      assert.deepEqual(res[1], []);
      assert.deepEqual((await s.stateMachine.appliedState()).membership, { voters: [1, 2, 3], learners: [4] });
      const stream = await (await s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      assert.deepEqual(stream.meta, { index: 2, term: 1, membership: { voters: [1, 2, 3], learners: [4] } }, 'a snapshot carries it');
      for await (const _ of stream.chunks) void _;
      await rejectsWith(s.stateMachine.apply([{ index: 3, term: 1, type: 2, data: new Uint8Array([1, 2]) }]), 'INVALID_ENTRIES');
      assert.equal((await s.stateMachine.appliedState()).lastApplied?.index, 2, 'a malformed configuration entry applies nothing');
    },
  },
  {
    name: 'a reopened store restores the configuration last applied (the snapshot meta of its initial state)',
    durable: true,
    async run(c) {
      const conf: Entry = { index: 2, term: 1, type: 2, data: encodeConfEntry({ voters: [1, 2, 3, 4], learners: [] }) };
      const es = [cmdEntry(1, [cmd(1, 1, [put('m', '1')])]), conf, cmdEntry(3, [cmd(1, 2, [put('m', '2')])])];
      await c.s.write({ entries: es, apply: [], hardState: { term: 1, vote: 1, commit: 3 } });
      await c.s.stateMachine.apply(es);
      await c.s.sync?.checkpointAsync();
      await c.s.write({ entries: [], apply: [], purgeTo: { index: 3, term: 1 } });
      const s = await c.reopen();
      const init = await s.loadInitialState();
      assert.deepEqual(init.snapshot, { index: 3, term: 1, membership: { voters: [1, 2, 3, 4] } });
      assert.deepEqual((await s.stateMachine.appliedState()).membership, { voters: [1, 2, 3, 4] });
    },
  },
  // ── state machine ──
  {
    name: 'applied values keep their type: strings are strings, bytes are bytes',
    async run({ s }) {
      const e = cmdEntry(1, [cmd(1, 1, [put('s', 'héllo'), put('b', new Uint8Array([0, 255, 7]))])]);
      const res = await s.write({ entries: [e], apply: [e] });
      assert.deepEqual(res.applied, [[{ client: 1, seq: 1, results: [{ ok: true }, { ok: true }], duplicate: false }]]);
      assert.equal(await s.get(k('s')), 'héllo');
      const b = await s.get(k('b'));
      assert.ok(b instanceof Uint8Array);
      assert.deepEqual([...b], [0, 255, 7]);
      assert.equal(await s.get(k('missing')), undefined);
      assert.deepEqual(res.appliedState.lastApplied, { index: 1, term: 1 });
    },
  },
  {
    name: 'del reports whether the key existed',
    async run({ s }) {
      const e = cmdEntry(1, [cmd(1, 1, [put('a', '1')]), cmd(1, 2, [del('a')]), cmd(1, 3, [del('a')])]);
      const res = await s.stateMachine.apply([e]);
      assert.deepEqual(res[0]!.map((r) => r.results), [[{ ok: true }], [{ ok: true, existed: true }], [{ ok: true, existed: false }]]);
      assert.equal(await s.get(k('a')), undefined);
    },
  },
  {
    name: 'cas: matches set, mismatches report the current value, null means absent / delete',
    async run({ s }) {
      const e1 = cmdEntry(1, [
        cmd(1, 1, [cas('a', null, 'v1')]),
        cmd(1, 2, [cas('a', 'v0', 'v2')]),
        cmd(1, 3, [cas('a', 'v1', new Uint8Array([1]))]),
        cmd(1, 4, [cas('a', 'v1', 'x')]),
        cmd(1, 5, [cas('a', new Uint8Array([1]), null)]),
      ]);
      const r = (await s.stateMachine.apply([e1]))[0]!.map((x) => x.results[0]);
      assert.deepEqual(r[0], { ok: true });
      assert.deepEqual(r[1], { ok: false, current: 'v1' });
      assert.deepEqual(r[2], { ok: true });
      assert.equal(r[3]!.ok, false);
      assert.deepEqual([...(r[3]!.current as Uint8Array)], [1]); // bytes [1] is not the string 'v1'
      assert.deepEqual(r[4], { ok: true });
      assert.equal(await s.get(k('a')), undefined);
    },
  },
  {
    name: 'a command applies atomically: a failed cas leaves every key of the command unchanged',
    async run({ s }) {
      const e1 = cmdEntry(1, [cmd(1, 1, [put('x', 'old'), put('y', 'old')])]);
      const e2 = cmdEntry(2, [cmd(1, 2, [put('x', 'new'), del('y'), cas('z', 'absent?', 'v'), put('w', 'new')])]);
      const res = await s.stateMachine.apply([e1, e2]);
      const r = res[1]![0]!;
      assert.equal(r.duplicate, false);
      assert.deepEqual(r.results, [{ ok: false }, { ok: false }, { ok: false, current: null }, { ok: false }]);
      assert.equal(await s.get(k('x')), 'old');
      assert.equal(await s.get(k('y')), 'old');
      assert.equal(await s.get(k('w')), undefined);
    },
  },
  {
    name: 'ops of one command see the earlier ops of the same command',
    async run({ s }) {
      const e = cmdEntry(1, [cmd(1, 1, [put('a', '1'), cas('a', '1', '2'), del('a'), cas('a', null, '3')])]);
      const r = (await s.stateMachine.apply([e]))[0]![0]!;
      assert.deepEqual(r.results, [{ ok: true }, { ok: true }, { ok: true, existed: true }, { ok: true }]);
      assert.equal(await s.get(k('a')), '3');
    },
  },
  {
    name: 'exactly-once: a (client, seq) seen before returns its remembered results and does not re-apply',
    async run({ s }) {
      const e1 = cmdEntry(1, [cmd(7, 1, [del('n'), put('n', 'first')])]);
      const e2 = cmdEntry(2, [cmd(7, 1, [del('n'), put('n', 'retry')]), cmd(8, 1, [put('m', 'other client')])]);
      const res = await s.stateMachine.apply([e1, e2]);
      assert.deepEqual(res[1]![0], { client: 7, seq: 1, results: [{ ok: true, existed: false }, { ok: true }], duplicate: true });
      assert.equal(res[1]![1]!.duplicate, false);
      assert.equal(await s.get(k('n')), 'first');
    },
  },
  {
    name: 'exactly-once: results below the floor are dropped; a retry below it is SESSION_STALE, never re-applied',
    async run({ s }) {
      const e1 = cmdEntry(1, [cmd(3, 1, [put('c', '1')]), cmd(3, 2, [put('c', '2')])]);
      const e2 = cmdEntry(2, [cmd(3, 3, [put('c', '3')], 3)]);
      const e3 = cmdEntry(3, [cmd(3, 1, [put('c', 'replayed')], 0), cmd(3, 3, [put('c', 'dup')], 3)]);
      const res = await s.stateMachine.apply([e1, e2, e3]);
      assert.deepEqual(res[2]![0], { client: 3, seq: 1, results: [], duplicate: true, error: 'SESSION_STALE' });
      assert.equal(res[2]![1]!.duplicate, true);
      assert.equal(await s.get(k('c')), '3');
    },
  },
  {
    name: 'sessions are bounded: beyond maxSessions the least recently used is evicted',
    options: { maxSessions: 3 },
    async run({ s }) {
      // clients 1, 2, 3; touch 1 again; client 4 evicts 2 (least recently used), so 2's retry re-applies.
      const e1 = cmdEntry(1, [cmd(1, 1, [put('k1', 'a')]), cmd(2, 1, [put('k2', 'a')]), cmd(3, 1, [put('k3', 'a')])]);
      const e2 = cmdEntry(2, [cmd(1, 1, [put('k1', 'b')]), cmd(4, 1, [put('k4', 'a')])]);
      const e3 = cmdEntry(3, [cmd(2, 1, [put('k2', 'again')]), cmd(1, 1, [put('k1', 'c')])]);
      const res = await s.stateMachine.apply([e1, e2, e3]);
      assert.equal(res[1]![0]!.duplicate, true);
      assert.equal(res[2]![0]!.duplicate, false, 'evicted session: no memory of (2, 1)');
      assert.equal(await s.get(k('k2')), 'again');
      // client 1 was evicted in turn when 2 came back? 1 was touched at e2, so 3 was the LRU: 1 still dedups.
      assert.equal(res[2]![1]!.duplicate, true);
    },
  },
  {
    name: 'apply is idempotent: entries at or below lastApplied are skipped and return []',
    async run({ s }) {
      const e1 = cmdEntry(1, [cmd(0, 1, [put('i', '1')])]);
      const e2 = cmdEntry(2, [cmd(0, 2, [put('i', '2')])]);
      await s.stateMachine.apply([e1, e2]);
      const res = await s.stateMachine.apply([cmdEntry(1, [cmd(0, 9, [put('i', 'x')])]), e2, noop(3)]);
      assert.deepEqual(res, [[], [], []]);
      assert.equal(await s.get(k('i')), '2');
      assert.deepEqual((await s.stateMachine.appliedState()).lastApplied, { index: 3, term: 1 });
    },
  },
  {
    name: 'apply replayed after a restart is idempotent (applied index and sessions are durable with the data)',
    durable: true,
    async run(c) {
      const e1 = cmdEntry(1, [cmd(5, 1, [put('r', '1')])]);
      const e2 = cmdEntry(2, [cmd(5, 2, [put('r', '2')])]);
      await c.s.write({ entries: [e1, e2], apply: [e1, e2], hardState: { term: 1, vote: 1, commit: 2 } });
      const s = await c.reopen();
      const init = await s.loadInitialState();
      assert.equal(init.applied, 2);
      const res = await s.stateMachine.apply(init.entries);
      assert.deepEqual(res, [[], []]);
      const retry = await s.stateMachine.apply([cmdEntry(3, [cmd(5, 2, [put('r', 'retried')])])]);
      assert.equal(retry[0]![0]!.duplicate, true);
      assert.equal(await s.get(k('r')), '2');
    },
  },
  {
    name: 'applying past a gap is INVALID_ENTRIES',
    async run({ s }) {
      await s.stateMachine.apply([noop(1)]);
      const err = await rejectsWith(s.stateMachine.apply([noop(3)]), 'INVALID_ENTRIES');
      assert.equal(err.subject, 'state-machine');
    },
  },
  {
    name: 'invalid keys are INVALID_KEY (empty, wrong type, over 1024 bytes); validateKey agrees',
    async run({ s }) {
      await rejectsWith(s.get(new Uint8Array(0)), 'INVALID_KEY');
      await rejectsWith(s.get('key' as unknown as Uint8Array), 'INVALID_KEY');
      await rejectsWith(s.get(new Uint8Array(1025)), 'INVALID_KEY');
      assert.equal(await s.get(new Uint8Array(1024)), undefined);
      assert.throws(() => validateKey(new Uint8Array(0)), (e: unknown) => e instanceof StorageError && e.code === 'INVALID_KEY');
    },
  },
  {
    name: 'a command with an invalid key or an oversized value applies nothing and says why',
    options: { maxValueBytes: 100 },
    async run({ s }) {
      const e = cmdEntry(1, [
        cmd(1, 1, [put('ok', 'v'), { t: 'put', key: new Uint8Array(0), value: 'v' }]),
        cmd(1, 2, [put('ok', 'v'), put('big', 'x'.repeat(101))]),
        cmd(1, 3, [put('fine', 'x'.repeat(100))]),
      ]);
      const r = (await s.stateMachine.apply([e]))[0]!;
      assert.deepEqual(r[0]!.results, [{ ok: false, error: 'INVALID_KEY' }, { ok: false, error: 'INVALID_KEY' }]);
      assert.deepEqual(r[1]!.results.map((x) => x.error), ['VALUE_TOO_LARGE', 'VALUE_TOO_LARGE']);
      assert.equal(await s.get(k('ok')), undefined);
      assert.equal(await s.get(k('fine')), 'x'.repeat(100));
      assert.throws(() => validateValue('x'.repeat(101), 100), (x: unknown) => x instanceof StorageError && x.code === 'VALUE_TOO_LARGE');
    },
  },
  {
    name: 'an entry that is not a Command[] is rejected deterministically (INVALID_COMMAND), applied index still advances',
    async run({ s }) {
      const res = await s.stateMachine.apply([{ index: 1, term: 1, type: 0, data: new Uint8Array([0xc1]) }]);
      assert.equal(res[0]![0]!.error, 'INVALID_COMMAND');
      assert.deepEqual((await s.stateMachine.appliedState()).lastApplied, { index: 1, term: 1 });
    },
  },
  {
    name: 'one write batch does entries + hard state + apply + purge together',
    async run({ s }) {
      const es = [cmdEntry(1, [cmd(1, 1, [put('a', '1')])]), cmdEntry(2, [cmd(1, 2, [put('b', '2')])]), noop(3)];
      const res = await s.write({ entries: es, hardState: { term: 1, vote: 1, commit: 3 }, apply: es, purgeTo: { index: 2, term: 1 } });
      assert.equal(res.applied.length, 3);
      assert.deepEqual(res.appliedState.lastApplied, { index: 3, term: 1 });
      assert.deepEqual(await s.logReader.getLogState(), { lastPurged: { index: 2, term: 1 }, last: { index: 3, term: 1 } });
      assert.equal(await s.get(k('b')), '2');
    },
  },
  // ── snapshots ──
  {
    name: 'a snapshot built on one store and installed on another gives identical data (sessions included)',
    async run(c) {
      const e1 = cmdEntry(1, [cmd(1, 1, [put('s', 'str'), put('b', new Uint8Array([9, 8]))])]);
      const e2 = cmdEntry(2, [cmd(2, 1, [put('t', 'x'.repeat(3000))])], 2);
      await c.s.write({ entries: [e1, e2], apply: [e1, e2], hardState: { term: 2, vote: 1, commit: 2 } });
      const stream = await (await c.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      assert.deepEqual(stream.meta, { index: 2, term: 2, membership });
      const dst = await c.other({ chunkBytes: 1024 });
      await dst.write({ entries: entries(1, 5), apply: [] });
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      let n = 0;
      for await (const chunk of stream.chunks) {
        await recv.write(chunk);
        n++;
      }
      assert.ok(n >= 3, 'header, data, trailer');
      await dst.stateMachine.installSnapshot(stream.meta, recv);
      assert.equal(await dst.get(k('s')), 'str');
      assert.deepEqual([...((await dst.get(k('b'))) as Uint8Array)], [9, 8]);
      assert.equal(await dst.get(k('t')), 'x'.repeat(3000));
      assert.deepEqual((await dst.stateMachine.appliedState()).lastApplied, { index: 2, term: 2 });
      // the log is reset to the snapshot point
      assert.deepEqual(await dst.logReader.getLogState(), { lastPurged: { index: 2, term: 2 }, last: { index: 2, term: 2 } });
      await rejectsWith(dst.logReader.tryGetLogEntries(1, 6), 'LOG_PURGED');
      assert.deepEqual(await dst.logReader.tryGetLogEntries(3, 6), []);
      const init = await dst.loadInitialState();
      assert.deepEqual(init.snapshot, { index: 2, term: 2, membership });
      assert.equal(init.applied, 2);
      // the sessions came along: a retry of (2, 1) is a duplicate on the new store
      const r = await dst.write({ entries: [cmdEntry(3, [cmd(2, 1, [put('t', 'again')])], 2)], apply: [cmdEntry(3, [cmd(2, 1, [put('t', 'again')])], 2)] });
      assert.equal(r.applied[0]![0]!.duplicate, true);
    },
  },
  {
    name: 'a snapshot reads one consistent view: writes after buildSnapshot are not in it',
    options: { chunkBytes: 256 },
    async run(c) {
      const e1 = cmdEntry(1, [cmd(1, 1, Array.from({ length: 50 }, (_, i) => put(`key${i}`, 'v'.repeat(20))))]);
      await c.s.stateMachine.apply([e1]);
      const stream = await (await c.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      await c.s.stateMachine.apply([cmdEntry(2, [cmd(1, 2, [put('late', 'x'), del('key0')])])]);
      const dst = await c.other();
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      for await (const chunk of stream.chunks) await recv.write(chunk);
      await dst.stateMachine.installSnapshot(stream.meta, recv);
      assert.equal(await dst.get(k('late')), undefined);
      assert.equal(await dst.get(k('key0')), 'v'.repeat(20));
      assert.equal(await dst.get(k('key49')), 'v'.repeat(20));
    },
  },
  {
    name: 'an aborted receive leaves the old state; a superseded receiver is SNAPSHOT_ABORTED',
    async run(c) {
      const e1 = cmdEntry(1, [cmd(1, 1, [put('a', 'src')])]);
      await c.s.stateMachine.apply([e1]);
      const dst = await c.other();
      await dst.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('a', 'old')])])]);
      const stream = await (await c.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      const it = stream.chunks[Symbol.asyncIterator]();
      await recv.write((await it.next()).value as Uint8Array);
      await recv.abort();
      await rejectsWith(recv.write((await it.next()).value as Uint8Array), 'SNAPSHOT_ABORTED');
      await it.return?.();
      assert.equal(await dst.get(k('a')), 'old');
      const r1 = await dst.stateMachine.beginReceivingSnapshot();
      const r2 = await dst.stateMachine.beginReceivingSnapshot();
      const stream2 = await (await c.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const chunks: Uint8Array[] = [];
      for await (const ch of stream2.chunks) chunks.push(ch);
      await rejectsWith(r1.write(chunks[0]!), 'SNAPSHOT_ABORTED');
      for (const ch of chunks) await r2.write(ch);
      await dst.stateMachine.installSnapshot(stream2.meta, r2);
      assert.equal(await dst.get(k('a')), 'src');
    },
  },
  {
    name: 'a corrupt or incomplete snapshot stream is SNAPSHOT_INVALID and the old state stays',
    async run(c) {
      await c.s.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('a', 'live')])])]);
      const recv = await c.s.stateMachine.beginReceivingSnapshot();
      await rejectsWith(recv.write(new Uint8Array([0x93, 1, 2])), 'SNAPSHOT_INVALID'); // a data chunk before the header
      const other = await c.other();
      await other.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('a', 'other')])])]);
      const stream = await (await other.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const recv2 = await c.s.stateMachine.beginReceivingSnapshot();
      const all: Uint8Array[] = [];
      for await (const ch of stream.chunks) all.push(ch);
      for (const ch of all.slice(0, -1)) await recv2.write(ch); // no trailer
      // check() refuses what install would, before anything is installed (the host asks it before the core sees the message).
      await rejectsWith(recv2.check(stream.meta), 'SNAPSHOT_INVALID');
      await rejectsWith(c.s.stateMachine.installSnapshot(stream.meta, recv2), 'SNAPSHOT_INVALID');
      assert.equal(await c.s.get(k('a')), 'live');
      assert.deepEqual((await c.s.stateMachine.appliedState()).lastApplied, { index: 1, term: 1 });
    },
  },
  {
    name: 'a snapshot of an empty state installs as an empty state at its point',
    async run(c) {
      const stream = await (await c.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      assert.equal(stream.meta.index, 0);
      const dst = await c.other();
      await dst.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('a', 'x')])])]);
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      for await (const ch of stream.chunks) await recv.write(ch);
      // install at a later point than the stream's header is refused (and check() says so first); the stream is whole
      await rejectsWith(recv.check({ index: 5, term: 1, membership }), 'SNAPSHOT_INVALID');
      await recv.check(stream.meta);
      await rejectsWith(dst.stateMachine.installSnapshot({ index: 5, term: 1, membership }, recv), 'SNAPSHOT_INVALID');
      await dst.stateMachine.installSnapshot(stream.meta, recv);
      assert.equal(await dst.get(k('a')), undefined);
    },
  },
  {
    name: 'an installed snapshot survives a reopen (the active state pointer is durable)',
    durable: true,
    async run(c) {
      const src = await c.other();
      await src.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('p', 'snap')])]), cmdEntry(2, [cmd(1, 2, [put('q', 'snap')])], 3)]);
      await c.s.stateMachine.apply([cmdEntry(1, [cmd(1, 1, [put('p', 'old')])])]);
      const stream = await (await src.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const recv = await c.s.stateMachine.beginReceivingSnapshot();
      for await (const ch of stream.chunks) await recv.write(ch);
      await c.s.stateMachine.installSnapshot(stream.meta, recv);
      await c.s.write({ entries: [raw(3, 3)], apply: [] });
      const s = await c.reopen();
      assert.equal(await s.get(k('p')), 'snap');
      const init = await s.loadInitialState();
      assert.deepEqual(init.snapshot, { index: 2, term: 3, membership });
      assert.deepEqual(indexes(init.entries), [3]);
      assert.equal(init.applied, 2);
    },
  },
  {
    name: 'a receive interrupted before install (a crash before the flip) leaves the old state after reopen',
    durable: true,
    async run(c) {
      const src = await c.other({ chunkBytes: 512 });
      await src.stateMachine.apply([cmdEntry(1, [cmd(1, 1, Array.from({ length: 40 }, (_, i) => put(`n${i}`, 'new'.repeat(10))))], 5)]);
      await c.s.write({ entries: [raw(1, 1), raw(2, 1)], apply: [cmdEntry(1, [cmd(1, 1, [put('n0', 'old')])])] });
      const stream = await (await src.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const recv = await c.s.stateMachine.beginReceivingSnapshot();
      const it = stream.chunks[Symbol.asyncIterator]();
      for (let i = 0; i < 3; i++) await recv.write((await it.next()).value as Uint8Array);
      await it.return?.();
      const s = await c.reopen();
      assert.equal(await s.get(k('n0')), 'old');
      assert.equal(await s.get(k('n39')), undefined);
      assert.deepEqual((await s.stateMachine.appliedState()).lastApplied, { index: 1, term: 1 });
      assert.deepEqual(indexes(await s.logReader.tryGetLogEntries(1, 10)), [1, 2]);
    },
  },
  // ── lifecycle and errors ──
  {
    name: 'close is idempotent; calls after close fail with a StorageError',
    async run(c) {
      await c.s.close();
      await c.s.close();
      await assert.rejects(c.s.loadInitialState(), (e: unknown) => e instanceof StorageError);
    },
  },
  {
    name: 'errors arrive as the StorageError class with code, subject and verb (rebuilt across threads)',
    async run({ s }) {
      await appendLog(s, entries(1, 2));
      const err = await rejectsWith(s.write({ entries: [raw(9)], apply: [] }), 'INVALID_ENTRIES');
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'StorageError');
      const back = StorageError.fromJSON(JSON.parse(JSON.stringify(err)) as ReturnType<StorageError['toJSON']>);
      assert.ok(back instanceof StorageError);
      assert.deepEqual([back.code, back.subject, back.verb, back.message], [err.code, err.subject, err.verb, err.message]);
    },
  },
  {
    name: 'many entries in one batch (512) round-trip through the cache-less path too',
    options: { cacheEntries: 1 },
    async run({ s }) {
      await appendLog(s, entries(1, 512, 4));
      const got = await s.logReader.tryGetLogEntries(1, 513);
      assert.equal(got.length, 512);
      assert.deepEqual(Buffer.from(got[511]!.data), Buffer.from(raw(512, 4).data));
    },
  },
];

/** Runs one case against a fresh store of the config; cleans up everything it opened. */
export async function runCase(config: SuiteConfig, kase: Case): Promise<void> {
  const dirs: Array<{ dir: string; remove(): void }> = [];
  const opened: NodeStorage[] = [];
  const base = (extra: Partial<NodeStorageOptions> = {}): NodeStorageOptions => {
    const d = tempDir();
    dirs.push(d);
    const o: NodeStorageOptions = { kind: config.kind, pool: config.pool, dir: d.dir, membership, ...kase.options, ...extra };
    if (config.transfer) o.transfer = config.transfer;
    return o;
  };
  const mainOpts = base();
  const ctx: Ctx = {
    config,
    s: await openNodeStorage(mainOpts),
    other: async (extra) => {
      const s = await openNodeStorage(base(extra));
      opened.push(s);
      return s;
    },
    reopen: async (extra) => {
      await ctx.s.close();
      ctx.s = await openNodeStorage({ ...mainOpts, ...extra });
      return ctx.s;
    },
  };
  try {
    await kase.run(ctx);
  } finally {
    await ctx.s.close();
    for (const s of opened) await s.close();
    for (const d of dirs) d.remove();
  }
}
