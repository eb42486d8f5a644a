// Child process of crash.test.ts: appends entries with sync on through the piscina bridge and prints
// "ack <index>" after each write is acknowledged (durable), until it is SIGKILLed.
// Usage: node dist/test/storage/crash-child.js <dir> <term> [ack-before-write]   (does nothing without arguments)
// `ack-before-write` is the bug the test must catch: it prints the ack first and writes 200 ms later
// (a slow disk), so a kill right after an ack finds the entry missing.
import { openNodeStorage } from '../../src/adaptor/index.js';
import type { Entry } from '../../src/raft/types.js';

/** The content every entry must have: derived from its index, so the parent can check it intact. */
export function crashEntryData(index: number): Uint8Array {
  const data = new Uint8Array(32 + (index % 97));
  for (let i = 0; i < data.length; i++) data[i] = (index * 131 + i * 7) & 0xff;
  return data;
}

async function main(dir: string, term: number, ackBeforeWrite: boolean): Promise<void> {
  const s = await openNodeStorage({ kind: 'lmdb', pool: 'piscina', dir, sync: true, membership: { voters: [1] } });
  const init = await s.loadInitialState();
  let next = (init.entries[init.entries.length - 1]?.index ?? init.snapshot?.index ?? 0) + 1;
  for (let round = 0; ; round++) {
    const n = 1 + (round % 8);
    const es: Entry[] = [];
    for (let i = 0; i < n; i++, next++) es.push({ index: next, term, type: 0, data: crashEntryData(next) });
    if (ackBeforeWrite) {
      process.stdout.write(`ack ${next - 1}\n`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await s.write({ entries: es, hardState: { term, vote: 1, commit: 0 }, apply: [] });
    if (!ackBeforeWrite) process.stdout.write(`ack ${next - 1}\n`);
  }
}

const [dir, term, mode] = process.argv.slice(2);
if (dir && term) {
  main(dir, Number(term), mode === 'ack-before-write').catch((err: unknown) => {
    process.stderr.write(`crash-child failed: ${String(err)}\n`);
    process.exit(1);
  });
}
