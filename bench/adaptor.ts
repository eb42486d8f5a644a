// Adaptor-layer overhead: adaptor + pool vs a direct LMDB call, for appends of 1/64/512 entries, a
// 64-entry range read and a 64-entry apply; pool vs inline side by side; sync on and off (off
// separates the fsync from the overhead; sync: false is UNSAFE for durability and used here only to
// measure). Also the raw costs behind the choice of transfer: a pool no-op, and 64 entries sent as
// a structured clone vs a msgpackr-packed transferred buffer.
// Usage: npx tsc -p . && node dist/bench/adaptor.js [--time ms] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import { Bench } from 'tinybench';
import { openNodeStorage, type NodeStorage, type NodeStorageOptions } from '../src/adaptor/index.js';
import { PoolBackend } from '../src/adaptor/backend.js';
import type { Entry } from '../src/raft/types.js';
import { encodeHardState, encodeLogRecord, logKey, packCopy } from '../src/storage/codec.js';
import { LmdbStore } from '../src/storage/lmdb.js';

const args = process.argv.slice(2);
const timeMs = Number(args[args.indexOf('--time') + 1] ?? 0) || 1500;
const asJson = args.includes('--json');
const membership = { voters: [1] };
const DATA_BYTES = 100;
/** Every append also saves the hard state, as a Ready does. */
const hs = { term: 1, vote: 1, commit: 0 };
const root = mkdtempSync(join(tmpdir(), 'threadraft-bench-'));
let dirN = 0;
const newDir = (): string => join(root, `d${dirN++}`);

function mkEntries(first: number, n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push({ index: first + i, term: 1, type: 0, data: new Uint8Array(DATA_BYTES).fill(i & 0xff) });
  return out;
}

/** n Normal entries, each one command with one put of a 100-byte value. */
function mkCommandEntries(first: number, n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const idx = first + i;
    const data = pack([{ client: 1 + (idx % 64), seq: idx, floor: idx, ops: [{ t: 'put', key: Buffer.from(`key-${idx % 10_000}`), value: new Uint8Array(DATA_BYTES) }] }]);
    out.push({ index: idx, term: 1, type: 0, data });
  }
  return out;
}

interface Row {
  name: string;
  meanUs: number;
  p99Us: number;
}

const cleanups: Array<() => Promise<void> | void> = [];

async function adaptor(pool: 'piscina' | 'inline', sync: boolean, extra: Partial<NodeStorageOptions> = {}): Promise<NodeStorage> {
  const s = await openNodeStorage({ kind: 'lmdb', pool, dir: newDir(), sync, membership, ...extra });
  cleanups.push(() => s.close());
  return s;
}

function store(sync: boolean): LmdbStore {
  const s = LmdbStore.open({ dir: newDir(), sync, membership });
  cleanups.push(() => s.close());
  return s;
}

async function main(): Promise<void> {
  const bench = new Bench({ time: timeMs, warmupTime: 200 });

  for (const sync of [false, true]) {
    const tag = sync ? 'sync' : 'nosync';
    for (const n of [1, 64, 512]) {
      // direct: a raw lmdb transactionSync with n puts of encoded records (no validation, no adaptor)
      const env = open({ path: join(newDir(), 'raw.mdb'), noSync: !sync, maxDbs: 2 });
      const db = env.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
      const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      cleanups.push(() => env.close());
      let rawNext = 1;
      bench.add(`append ${n} ${tag}: direct lmdb`, () => {
        const es = mkEntries(rawNext, n);
        rawNext += n;
        env.transactionSync(() => {
          for (const e of es) db.put(logKey(e.index), encodeLogRecord(e));
          meta.put('hardState', encodeHardState(hs));
        });
      });
      const st = store(sync);
      let stNext = 1;
      bench.add(`append ${n} ${tag}: store (sync call)`, () => {
        st.write({ entries: mkEntries(stNext, n), hardState: hs, apply: [] });
        stNext += n;
      });
      for (const [label, pool, transfer] of [['adaptor inline', 'inline', 'pack'], ['adaptor pool pack', 'piscina', 'pack'], ['adaptor pool clone', 'piscina', 'clone']] as const) {
        const s = await adaptor(pool, sync, { transfer });
        let next = 1;
        bench.add(`append ${n} ${tag}: ${label}`, async () => {
          const es = mkEntries(next, n);
          next += n;
          await s.write({ entries: es, hardState: hs, apply: [] });
        });
      }
    }
    // apply 64 commands (one put each)
    {
      const st = store(sync);
      let next = 1;
      bench.add(`apply 64 ${tag}: store (sync call)`, () => {
        st.write({ entries: [], apply: mkCommandEntries(next, 64) });
        next += 64;
      });
      for (const [label, pool] of [['adaptor inline', 'inline'], ['adaptor pool clone', 'piscina']] as const) {
        const s = await adaptor(pool, sync);
        let n2 = 1;
        bench.add(`apply 64 ${tag}: ${label}`, async () => {
          const es = mkCommandEntries(n2, 64);
          n2 += 64;
          await s.stateMachine.apply(es);
        });
      }
    }
  }

  // range read of 64 entries out of 10k
  {
    const st = store(false);
    for (let i = 1; i <= 10_000; i += 500) st.write({ entries: mkEntries(i, 500), apply: [] });
    let at = 1;
    const nextStart = (): number => {
      at = (at + 997) % 9_900 + 1;
      return at;
    };
    bench.add('range 64: store (sync call)', () => void st.entries(nextStart(), at + 64));
    for (const [label, pool, transfer] of [['adaptor inline', 'inline', 'pack'], ['adaptor pool pack', 'piscina', 'pack'], ['adaptor pool clone', 'piscina', 'clone']] as const) {
      const s = await adaptor(pool, false, { transfer, cacheEntries: 1 });
      for (let i = 1; i <= 10_000; i += 500) await s.write({ entries: mkEntries(i, 500), apply: [] });
      bench.add(`range 64: ${label} (cache miss)`, async () => void (await s.logReader.tryGetLogEntries(nextStart(), at + 64)));
    }
    const cached = await adaptor('piscina', false);
    await cached.write({ entries: mkEntries(1, 1000), apply: [] });
    bench.add('range 64: adaptor (cache hit)', async () => void (await cached.logReader.tryGetLogEntries(((at = (at + 97) % 900) + 1), at + 65)));
  }

  // the pool itself, and how 64 entries cross to it
  {
    const pool = await PoolBackend.open({ kind: 'memory', membership });
    cleanups.push(() => pool.close());
    const es = mkEntries(1, 64);
    bench.add('pool: no-op task', async () => void (await pool.call({ op: 'noop' })));
    bench.add('pool: 64 entries as structured clone', async () => void (await pool.call({ op: 'echo-clone', entries: es })));
    bench.add('pool: 64 entries packed + transferred', async () => {
      const buf = packCopy(es);
      await pool.call({ op: 'echo-packed', buf }, [buf.buffer as ArrayBuffer]);
    });
  }

  await bench.run();
  const rows: Row[] = [];
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}`);
    rows.push({ name: t.name, meanUs: r.latency.mean * 1000, p99Us: r.latency.p99 * 1000 });
  }
  for (const c of cleanups.reverse()) await c();
  rmSync(root, { recursive: true, force: true });
  if (asJson) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  process.stdout.write(`| case | mean µs | p99 µs |\n|---|---:|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${r.meanUs.toFixed(1)} | ${r.p99Us.toFixed(1)} |\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
