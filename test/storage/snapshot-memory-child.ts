// Child of snapshot-memory.test.ts, run with --expose-gc: builds a state of over 64 MiB, streams a
// snapshot of it into a second store (inline, so producer and consumer share this isolate's heap) and
// prints JSON {stateBytes, chunkBytes, chunks, peakGrowthBytes, keys, ok}.
// Memory = heapUsed + external (Buffers live outside the V8 heap). Before each chunk we force a GC, so
// a sample holds what the stream retains plus the garbage of one step. RSS is not used: LMDB's map
// pages are file-backed and counted in RSS as they are read.
// Usage: node --expose-gc dist/test/storage/snapshot-memory-child.js <dir>   (does nothing without arguments)
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { openNodeStorage } from '../../src/adaptor/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

function mem(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function main(dir: string): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc');
  const chunkBytes = 1024 * 1024;
  const membership = { voters: [1] };
  // sync: false only to build the fixture fast (UNSAFE for durability; durability is not what this checks).
  const src = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: join(dir, 'src'), sync: false, membership, chunkBytes });
  const dst = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: join(dir, 'dst'), sync: false, membership, chunkBytes });
  const valueBytes = 64 * 1024;
  const perEntry = 16;
  const entriesN = 70; // 70 × 16 × 64 KiB = 70 MiB
  for (let i = 1; i <= entriesN; i++) {
    const ops = [];
    for (let j = 0; j < perEntry; j++) {
      const v = new Uint8Array(valueBytes).fill((i * perEntry + j) & 0xff);
      ops.push({ t: 'put', key: Buffer.from(`key-${i}-${j}`), value: v });
    }
    const e = { index: i, term: 1, type: 0 as const, data: pack([{ client: 1, seq: i, floor: i, ops }]) };
    await src.stateMachine.apply([e]);
  }
  const stateBytes = entriesN * perEntry * valueBytes;
  gc();
  gc();
  const base = mem();
  let peak = base;
  const sample = (): void => {
    peak = Math.max(peak, mem());
    gc();
  };
  const stream = await (await src.stateMachine.getSnapshotBuilder()).buildSnapshot();
  const recv = await dst.stateMachine.beginReceivingSnapshot();
  let chunks = 0;
  for await (const chunk of stream.chunks) {
    sample();
    await recv.write(chunk);
    sample();
    chunks++;
  }
  await dst.stateMachine.installSnapshot(stream.meta, recv);
  sample();
  let ok = true;
  for (const [i, j] of [[1, 0], [35, 7], [70, 15]] as const) {
    const v = await dst.get(Buffer.from(`key-${i}-${j}`));
    ok &&= v instanceof Uint8Array && v.byteLength === valueBytes && v[0] === ((i * perEntry + j) & 0xff);
  }
  const applied = (await dst.stateMachine.appliedState()).lastApplied?.index;
  ok &&= applied === entriesN;
  await src.close();
  await dst.close();
  process.stdout.write(`${JSON.stringify({ stateBytes, chunkBytes, chunks, peakGrowthBytes: peak - base, ok })}\n`);
}

const dir = process.argv[2];
if (dir) {
  main(dir).catch((err: unknown) => {
    process.stderr.write(`snapshot-memory-child failed: ${String(err)}\n`);
    process.exit(1);
  });
}
