// The write path's speed of light on this machine: the parts the project is made of and nothing else. Three
// worker threads joined by MessageChannels, a leader fixed at node 0 (no Raft: no terms, no elections, no
// validation, no membership, no sessions, no TTLs), each batch of a turn's writes one log entry, written to a
// synced LMDB log on every replica, the leader's write in parallel with its followers', committed once the
// leader and one follower hold it (bench/light-worker.ts). With `apply`, every replica also applies each entry to
// an LMDB state environment that is not synced: a read of the old record and a write of the new one per put.
// `compare` runs it beside the floor and the cluster, so that what the project costs above its own parts, and
// what those parts can do on this disk and these cores at all, are ratios of one run (docs/benchmarks.md).
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyHistogram, nowMs } from '../src/util/histogram.js';
import { packCopy } from '../src/util/pack.js';
import { track } from './live.js';
import { keyOf } from './load.js';
import { rawResult, type RawResult } from './raw-lmdb.js';
import type { LightReplica, LightSetup, LightWorkerData } from './light-worker.js';

const WORKER_URL = new URL('./light-worker.js', import.meta.url);
const REPLICAS = 3;
/** Writes still in flight at the end have this long to come back (they take milliseconds). */
const DRAIN_TIMEOUT_MS = 10_000;

export interface LightSpec {
  /** The directory the replicas' files go under (removed again when the run ends). */
  dir: string;
  inFlight: number;
  apply: boolean;
  durationMs: number;
  warmupMs: number;
  valueSize: number;
  keySpace: number;
}

export interface LightResult extends RawResult {
  /** What each replica held at the end (the leader first): the tests check that the work was done. */
  replicas: LightReplica[];
}

/** Starts the three replicas, writes every key once, runs a closed loop of `inFlight` puts, stops them. */
export async function speedOfLight(spec: LightSpec): Promise<LightResult> {
  const root = mkdtempSync(join(spec.dir, 'light-'));
  const workers: Worker[] = [];
  const terminate = (): Promise<unknown> => Promise.all(workers.map((w) => w.terminate()));
  const untrack = track({ stop: terminate }); // a signal during the run stops the threads before the process exits
  try {
    for (let id = 0; id < REPLICAS; id++) {
      const data: LightWorkerData = { dir: mkdtempSync(join(root, `node-${id}-`)), apply: spec.apply };
      workers.push(new Worker(WORKER_URL, { workerData: data }));
    }
    const toMain = new MessageChannel();
    const links = workers.slice(1).map(() => new MessageChannel());
    const setups: Array<[LightSetup, MessagePort[]]> = [
      [{ followers: links.map((l) => l.port1), main: toMain.port2 }, [...links.map((l) => l.port1), toMain.port2]],
      ...links.map((l): [LightSetup, MessagePort[]] => [{ leader: l.port2 }, [l.port2]]),
    ];
    await Promise.all(workers.map((w, i) => request(w, setups[i]![0], setups[i]![1])));
    let result: RawResult;
    try {
      const loop = new Loop(toMain.port1, spec.valueSize);
      let next = 0;
      await loop.run(256, nowMs() + 60_000, () => keyOf(next++), () => next >= spec.keySpace);
      const warmEnd = nowMs() + spec.warmupMs;
      const random = (): string => keyOf(Math.floor(Math.random() * spec.keySpace));
      await loop.run(spec.inFlight, warmEnd, random);
      result = await loop.run(spec.inFlight, nowMs() + spec.durationMs, random);
    } finally {
      toMain.port1.close();
    }
    const replicas = await Promise.all(workers.map((w) => request<LightReplica>(w, 'stop', [])));
    return { ...result, replicas };
  } finally {
    await terminate();
    untrack();
    rmSync(root, { recursive: true, force: true });
  }
}

function request<T = unknown>(w: Worker, msg: unknown, transfer: MessagePort[]): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage(msg, transfer);
  });
}

/** The main thread's side: puts issued in one turn go to the leader as one entry; a reply per entry. */
class Loop {
  private readonly value: Buffer;
  private pending: Array<[string, Buffer]> = [];
  private pendingStarts: number[] = [];
  private flushScheduled = false;
  /** Per entry sent and not answered yet: the start times of its puts. */
  private readonly sent: number[][] = [];
  private onReply: ((starts: number[]) => void) | undefined;

  constructor(
    private readonly leader: MessagePort,
    valueSize: number,
  ) {
    this.value = Buffer.alloc(valueSize, 7);
    leader.on('message', () => this.onReply?.(this.sent.shift()!));
  }

  /** Keeps `inFlight` puts going until `until` (or `done()`), then waits for the last ones. */
  run(inFlight: number, until: number, key: () => string, done: () => boolean = () => false): Promise<RawResult> {
    const h = new LatencyHistogram();
    const start = nowMs();
    let ops = 0;
    let outstanding = 0;
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(guard);
        resolve(rawResult(ops, nowMs() - start, h));
      };
      const guard = setTimeout(() => reject(new Error('speed-of-light: writes did not come back')), until - start + DRAIN_TIMEOUT_MS);
      const more = (): boolean => nowMs() < until && !done();
      const issue = (): void => {
        outstanding++;
        this.put(key());
      };
      this.onReply = (starts) => {
        const now = nowMs();
        for (const t of starts) h.recordMs(now - t);
        ops += starts.length;
        outstanding -= starts.length;
        for (let i = 0; i < starts.length && more(); i++) issue();
        if (outstanding === 0) finish();
      };
      for (let i = 0; i < inFlight && more(); i++) issue();
      if (outstanding === 0) finish();
    });
  }

  private put(key: string): void {
    this.pending.push([key, this.value]);
    this.pendingStarts.push(nowMs());
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.sent.push(this.pendingStarts);
      const entry = packCopy(this.pending);
      this.pending = [];
      this.pendingStarts = [];
      this.leader.postMessage(entry, [entry.buffer as ArrayBuffer]);
    });
  }
}
