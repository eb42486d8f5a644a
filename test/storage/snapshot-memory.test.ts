// A snapshot of a state over 64 MiB streams with bounded memory: the peak growth of heap + external
// memory while building, streaming and installing stays under a small multiple of the chunk size.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./snapshot-memory-child.js', import.meta.url));

test('a 70 MiB state snapshots and installs with peak memory growth under 10 chunks (measured about 7)', { timeout: 180_000 }, async () => {
  const d = tempDir('threadraft-snapmem-');
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--expose-gc', CHILD, d.dir], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const r = JSON.parse(out.trim()) as { stateBytes: number; chunkBytes: number; chunks: number; peakGrowthBytes: number; ok: boolean };
    assert.ok(r.ok, 'installed data matches');
    assert.ok(r.stateBytes > 64 * 1024 * 1024, `state is ${r.stateBytes} bytes`);
    assert.ok(r.chunks >= 64, `streamed in ${r.chunks} chunks`);
    assert.ok(r.peakGrowthBytes < 10 * r.chunkBytes, `peak growth ${(r.peakGrowthBytes / 1048576).toFixed(1)} MiB for a ${(r.stateBytes / 1048576).toFixed(0)} MiB state`);
    process.stdout.write(`# snapshot memory: ${JSON.stringify(r)}\n`);
  } finally {
    d.remove();
  }
});
