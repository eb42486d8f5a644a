// More writes than the cluster can take (docs/benchmarks.md, item 29): --callers closed-loop callers, each a
// batch() of --ops puts of --value-bytes on --keys keys, for --duration seconds on a 3-node LMDB cluster (synced,
// the default pool). Prints the calls and MB acknowledged per second, the timeouts, the latency, how many sends each
// write took (the coordinator sends a write again only when it was lost), the terms and the memory the threads
// account. With the defaults 1,600 calls of 200 KB (320 MB) are in flight: before session 31 the coordinator
// handed them all to the leader at once and sent every write unresolved after 2 s again. Since session 32 the
// coordinator holds at most --pending-mib of writes (maxPendingWriteBytes): a call beyond gets BUSY, and its caller
// waits 5 ms before it calls again (a caller that retried at once would never let the event loop run).
// Usage: node dist/bench/overload.js [--callers 1600] [--ops 10] [--value-bytes 20000] [--keys 20000]
//        [--duration 30] [--window-mib 32] [--pending-mib 256] [--dir <path>]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from '../src/index.js';
import type { BatchOp } from '../src/index.js';
import { LatencyHistogram } from '../src/util/histogram.js';

const USAGE = 'Usage: node dist/bench/overload.js [--callers 1600] [--ops 10] [--value-bytes 20000] [--keys 20000] [--duration 30] [--window-mib 32] [--pending-mib 256] [--dir <path>]';
const { values } = parseArgs({
  options: {
    callers: { type: 'string', default: '1600' },
    ops: { type: 'string', default: '10' },
    'value-bytes': { type: 'string', default: '20000' },
    keys: { type: 'string', default: '20000' },
    duration: { type: 'string', default: '30' },
    'window-mib': { type: 'string', default: '32' },
    'pending-mib': { type: 'string', default: '256' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  console.log('--window-mib: the cluster option maxInflightWriteBytes, in MiB');
  console.log('--pending-mib: the cluster option maxPendingWriteBytes, in MiB (calls beyond get BUSY; their callers wait 5 ms)');
  process.exit(0);
}
const callers = Number(values.callers);
const ops = Number(values.ops);
const valueBytes = Number(values['value-bytes']);
const keys = Number(values.keys);
const duration = Number(values.duration);
const windowMib = Number(values['window-mib']);
const pendingMib = Number(values['pending-mib']);
const intIn = (v: number, max: number): boolean => Number.isInteger(v) && v >= 1 && v <= max;
if (!intIn(callers, 100_000) || !intIn(ops, 1024) || !intIn(valueBytes, 1 << 20) || !intIn(keys, 1e8) || !(duration > 0 && duration <= 3600) || !intIn(windowMib, 1 << 20) || !intIn(pendingMib, 1 << 20)) {
  console.error(`overload: --callers 1..100000, --ops 1..1024, --value-bytes 1..1048576, --keys, --duration 0..3600 s, --window-mib and --pending-mib 1..1048576\n${USAGE}`);
  process.exit(2);
}

const base = values.dir ?? tmpdir();
const dir = mkdtempSync(join(base, 'threadraft-overload-'));
const cluster = await Cluster.start({ dir, nodes: 3, maxInflightWriteBytes: windowMib * 1024 * 1024, maxPendingWriteBytes: pendingMib * 1024 * 1024 });
try {
  await cluster.resetMetrics();
  const value = Buffer.alloc(valueBytes, 120);
  const latency = new LatencyHistogram(); // bounded, whatever the number of calls
  let ok = 0;
  const failures = new Map<string, number>();
  const start = performance.now();
  const end = start + duration * 1000;
  let seed = 1;
  const nextKey = (): string => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return `k${seed % keys}`;
  };
  await Promise.all(Array.from({ length: callers }, async () => {
    while (performance.now() < end) {
      const batch: BatchOp[] = Array.from({ length: ops }, () => ({ type: 'put', key: nextKey(), value }));
      const t0 = performance.now();
      try {
        await cluster.batch(batch);
        ok++;
        latency.recordMs(performance.now() - t0);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERROR';
        failures.set(code, (failures.get(code) ?? 0) + 1);
        if (code === 'BUSY') await new Promise((r) => setTimeout(r, 5)); // back off: nothing was written
      }
    }
  }));
  const secs = (performance.now() - start) / 1000;
  const m = await cluster.metrics();
  const status = await cluster.status();
  const l = latency.summary();
  const c = m.coordinator;
  const mb = (ok * ops * valueBytes) / 1e6;
  console.log(`overload: ${callers} callers × ${ops} puts of ${valueBytes} B on ${keys} keys, ${secs.toFixed(1)} s, maxInflightWriteBytes ${windowMib} MiB, maxPendingWriteBytes ${pendingMib} MiB`);
  console.log(`  acknowledged ${ok} calls (${(ok / secs).toFixed(0)}/s, ${(mb / secs).toFixed(1)} MB/s); failed ${[...failures].map(([k, n]) => `${k} ${n}`).join(', ') || '0'}`);
  console.log(`  latency ms p50 ${l.p50.toFixed(0)} p99 ${l.p99.toFixed(0)} max ${l.max.toFixed(0)}`);
  console.log(`  sends per write ${((c.writes + c.resends) / Math.max(1, c.writes)).toFixed(2)} (${c.resends} sent again); terms ${status.map((s) => s.term).join('/')}; memory the threads account ${(m.memory.totalBytes / 1e6).toFixed(0)} MB`);
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
