// Process-crash safety of the log store: a child appends with sync on and prints each acknowledged
// index; we SIGKILL it mid-stream several times, reopen, and every acknowledged entry must be present
// and intact.
// What this shows, and what it cannot: SIGKILL kills the process, not the machine, so the OS page cache
// survives. It shows that an acknowledgement comes only after the write reached the store (the second
// test checks that a child acknowledging before writing is caught) and that LMDB reopens cleanly after a
// kill mid-write. It does NOT show durability against power loss: it passes with `sync: false` too, as
// any SIGKILL test does. A missing fsync is caught by /work/shared/tools/powerloss (see its README).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openNodeStorage } from '../../src/adaptor/index.js';
import { crashEntryData } from './crash-child.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Run the child until it acknowledged at least `acks` writes (or 20 s), SIGKILL it; returns the highest acknowledged index. */
function runAndKill(dir: string, term: number, acks: number, mode = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(term), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Reopen `dir` and count the entries 1..acked that are missing or not intact. */
async function missingOrCorrupt(dir: string, acked: number): Promise<number> {
  const s = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir, membership: { voters: [1] } });
  try {
    const init = await s.loadInitialState();
    assert.ok(init.hardState.term >= 1);
    const got = await s.logReader.tryGetLogEntries(1, acked + 1);
    let bad = acked - got.length;
    for (const e of got) if (!Buffer.from(e.data).equals(Buffer.from(crashEntryData(e.index)))) bad++;
    return bad;
  } finally {
    await s.close();
  }
}

test('process crash (SIGKILL, not power loss): every acknowledged entry survives a kill mid-stream, several times', { timeout: 120_000 }, async () => {
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
    assert.equal(await missingOrCorrupt(d.dir, acked), 0, 'every acknowledged entry is present and intact');
  } finally {
    d.remove();
  }
});

test('the check can fail: a child that acknowledges before writing is caught', { timeout: 60_000 }, async () => {
  const d = tempDir('threadraft-crash-bad-');
  try {
    const acked = await runAndKill(d.dir, 1, 5, 'ack-before-write');
    assert.ok(acked > 0);
    assert.ok((await missingOrCorrupt(d.dir, acked)) > 0, `entries acknowledged before they were written are missing (acked ${acked})`);
  } finally {
    d.remove();
  }
});
