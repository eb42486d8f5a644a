// What a log purge costs the synced appends after it (docs/benchmarks.md, item 24; docs/storage.md, "Purging the
// log"): one LmdbStore, one synced append of an entry per transaction, a purge point every --every entries (a
// checkpoint first), and the point given to the store either as a goal (what a node does) or purged at once
// (purge(), what a node did before session 11). Prints the p50 of each window of transactions.
// Usage: node dist/bench/log-purge.js [--mode goal|once] [--entry-bytes 40000] [--every 1500] [--windows 20]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LmdbStore } from '../src/storage/lmdb.js';
import type { Entry } from '../src/raft/types.js';

const WINDOW = 500;

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'goal' },
    'entry-bytes': { type: 'string', default: '40000' },
    every: { type: 'string', default: '1500' },
    windows: { type: 'string', default: '20' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node dist/bench/log-purge.js [--mode goal|once] [--entry-bytes 40000] [--every 1500] [--windows 20]');
  process.exit(0);
}
const mode = values.mode;
const entryBytes = Number(values['entry-bytes']);
const every = Number(values.every);
const windows = Number(values.windows);
if ((mode !== 'goal' && mode !== 'once') || !(entryBytes > 0) || !(every > 0) || !(windows > 0 && windows <= 1000)) {
  console.error('log-purge: --mode goal|once, and positive --entry-bytes, --every, --windows (at most 1000)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'threadraft-log-purge-'));
const store = LmdbStore.open({ dir, membership: { voters: [1] } });
try {
  const data = new Uint8Array(entryBytes).fill(7);
  let index = 0;
  const p50s: string[] = [];
  for (let w = 0; w < windows; w++) {
    const times: number[] = [];
    for (let i = 0; i < WINDOW; i++) {
      let purgeTo: { index: number; term: number } | undefined;
      if (index > every && index % every === 0) {
        store.checkpoint();
        purgeTo = { index: index - every, term: 1 };
        if (mode === 'once') {
          store.purge(purgeTo);
          purgeTo = undefined;
        }
      }
      const e: Entry = { index: ++index, term: 1, type: 0, data };
      const t0 = performance.now();
      store.write({ entries: [e], apply: [e], ...(purgeTo ? { purgeTo } : {}) });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    p50s.push(times[WINDOW >> 1]!.toFixed(2));
  }
  const mb = statSync(join(dir, 'data.mdb')).size / 1e6;
  console.log(`${mode}: p50 ms of each ${WINDOW} synced appends of ${entryBytes} B, a purge point every ${every}: ${p50s.join(' ')}; data.mdb ${mb.toFixed(0)} MB`);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
