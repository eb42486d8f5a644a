// What a NodeHost needs from its surroundings besides messages: a monotonic clock, timers, and its storage.
// The worker wires the real ones (realRuntime, openHostStorage); the deterministic simulation wires its own
// (test/sim/), so the one Ready loop in src/node/host.ts is the one both run.
import { openNodeStorage, type NodeStorage } from '../adaptor/index.js';
import type { NodeOptions } from './config.js';

/** An opaque timer handle: whatever the runtime's setTimeout/setInterval returned. */
export type TimerHandle = unknown;

export interface HostRuntime {
  /** Monotonic milliseconds (performance.now() in production; the simulated node's drifting clock in simulation). */
  now(): number;
  /** Wall-clock milliseconds since the epoch: the leader stamps it into each entry it proposes (the log clock of TTLs). */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** Run `fn` after the I/O already queued (Node's setImmediate): the host gathers one event-loop turn into one Ready. */
  setImmediate(fn: () => void): void;
}

export const realRuntime: HostRuntime = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setImmediate: (fn) => void setImmediate(fn),
};

/**
 * A node's storage: `log` holds the log and hard state (its writes are the durability point); `state` holds the
 * state machine and runs on the node's thread (`state.sync` is defined). They are one store unless the log
 * runs in a pool, where LMDB gives each its own environment (docs/storage.md).
 */
export interface HostStorage {
  log: NodeStorage;
  state: NodeStorage;
  /**
   * The state's store can write the log too (LMDB with a pool: an 'all' store on the node thread beside the pool's
   * 'log' store): the node then writes its log there while it follows (NodeHost.writeLog). Absent: the log store
   * writes every log write (one store, or the simulation's disk).
   */
  stateWritesLog?: boolean;
}

/** The production wiring: LMDB or memory stores, the log in a piscina pool or inline (NodeOptions). */
export async function openHostStorage(o: NodeOptions): Promise<HostStorage> {
  const common = {
    kind: o.storage,
    dir: o.dir,
    sync: o.sync,
    maxValueBytes: o.maxValueBytes,
    membership: o.learners === undefined ? { voters: o.voters } : { voters: o.voters, learners: o.learners },
    chunkBytes: o.snapshotChunkBytes,
    ...(o.maxKeys === undefined ? {} : { maxKeys: o.maxKeys }),
    ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }),
    ...(o.existing === undefined ? {} : { existing: o.existing }),
  };
  if (o.storage === 'lmdb' && o.pool === 'piscina') {
    // The state's writer opens first: it recovers the state (and finishes an interrupted install). It writes the
    // log too while the node follows (NodeHost.writeLog): role 'all'.
    const state = await openNodeStorage({ ...common, pool: 'inline', role: 'all' });
    try {
      return { state, log: await openNodeStorage({ ...common, pool: 'piscina', role: 'log' }), stateWritesLog: true };
    } catch (err) {
      await state.close();
      throw err;
    }
  }
  const both = await openNodeStorage({ ...common, pool: o.pool });
  return { log: both, state: both };
}
