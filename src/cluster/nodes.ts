// The node workers as the coordinator sees them: spawning with a full mesh of MessageChannels,
// leader tracking from the nodes' state reports, crash (abrupt terminate) and restart (a new worker
// on the same directory, with fresh channels to every live peer).
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { NodeId, Role } from '../raft/types.js';
import type { NodeOptions } from '../node/config.js';
import type { FromNode, LinkFaults, ToNode } from '../node/protocol.js';
import type { NodeControl } from '../node/control.js';
import { portEndpoint } from '../util/comlink-port.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { checkNodeId } from './validate.js';
import { Tripwire } from '../util/tripwire.js';

const WORKER_URL = new URL('../../workers/node-worker.js', import.meta.url);
/** How long a stopping or crashing node may take to finish its storage work before it is terminated. */
const STOP_GRACE_MS = 5_000;
/** How long a node may take to open its storage and report ready. */
const START_TIMEOUT_MS = 30_000;

/** `p`, or after `ms` the error made by `onTimeout` (or just undefined when there is none). */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T>;
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined>;
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout?: () => Error): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve, reject) => {
    timer = setTimeout(() => (onTimeout ? reject(onTimeout()) : resolve(undefined)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface NodeHandle {
  id: NodeId;
  options: NodeOptions;
  worker: Worker | undefined;
  /** Its control plane; a call out when the node goes down settles NODE_UNAVAILABLE (settleWhenDown). */
  control: Comlink.Remote<NodeControl> | undefined;
  controlPort: MessagePort | undefined;
  /** Settle every control call still out with `err` (the node went down). */
  failControl: (err: Error) => void;
  alive: boolean;
  role: Role;
  leader: NodeId;
  term: number;
  /** Resolves when the worker reported 'ready' (or rejects on a fatal error before that). */
  started: Promise<void>;
  fatal: string | undefined;
}

export interface NodeEvents {
  message(id: NodeId, msg: FromNode): void;
  down(id: NodeId, reason: string): void;
  leaderChanged(leader: NodeId | undefined): void;
}

export class NodeSet {
  readonly handles = new Map<NodeId, NodeHandle>();
  private faults = new Map<NodeId, LinkFaults>();
  private leaderId: NodeId | undefined;
  private leaderTerm = 0;

  constructor(private readonly events: NodeEvents) {}

  get leader(): NodeId | undefined {
    return this.leaderId;
  }

  ids(): NodeId[] {
    return [...this.handles.keys()];
  }

  alive(): NodeHandle[] {
    return [...this.handles.values()].filter((h) => h.alive);
  }

  /** The node `id` names: INVALID_ARGUMENT when it is not a node id, NODE_UNAVAILABLE when there is none. */
  get(id: NodeId): NodeHandle {
    const h = this.handles.get(id);
    if (h) return h;
    checkNodeId(id);
    throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `no node ${id}`);
  }

  /**
   * Start every node with a full mesh of channels. Resolves once each has started or failed: with the error of
   * each node that failed (it stays down, its error in its handle), by id; rejects only on the timeout. The whole
   * cluster starts at once, so the Raft cores start cold (RaftConfig.coldStart); the handles keep the options
   * without it, so a node restarted alone later is not.
   */
  async startAll(options: NodeOptions[]): Promise<Map<NodeId, unknown>> {
    const peers = new Map<NodeId, Array<[NodeId, MessagePort]>>();
    for (const o of options) peers.set(o.id, []);
    for (let i = 0; i < options.length; i++) {
      for (let j = i + 1; j < options.length; j++) {
        const a = options[i]!.id;
        const b = options[j]!.id;
        const ch = new MessageChannel();
        peers.get(a)!.push([b, ch.port1]);
        peers.get(b)!.push([a, ch.port2]);
      }
    }
    const failed = new Map<NodeId, unknown>();
    const all = Promise.all(options.map((o) => this.spawn(o, peers.get(o.id)!, true).catch((err: unknown) => void failed.set(o.id, err))));
    await withTimeout(all, START_TIMEOUT_MS, () => new ClusterError(ErrorCode.TIMEOUT, `nodes did not start within ${START_TIMEOUT_MS} ms`));
    return failed;
  }

  private spawn(options: NodeOptions, peers: Array<[NodeId, MessagePort]>, coldStart = false): Promise<void> {
    const ctrl = new MessageChannel();
    const worker = new Worker(WORKER_URL, {
      workerData: { options: coldStart ? { ...options, coldStart: true } : options, peers, control: ctrl.port2 },
      transferList: [ctrl.port2, ...peers.map(([, p]) => p)],
    });
    let resolveStarted!: () => void;
    let rejectStarted!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    started.catch(() => undefined);
    const down = new Tripwire();
    const h: NodeHandle = {
      id: options.id,
      options,
      worker,
      control: settleWhenDown(Comlink.wrap<NodeControl>(portEndpoint(ctrl.port1)), down),
      controlPort: ctrl.port1,
      failControl: (err) => down.trip(err),
      alive: true,
      role: 'follower',
      leader: 0,
      term: 0,
      started,
      fatal: undefined,
    };
    this.handles.set(options.id, h);
    worker.on('message', (msg: FromNode) => {
      if (h.worker !== worker) return; // a message from a worker we already crashed
      if (msg.t === 'ready') resolveStarted();
      else if (msg.t === 'fatal') {
        // An error with a stable code (a damaged store, a mismatch) is its message; anything else, a bug, keeps its stack.
        h.fatal = msg.error.code !== undefined ? msg.error.message : (msg.error.stack ?? msg.error.message);
        rejectStarted(new ClusterError(ErrorCode.STORAGE, `node ${h.id} failed: ${msg.error.message}`, { cause: msg.error }));
        // The node stops itself (its storage finishes what is in flight, then it exits); terminate it
        // only if it does not: killing a thread inside an LMDB transaction leaves the environment's
        // writer lock held for every later thread of this process.
        h.worker = undefined;
        this.markDown(h, `fatal: ${msg.error.message}`);
        setTimeout(() => void worker.terminate(), STOP_GRACE_MS).unref();
        return;
      } else if (msg.t === 'state') this.onState(h, msg.role, msg.leader, msg.term);
      this.events.message(h.id, msg);
    });
    worker.on('error', (err) => {
      if (h.worker !== worker) return;
      h.fatal = err instanceof Error ? (err.stack ?? String(err)) : String(err);
      rejectStarted(new ClusterError(ErrorCode.STORAGE, `node ${h.id} worker error: ${String(err)}`));
      this.markDown(h, `worker error: ${String(err)}`);
    });
    worker.on('exit', (code) => {
      // Also for a worker already let go (stopAll, crash): a start still waiting ends now (a no-op once started).
      rejectStarted(new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${h.id} exited with code ${code}`));
      if (h.worker !== worker) return;
      h.fatal ??= `its thread exited with code ${code}`; // status().error says why it is down
      this.markDown(h, `exited with code ${code}`);
    });
    const f = this.faults.get(options.id);
    if (f) void started.then(() => h.control?.setFaults(f)).catch(() => undefined);
    return started;
  }

  private onState(h: NodeHandle, role: Role, leader: NodeId, term: number): void {
    h.role = role;
    h.leader = leader;
    h.term = term;
    if (role === 'leader' && term >= this.leaderTerm) return this.setLeader(h.id, term);
    if (this.leaderId === h.id && role !== 'leader') {
      // Our leader stepped down: follow its hint when it names a live node of a newer term.
      const hint = leader !== 0 && leader !== h.id && this.handles.get(leader)?.alive ? leader : undefined;
      this.setLeader(hint, term);
      return;
    }
    if (this.leaderId === undefined && leader !== 0 && this.handles.get(leader)?.alive && term >= this.leaderTerm) {
      this.setLeader(leader, term);
    }
  }

  private setLeader(id: NodeId | undefined, term: number): void {
    this.leaderTerm = Math.max(this.leaderTerm, term);
    if (this.leaderId === id) return;
    this.leaderId = id;
    this.events.leaderChanged(id);
  }

  /**
   * Follow a NOT_LEADER reply from node `from`. Only the node we believe leads can unseat itself: a late
   * reply from an earlier leader must not make us forget the leader we know now. A node that names itself still
   * leads (it refuses proposals while it hands leadership over, §3.10): nothing changes. Any other refusal says it
   * no longer leads, which its own report says only with its next Ready, and that may wait behind its storage
   * writes for seconds: until a report says it leads again, it is not adopted. recoverLeader() used to take it back
   * at once, so each refused batch made two leader changes, each sending every write in flight again (to it).
   */
  hint(from: NodeId, leader: NodeId | undefined): void {
    if (this.leaderId !== undefined && from !== this.leaderId) return;
    if (leader === from) return;
    const h = this.handles.get(from);
    if (h !== undefined && h.role === 'leader') h.role = 'follower';
    if (leader !== undefined && leader !== 0 && this.handles.get(leader)?.alive) this.setLeader(leader, this.leaderTerm);
    else this.setLeader(undefined, this.leaderTerm);
    if (this.leaderId === undefined) this.recoverLeader();
  }

  /** With no leader known, adopt the live node whose last report says it leads, in the highest term. */
  recoverLeader(): void {
    if (this.leaderId !== undefined) return;
    let best: NodeHandle | undefined;
    for (const h of this.handles.values()) {
      if (h.alive && h.role === 'leader' && (!best || h.term > best.term)) best = h;
    }
    if (best) this.setLeader(best.id, best.term);
  }

  private markDown(h: NodeHandle, reason: string): void {
    if (!h.alive) return;
    h.alive = false;
    h.role = 'follower';
    this.closeControl(h);
    if (this.leaderId === h.id) this.setLeader(undefined, this.leaderTerm);
    this.events.down(h.id, reason);
  }

  private closeControl(h: NodeHandle): void {
    h.failControl(new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${h.id} went down before it answered`));
    if (h.control) h.control[Comlink.releaseProxy]();
    h.controlPort?.close();
    h.control = undefined;
    h.controlPort = undefined;
  }

  post(id: NodeId, msg: ToNode, transfer?: ArrayBuffer[]): boolean {
    const h = this.handles.get(id);
    if (!h || !h.alive || !h.worker) return false;
    h.worker.postMessage(msg, transfer);
    return true;
  }

  /**
   * Crash node `id`: from now on it sends, persists and applies nothing more; whatever it had not
   * persisted is lost, as in a process crash. The storage transaction in flight, if any, completes (or
   * not) atomically first, then the worker is terminated: terminating a thread inside an LMDB
   * transaction would leave the environment's writer lock held for every later thread of this process.
   */
  async crash(id: NodeId): Promise<void> {
    const h = this.get(id);
    if (!h.alive || !h.worker) return;
    const w = h.worker;
    const control = h.control;
    h.worker = undefined; // ignore everything it still says
    if (control) await withTimeout(control.stop().catch(() => undefined), STOP_GRACE_MS);
    this.markDown(h, 'crashed');
    await w.terminate();
  }

  /** A new node (membership changes): its own worker and store, with channels to every live node. */
  async add(options: NodeOptions): Promise<void> {
    if (this.handles.has(options.id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${options.id} already exists`);
    await this.connectAndSpawn(options, () => {
      const h = this.handles.get(options.id);
      const w = h?.worker;
      if (h) h.worker = undefined;
      if (h) this.markDown(h, 'did not start');
      this.handles.delete(options.id);
      void w?.terminate();
      return new ClusterError(ErrorCode.TIMEOUT, `node ${options.id} did not start within ${START_TIMEOUT_MS} ms`);
    });
  }

  /** Stop node `id` for good (it was removed from the configuration) and forget it. */
  async remove(id: NodeId): Promise<void> {
    const h = this.handles.get(id);
    if (!h) return;
    const w = h.worker;
    if (w) {
      if (h.alive && h.control) await withTimeout(h.control.stop().catch(() => undefined), STOP_GRACE_MS);
      h.worker = undefined;
      this.markDown(h, 'removed');
      await w.terminate();
    }
    this.handles.delete(id);
    this.faults.delete(id);
  }

  /** A new worker on the same directory, with new channels to every live peer. */
  async restart(id: NodeId): Promise<void> {
    const h = this.get(id);
    if (h.alive) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${id} is running; crash it first`);
    // Its store was created when it first started: gone or empty now, it is refused (StoreOptions.existing).
    await this.connectAndSpawn({ ...h.options, existing: true }, () => {
      const w = h.worker;
      h.worker = undefined;
      this.markDown(h, 'did not start');
      void w?.terminate();
      return new ClusterError(ErrorCode.TIMEOUT, `node ${id} did not start within ${START_TIMEOUT_MS} ms`);
    });
  }

  private async connectAndSpawn(options: NodeOptions, onTimeout: () => Error): Promise<void> {
    const id = options.id;
    const peers: Array<[NodeId, MessagePort]> = [];
    for (const other of this.handles.values()) {
      if (other.id === id) continue;
      const ch = new MessageChannel();
      peers.push([other.id, ch.port1]);
      // A peer that is down gets its side when it restarts (its own restart makes new channels).
      if (other.alive && other.worker) other.worker.postMessage({ t: 'peer', id, port: ch.port2 } satisfies ToNode, [ch.port2]);
      else ch.port2.close();
    }
    await withTimeout(this.spawn(options, peers), START_TIMEOUT_MS, onTimeout);
  }

  setFaults(id: NodeId, faults: LinkFaults): Promise<void> {
    this.faults.set(id, faults);
    const h = this.handles.get(id);
    if (!h || !h.alive || !h.control) return Promise.resolve();
    return unlessDown(h, h.control.setFaults(faults)); // a node that goes down meanwhile gets them when it starts again (spawn)
  }

  faultsOf(id: NodeId): LinkFaults {
    return this.faults.get(id) ?? { blocked: [], dropRate: 0, delayMs: 0 };
  }

  async stopAll(timeoutMs: number): Promise<void> {
    await Promise.all(
      [...this.handles.values()].map(async (h) => {
        const w = h.worker;
        if (!w) return;
        if (h.alive && h.control) await withTimeout(h.control.stop().catch(() => undefined), timeoutMs);
        h.alive = false;
        this.closeControl(h);
        h.worker = undefined;
        await w.terminate();
      }),
    );
  }
}

/** `call` to node `h`, whose failure counts only while `h` is alive: a node that went down is given it again at its restart. */
export function unlessDown(h: NodeHandle, call: Promise<void>): Promise<void> {
  return call.catch((err: unknown) => {
    if (h.alive) throw err;
  });
}

/**
 * `remote` with each call raced against `down`. comlink never settles a call whose proxy was released or whose
 * port closed (its pending calls are dropped, not rejected), so without this a metrics() or status() asked of a
 * node that then crashed never returned. (A Tripwire, not a race against a promise pending for the node's life,
 * which kept every call's result: ../util/tripwire.ts.)
 */
function settleWhenDown(remote: Comlink.Remote<NodeControl>, down: Tripwire): Comlink.Remote<NodeControl> {
  return new Proxy(remote, {
    get(target, prop) {
      if (typeof prop === 'symbol') return Reflect.get(target, prop) as unknown; // Comlink.releaseProxy and the like
      if (prop === 'then') return undefined; // not a thenable: an async function may return it
      const member = Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => down.race(member(...args));
    },
  });
}
