// Child process of process-kill.test.ts (does nothing without arguments: `node --test` runs every file
// under test/).
//   write <dir> <acks> <round> <writers>: a 3-node synced LMDB cluster on <dir>; <writers> concurrent
//     writers of unique keys; every acknowledged key is appended to <acks> with writeSync before the
//     writer goes on (the file stands for what clients were told; a SIGKILL does not lose it: it is in
//     the kernel). Prints "STARTED" once the cluster serves, then runs until it is killed.
//   verify <dir> <acks>: reopens <dir> and reads every acknowledged key (linearizable get); prints one
//     JSON line {acked, lost, wrong, readErrors, sample}; exit 0 iff all are there with their values.
import { openSync, readFileSync, writeSync } from 'node:fs';
import { Cluster } from '../../src/index.js';

export function valueOf(key: string): string {
  return `v-${key}-${key.length}`;
}

async function write(dir: string, acks: string, round: string, writers: number): Promise<void> {
  const fd = openSync(acks, 'a');
  const c = await Cluster.start({ nodes: 3, dir, storage: 'lmdb', sync: true, requestTimeoutMs: 5_000 });
  process.stdout.write('STARTED\n');
  const writer = async (w: number): Promise<void> => {
    for (let n = 0; ; n++) {
      const key = `r${round}-w${w}-${n}`;
      try {
        await c.put(key, valueOf(key));
      } catch {
        await new Promise((r) => setTimeout(r, 10)); // not acknowledged: not recorded
        continue;
      }
      writeSync(fd, `${key}\n`);
    }
  };
  for (let w = 0; w < writers; w++) void writer(w);
}

async function verify(dir: string, acks: string): Promise<void> {
  const keys = readFileSync(acks, 'utf8').split('\n');
  keys.pop(); // the text after the last newline: empty, or a line cut by the kill (never completed: not told)
  const c = await Cluster.start({ nodes: 3, dir, storage: 'lmdb', sync: true, requestTimeoutMs: 20_000 });
  let lost = 0;
  let wrong = 0;
  let readErrors = 0;
  const sample: string[] = [];
  try {
    for (let i = 0; i < keys.length; i += 512) {
      const part = keys.slice(i, i + 512);
      const values = await Promise.all(part.map((k) => c.get(k).catch((e: unknown) => {
        readErrors++;
        if (sample.length < 5) sample.push(`read ${k}: ${String(e)}`);
        return undefined;
      })));
      part.forEach((k, j) => {
        const v = values[j];
        if (v === undefined) {
          lost++;
          if (sample.length < 5) sample.push(`lost ${k}`);
        } else if (v !== valueOf(k)) {
          wrong++;
          if (sample.length < 5) sample.push(`wrong ${k}: ${String(v)}`);
        }
      });
    }
  } finally {
    await c.stop();
  }
  process.stdout.write(`${JSON.stringify({ acked: keys.length, lost, wrong, readErrors, sample })}\n`);
  process.exitCode = lost + wrong + readErrors === 0 ? 0 : 1;
}

const [mode, dir, acks, round, writers] = process.argv.slice(2);
const fail = (err: unknown): void => {
  process.stderr.write(`process-kill-child ${mode} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
};
if (mode === 'write' && dir && acks && round && writers) write(dir, acks, round, Number(writers)).catch(fail);
else if (mode === 'verify' && dir && acks) verify(dir, acks).catch(fail);
