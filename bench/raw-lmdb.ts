// The floor: raw LMDB on one thread, synced, no Raft, no threads. What every replicated figure is compared with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { LatencyHistogram, nowMs } from '../src/util/histogram.js';
import type { LatencySummary } from './report/types.js';

export interface RawResult {
  opsPerSec: number;
  latencyMs: LatencySummary;
  ops: number;
}

/** Synced transactions of `perTxn` puts of `valueSize` bytes for `durationMs`; latency is per transaction. */
export function rawLmdb(perTxn: number, valueSize: number, durationMs: number, sync = true): RawResult {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-raw-'));
  const env = open({ path: dir, noSync: !sync, compression: false });
  const db = env.openDB({ name: 'kv' });
  const value = Buffer.alloc(valueSize, 3);
  const h = new LatencyHistogram();
  let ops = 0;
  const start = nowMs();
  const end = start + durationMs;
  try {
    while (nowMs() < end) {
      const t0 = nowMs();
      env.transactionSync(() => {
        for (let i = 0; i < perTxn; i++) db.put(`key-${(ops + i) % 100_000}`, value);
      });
      h.recordMs(nowMs() - t0);
      ops += perTxn;
    }
  } finally {
    void env.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rawResult(ops, nowMs() - start, h);
}

/** `ops` done in `elapsedMs`, with their latencies in `h`. */
export function rawResult(ops: number, elapsedMs: number, h: LatencyHistogram): RawResult {
  const s = h.summary();
  return { opsPerSec: (ops * 1000) / elapsedMs, ops, latencyMs: { p50: s.p50, p95: s.p95, p99: s.p99, p999: s.p999, max: s.max, mean: s.mean } };
}
