// What randomKey() (RANDOMKEY) costs by the index it lands on (docs/cache.md, "Reads"): --keys keys in a memory
// store and in an LMDB store (written unsynced: only the read is timed), then the mean time of --reps picks at
// each of a few fixed points r of the key order. LMDB's grows with the index (lmdb-js steps its cursor there).
// Usage: node dist/bench/random-key.js [--keys 1000000] [--reps 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pack } from 'msgpackr';
import { LmdbStore } from '../src/storage/lmdb.js';
import { MemoryStore } from '../src/storage/memory.js';
import { stampEntryData, type Op } from '../src/storage/command.js';
import type { SyncStore } from '../src/storage/store.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '20' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node dist/bench/random-key.js [--keys 1000000] [--reps 20]');
  process.exit(0);
}
const keys = Number(values.keys);
const reps = Number(values.reps);
if (!Number.isInteger(keys) || keys < 1 || keys > 10_000_000 || !Number.isInteger(reps) || reps < 1 || reps > 10_000) {
  console.error('random-key: --keys 1 to 10 000 000, --reps 1 to 10 000');
  process.exit(2);
}

const BATCH = 10_000;
const POINTS = [0, 0.25, 0.5, 0.75, 0.999];
const membership = { voters: [1] };
const dir = mkdtempSync(join(tmpdir(), 'threadraft-random-key-'));
const stores: Array<[string, SyncStore]> = [['memory', new MemoryStore({ membership })], ['lmdb', LmdbStore.open({ dir, membership, sync: false })]];
try {
  console.log(`randomKey: mean ms of ${reps} picks at index r × ${keys} keys`);
  console.log(['store', ...POINTS.map((r) => `r=${r}`)].join('\t'));
  for (const [name, store] of stores) {
    for (let i = 0, index = 1; i < keys; i += BATCH, index++) {
      const ops: Op[] = [];
      for (let j = i; j < Math.min(keys, i + BATCH); j++) ops.push({ t: 'put', key: Buffer.from(`key:${String(j).padStart(8, '0')}`), value: 'v' });
      store.apply([{ index, term: 1, type: 0, data: stampEntryData(pack([{ client: 1, seq: index, floor: 0, ops }]), Date.now()) }]);
    }
    const row = POINTS.map((r) => {
      const t = performance.now();
      for (let i = 0; i < reps; i++) if (store.randomKey(r) === undefined) throw new Error(`${name}: no key at r=${r}`);
      return ((performance.now() - t) / reps).toFixed(3);
    });
    console.log([name, ...row].join('\t'));
  }
} finally {
  for (const [, s] of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
}
