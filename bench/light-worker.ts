// One replica of the speed-of-light pipeline (bench/light.ts): no Raft, no elections, a leader fixed at node 0.
// Each batch from the main thread is one log entry, written to a synced LMDB log on every replica, the leader's
// write in parallel with its followers'; it commits once the leader and one follower hold it. With `apply`, each
// replica also applies every entry to its own state environment (not synced, and written through its map, as the
// project's): a read of the old record and a write of the new one per put, in one transaction per entry.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { pack, unpack } from 'msgpackr';

export interface LightWorkerData {
  dir: string;
  apply: boolean;
}

/** What a replica held when it stopped. */
export interface LightReplica {
  logEntries: number;
  stateKeys: number;
}

/** To the leader: its followers' ports and the main thread's. To a follower: its leader's port. */
export type LightSetup = { followers: MessagePort[]; main: MessagePort } | { leader: MessagePort };

const { dir, apply } = workerData as LightWorkerData;
const logEnv = open({ path: join(dir, 'log.mdb'), noSync: false, overlappingSync: false, compression: false, encoding: 'binary' });
const log = logEnv.openDB({ name: 'log', keyEncoding: 'uint32' });
const stateEnv = open({ path: join(dir, 'state.mdb'), noSync: true, useWritemap: true, overlappingSync: false, compression: false, encoding: 'binary' });
const state = stateEnv.openDB({ name: 'kv' });

function append(index: number, entry: Uint8Array): void {
  logEnv.transactionSync(() => void log.put(index, entry));
}

/** An entry is a msgpack array of [key, value] pairs. */
function applyEntry(index: number, entry: Uint8Array): void {
  if (!apply) return;
  const puts = unpack(entry) as Array<[string, Uint8Array]>;
  stateEnv.transactionSync(() => {
    for (const [key, value] of puts) {
      const old = state.getBinaryFast(key);
      void state.put(key, pack({ v: value, rev: index, created: old === undefined }));
    }
  });
}

function lead(followers: MessagePort[], main: MessagePort): void {
  const uncommitted: Uint8Array[] = []; // uncommitted[i] has index committed + 1 + i
  let last = 0;
  let persisted = 0;
  let committed = 0;
  const acked = followers.map(() => 0);
  const advance = (): void => {
    const to = Math.min(persisted, Math.max(...acked));
    while (committed < to) {
      committed++;
      applyEntry(committed, uncommitted.shift()!);
      main.postMessage(committed);
    }
  };
  followers.forEach((port, i) =>
    port.on('message', (index: number) => {
      acked[i] = index;
      advance();
    }),
  );
  main.on('message', (entry: Uint8Array) => {
    uncommitted.push(entry);
    const index = ++last;
    for (const port of followers) port.postMessage({ index, entry });
    append(index, entry);
    persisted = index;
    advance();
  });
}

function follow(leader: MessagePort): void {
  leader.on('message', ({ index, entry }: { index: number; entry: Uint8Array }) => {
    append(index, entry);
    leader.postMessage(index);
    applyEntry(index, entry); // every entry commits here: apply it once it is acknowledged
  });
}

parentPort!.once('message', (setup: LightSetup) => {
  if ('leader' in setup) follow(setup.leader);
  else lead(setup.followers, setup.main);
  parentPort!.once('message', async () => {
    // stop: say what the replica holds, close the environments and remove the files
    const held: LightReplica = { logEntries: log.getKeysCount(), stateKeys: state.getKeysCount() };
    await Promise.all([logEnv.close(), stateEnv.close()]);
    rmSync(dir, { recursive: true, force: true });
    parentPort!.postMessage(held);
  });
  parentPort!.postMessage('ready');
});
