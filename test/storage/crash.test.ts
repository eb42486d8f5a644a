// Crash durability: a child appends with sync on and prints each acknowledged index; we SIGKILL it
// mid-stream several times, reopen, and every acknowledged entry must be present and intact.
// (SIGKILL kills the process, not the machine: the OS page cache survives, so this checks that an
// acknowledgement comes only after the commit, and that LMDB reopens cleanly after a kill mid-write.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openNodeStorage } from '../../src/adaptor/index.js';
import { crashEntryData } from './crash-child.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Run the child until it acknowledged at least `acks` writes (or 20 s), SIGKILL it; returns the highest acknowledged index. */
function runAndKill(dir: string, term: number, acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(term)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let lines = 0;
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ack (\d+)$/.exec(line);
        if (m) {
          acked = Math.max(acked, Number(m[1]));
          if (++lines === acks) child.kill('SIGKILL'); // mid-stream: the next write is in flight
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed: ${stderr}`));
      else resolve(acked);
    });
  });
}

test('every acknowledged entry survives SIGKILL mid-stream, several times', { timeout: 120_000 }, async () => {
  const d = tempDir('threadraft-crash-');
  try {
    let acked = 0;
    const plan = [30, 7, 120, 55, 200];
    for (let round = 0; round < plan.length; round++) {
      const a = await runAndKill(d.dir, round + 1, plan[round]!);
      assert.ok(a >= acked, `acks only grow: ${a} after ${acked}`);
      acked = a;
    }
    assert.ok(acked > 100, `the children acknowledged ${acked} entries`);
    const s = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: d.dir, membership: { voters: [1] } });
    try {
      const got = await s.logReader.tryGetLogEntries(1, acked + 1);
      assert.equal(got.length, acked, 'every acknowledged entry is present');
      for (const e of got) assert.deepEqual(Buffer.from(e.data), Buffer.from(crashEntryData(e.index)), `entry ${e.index} intact`);
      const init = await s.loadInitialState();
      assert.ok(init.hardState.term >= 1);
    } finally {
      await s.close();
    }
  } finally {
    d.remove();
  }
});
