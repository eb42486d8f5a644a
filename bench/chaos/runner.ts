// Chaos: a real worker-thread LMDB cluster, concurrent clients recording a history, and a nemesis
// that partitions, crashes, restarts, kills the leader, delays and drops messages. At the end: heal,
// converge, compare every node's state machine, restart the whole cluster from its directories, read
// every key, and check the history for linearizability and lost acknowledged writes.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Cluster, ClusterError, ErrorCode, RecordingClient, HistoryRecorder, checkLinearizable, readHistory } from '../../src/index.js';
import type { HistoryEvent, NodeId } from '../../src/index.js';
import { mulberry32 } from '../../src/util/random.js';

export interface ChaosOptions {
  durationMs: number;
  seed: number;
  historyPath: string;
  clients: number;
  keys: number;
  nodes: number;
  /** Keep the cluster directory (for inspection); default: removed. */
  keepDir?: boolean;
  log?: (line: string) => void;
  /** Aborted (Ctrl-C): the run ends early, without checks; the cluster is stopped and its directory removed; rejects. */
  signal?: AbortSignal;
  /**
   * The faults phase goes on past `durationMs`, for up to `extraMs` more, until the nemesis has completed this many
   * actions and membership changes. On a loaded machine each action takes longer and fewer fit in the duration;
   * with this a short run still does what its checks count on (the tests', run beside other test files).
   */
  atLeast?: { faults: number; membershipChanges: number; extraMs: number };
}

export interface ChaosReport {
  seed: number;
  ok: boolean;
  violations: string[];
  operations: { total: number; ok: number; fail: number; info: number; checked: number };
  /** Reads in the history by how they were served (lease reads are checked as reads too). */
  recordedReads: { linearizable: number; lease: number };
  /** Stale reads run under the same faults but are not linearizable, so not recorded. */
  unrecordedReads: { stale: number };
  /** Nemesis actions that completed, by name. */
  faults: Record<string, number>;
  /** Membership actions (add-learner, promote, remove-voter, remove-learner, replace) that completed. */
  membershipChanges: number;
  /** The configuration at the end (before the restart from the directories). */
  finalMembership: { voters: NodeId[]; learners: NodeId[] };
  /** Nemesis actions (transfers of leadership included) that threw, by name, and the first few errors. */
  nemesisFailures: Record<string, number>;
  nemesisErrors: string[];
  lostAcknowledgedWrites: number;
  /** The cache workload beside the history (issue 13): puts with a TTL and reads of them, and puts into the bound. */
  cache: { ttlPuts: number; ttlReads: number; expiredReadsSeen: number; evictionPuts: number; evictions: number; expirations: number };
  convergenceMs: number;
  checkerMs: number;
  durationMs: number;
}

type Rand = () => number;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function pickOne<T>(rand: Rand, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function keyName(i: number): string {
  return `k${i}`;
}

/**
 * The cache workload (not in the history: the checker does not model expiry or eviction). TTL keys: a value must
 * never be read after it expired. Its expiry is at most its put's completion + ttl (the leader stamps the entry
 * before the put completes), so a linearizable or lease read that starts later than that and returns the value
 * read an expired one. Eviction keys: many keys over a cache bound (CHAOS_BOUNDS.maxKeys), so every replica evicts
 * as the run goes; the history's few keys are written far more often than any of them, so they are never the
 * least recently written.
 */
const CACHE_TTL_KEYS = 20;
const CACHE_EVICT_KEYS = 2_000;
const CHAOS_BOUNDS = { maxKeys: 600 } as const;

interface CacheState {
  /** Per TTL key: value → the latest time it may still be live (its put's completion + ttl). */
  liveUntil: Map<string, number>;
  stats: ChaosReport['cache'];
  violations: string[];
}

async function cacheOp(cluster: Cluster, rand: Rand, c: number, seq: number, st: CacheState): Promise<void> {
  const r = rand();
  if (r < 0.4) {
    const key = `ttl${Math.floor(rand() * CACHE_TTL_KEYS)}`;
    const value = `t-${c}-${seq}`;
    const ttlMs = 20 + Math.floor(rand() * 200);
    await cluster.put(key, value, { ttlMs });
    st.liveUntil.set(value, Date.now() + ttlMs);
    st.stats.ttlPuts++;
  } else if (r < 0.8) {
    const key = `ttl${Math.floor(rand() * CACHE_TTL_KEYS)}`;
    const consistency = rand() < 0.5 ? 'linearizable' : 'lease';
    const started = Date.now();
    const v = await cluster.get(key, { consistency });
    st.stats.ttlReads++;
    if (v === undefined) return;
    const until = st.liveUntil.get(String(v));
    if (until !== undefined && started > until + 1) {
      st.stats.expiredReadsSeen++;
      if (st.violations.length < 10) st.violations.push(`a ${consistency} read of ${key} started ${started - until} ms after ${String(v)} expired and returned it`);
    }
  } else {
    await cluster.put(`ev${Math.floor(rand() * CACHE_EVICT_KEYS)}`, `e-${c}-${seq}`);
    st.stats.evictionPuts++;
  }
}

/** A lease read recorded as a read with `"consistency": "lease"`: held to linearizability like any read. */
async function leaseRead(cluster: Cluster, recorder: HistoryRecorder, process: number, key: string): Promise<string | null> {
  const op = recorder.invoke(process, 'read', key, null, 'lease');
  try {
    const v = await cluster.get(key, { consistency: 'lease' });
    const seen = v === undefined ? null : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
    op.ok(seen);
    return seen;
  } catch (err) {
    op.fail(); // a read has no effect
    throw err;
  }
}

async function clientLoop(cluster: Cluster, recorder: HistoryRecorder, c: RecordingClient, o: ChaosOptions, stop: () => boolean, unrecorded: ChaosReport['unrecordedReads'], cache: CacheState): Promise<void> {
  const rand = mulberry32(o.seed * 7 + c.process);
  let seq = 0;
  const lastSeen = new Map<string, string | null>();
  while (!stop()) {
    const key = keyName(Math.floor(rand() * o.keys));
    const r = rand();
    try {
      if (rand() < 0.15) {
        await cacheOp(cluster, rand, c.process, seq++, cache);
      } else if (r < 0.35) {
        const v = `v-${c.process}-${seq++}`;
        await c.write(key, v);
        lastSeen.set(key, v);
      } else if (r < 0.65) {
        lastSeen.set(key, await c.read(key, 'linearizable'));
      } else if (r < 0.75) {
        if (rand() < 0.5) {
          lastSeen.set(key, await leaseRead(cluster, recorder, c.process, key));
        } else {
          await cluster.get(key, { consistency: 'stale' }); // not linearizable: run, not recorded
          unrecorded.stale++;
        }
      } else if (r < 0.85) {
        await c.delete(key);
        lastSeen.set(key, null);
      } else {
        const v = `v-${c.process}-${seq++}`;
        if (await c.cas(key, lastSeen.get(key) ?? null, v)) lastSeen.set(key, v);
      }
    } catch (err) {
      if (err instanceof ClusterError && err.code === ErrorCode.CLUSTER_STOPPED) return;
      await sleep(5 + rand() * 20);
    }
  }
}

const MAX_NEMESIS_ERRORS = 10;

/** The nemesis's membership actions (counted in ChaosReport.membershipChanges). */
export const MEMBERSHIP_ACTIONS = ['add-learner', 'promote', 'remove-voter', 'remove-learner', 'replace'] as const;
/** A membership call's deadline under faults; its errors (TIMEOUT, NOT_LEADER...) count as the action's failure. */
const MEMBERSHIP_TIMEOUT_MS = 4000;
const MAX_LEARNERS = 2;

class Nemesis {
  readonly faults: Record<string, number> = {};
  readonly failures: Record<string, number> = {};
  readonly errors: string[] = [];
  private readonly crashed = new Set<NodeId>();
  /**
   * Nodes a removal was started for and did not finish (a TIMEOUT under faults): it may still commit, and the node
   * then runs on outside the configuration until removeNode is called again (docs/api.md: a retry after TIMEOUT is
   * safe). healAll() makes that call for those the configuration no longer holds.
   */
  private readonly removing = new Set<NodeId>();
  private readonly rand: Rand;
  private readonly membershipRand: Rand;
  /** The next node id to add (ids are never reused). */
  private nextId: number;
  /** Voters never go below this: 3 when started with 3 (or fewer), else the number started with minus one. */
  private readonly minVoters: number;
  private membershipDone = 0;
  private steps = 0;

  constructor(private readonly cluster: Cluster, private readonly o: ChaosOptions) {
    this.rand = mulberry32(o.seed * 31 + 17);
    this.membershipRand = mulberry32(o.seed * 53 + 5);
    this.nextId = o.nodes + 1;
    this.minVoters = o.nodes <= 3 ? o.nodes : o.nodes - 1;
  }

  /** Actions that completed, membership changes included. */
  get completed(): number {
    return Object.values(this.faults).reduce((n, k) => n + k, 0);
  }

  get membershipChanges(): number {
    return MEMBERSHIP_ACTIONS.reduce((n, a) => n + (this.faults[a] ?? 0), 0);
  }

  /** Run one action: counted in `faults` when it completes, in `failures` (with its error) when it throws. */
  private async act(name: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.failures[name] = (this.failures[name] ?? 0) + 1;
      if (this.errors.length < MAX_NEMESIS_ERRORS) this.errors.push(`${name}: ${String(err)}`);
      this.o.log?.(`nemesis: ${name} failed: ${String(err)}`);
      return;
    }
    this.faults[name] = (this.faults[name] ?? 0) + 1;
    this.o.log?.(`nemesis: ${name}`);
  }

  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      await sleep(600 + this.rand() * 1400);
      if (stop()) break;
      await this.step();
    }
  }

  private async step(): Promise<void> {
    this.steps++;
    // A membership change every few steps, and every other step until one has completed (so that a short run
    // has at least one); its own random stream, so the other faults' sequence is what it was for a seed.
    const due = this.membershipChanges === 0 ? this.steps % 2 === 1 : this.membershipRand() < 0.3;
    if (due && (await this.membershipStep())) return;
    const ids = this.cluster.members().map((m) => m.id);
    const voters = await this.voters();
    const maxDown = Math.floor(((voters?.length ?? ids.length) - 1) / 2);
    const r = this.rand();
    if (r < 0.15) {
      const shuffled = [...ids].sort(() => this.rand() - 0.5);
      const cut = 1 + Math.floor(this.rand() * (ids.length - 1));
      await this.act('partition', () => this.cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut)));
    } else if (r < 0.27) {
      const leader = this.cluster.leader();
      if (leader === undefined) return;
      await this.act('isolate-leader', () => this.cluster.partition([leader], ids.filter((i) => i !== leader)));
    } else if (r < 0.42) {
      await this.act('heal', () => this.cluster.heal());
    } else if (r < 0.54 && this.crashed.size < maxDown) {
      const up = ids.filter((i) => !this.crashed.has(i));
      const victim = pickOne(this.rand, up);
      this.crashed.add(victim); // even if crash() throws, the node may be down: restart it later
      await this.act('crash', () => this.cluster.crash(victim));
    } else if (r < 0.64 && this.crashed.size < maxDown) {
      const leader = this.cluster.leader();
      if (leader === undefined) return;
      this.crashed.add(leader);
      await this.act('kill-leader', () => this.cluster.crash(leader));
    } else if (r < 0.78 && this.crashed.size > 0) {
      await this.restartOne();
    } else if (r < 0.85) {
      const delayMs = Math.floor(2 + this.rand() * 30);
      await this.act('delay', () => this.cluster.setLinkFaults({ delayMs }));
    } else if (r < 0.92) {
      const dropRate = 0.05 + this.rand() * 0.25;
      await this.act('drop', () => this.cluster.setLinkFaults({ dropRate }));
    } else if (r < 0.96) {
      await this.act('clear-links', () => this.cluster.setLinkFaults({}));
    } else {
      const target = pickOne(this.rand, ids.filter((i) => !this.crashed.has(i)));
      await this.act('transfer-leadership', () => this.cluster.transferLeadership(target, 2000));
    }
  }

  /** The configuration the leader holds (undefined while no leader is known). */
  private async config(): Promise<{ voters: NodeId[]; learners: NodeId[] } | undefined> {
    return nemesisConfig(this.cluster).catch(() => undefined);
  }

  private async voters(): Promise<NodeId[] | undefined> {
    return (await this.config())?.voters;
  }

  /** Whether `voters` keep a majority up (crashed nodes count as down). */
  private majorityUp(voters: readonly NodeId[]): boolean {
    const up = voters.filter((v) => !this.crashed.has(v)).length;
    return up >= Math.floor(voters.length / 2) + 1;
  }

  /**
   * One membership action (item 4 of issue 16), chosen among those that keep the voters at or above minVoters
   * and a majority of them up: add a learner, promote one, remove a voter or a learner, replace a voter. A
   * refusal or timeout under faults (TIMEOUT, NOT_LEADER, no leader, a change pending) is the action's failure.
   * Returns false when none applies now (no leader known): the caller injects an ordinary fault instead.
   */
  private async membershipStep(): Promise<boolean> {
    const c = await this.config();
    if (c === undefined) return false;
    const rand = this.membershipRand;
    const opts = { timeoutMs: MEMBERSHIP_TIMEOUT_MS };
    const upLearners = c.learners.filter((l) => !this.crashed.has(l));
    const choices: Array<[string, () => Promise<void>]> = [];
    if (c.learners.length < MAX_LEARNERS) {
      choices.push(['add-learner', async () => this.cluster.addLearner(this.nextId++, opts)]);
    }
    if (upLearners.length > 0 && c.voters.length < this.o.nodes + 2) {
      const id = pickOne(rand, upLearners);
      if (this.majorityUp([...c.voters, id])) choices.push(['promote', async () => this.cluster.promote(id, opts)]);
    }
    if (c.voters.length > this.minVoters) {
      const id = pickOne(rand, c.voters);
      const rest = c.voters.filter((v) => v !== id);
      if (this.majorityUp(rest)) choices.push(['remove-voter', async () => this.removeNode(id, opts)]);
    }
    if (c.learners.length > 0) {
      const id = pickOne(rand, c.learners);
      choices.push(['remove-learner', async () => this.removeNode(id, opts)]);
    }
    if (c.voters.length >= this.minVoters) {
      // The old voter may be down (its replacement is the point); the new one counts as up once promoted.
      const old = pickOne(rand, c.voters);
      const newId = this.nextId;
      if (this.majorityUp([...c.voters, newId]) && this.majorityUp([...c.voters.filter((v) => v !== old), newId])) {
        choices.push(['replace', async () => {
          this.nextId++;
          this.removing.add(old);
          await this.cluster.replaceNode(old, newId, { timeoutMs: 2 * MEMBERSHIP_TIMEOUT_MS });
          this.removing.delete(old);
          this.crashed.delete(old);
        }]);
      }
    }
    if (choices.length === 0) return false;
    const [name, action] = pickOne(rand, choices);
    await this.act(name, action);
    this.forgetRemoved();
    return true;
  }

  private async removeNode(id: NodeId, opts: { timeoutMs: number }): Promise<void> {
    this.removing.add(id);
    await this.cluster.removeNode(id, opts);
    this.removing.delete(id);
    this.crashed.delete(id);
  }

  /** The removals that timed out but committed since: removeNode again stops the node and deletes its store. */
  private async finishRemovals(): Promise<void> {
    let c: { voters: NodeId[]; learners: NodeId[] } | undefined;
    for (let attempt = 0; attempt < 40 && c === undefined; attempt++) {
      c = await this.config();
      if (c === undefined) await sleep(250);
    }
    if (c === undefined) return;
    const present = new Set(this.cluster.members().map((m) => m.id));
    for (const id of [...this.removing]) {
      if (c.voters.includes(id) || c.learners.includes(id)) continue; // never committed: still a member
      if (present.has(id)) await this.act('finish-removal', () => this.cluster.removeNode(id, { timeoutMs: MEMBERSHIP_TIMEOUT_MS }));
      if (!this.cluster.members().some((m) => m.id === id)) this.removing.delete(id);
    }
  }

  /** A node no longer in the cluster (removed, or an addLearner undone) is not restarted. */
  private forgetRemoved(): void {
    const present = new Set(this.cluster.members().map((m) => m.id));
    for (const id of [...this.crashed]) if (!present.has(id)) this.crashed.delete(id);
  }

  private async restartOne(): Promise<void> {
    this.forgetRemoved();
    const id = [...this.crashed][0];
    if (id === undefined) return;
    this.crashed.delete(id);
    if (this.cluster.members().find((m) => m.id === id)?.alive) return; // its crash() failed before taking it down
    await this.act('restart', () => this.cluster.restart(id));
    if (!this.cluster.members().find((m) => m.id === id)?.alive) this.crashed.add(id); // try again later
  }

  async healAll(): Promise<void> {
    await this.cluster.heal();
    await this.cluster.setLinkFaults({});
    this.forgetRemoved();
    for (let attempt = 0; attempt < 5 && this.crashed.size > 0; attempt++) {
      for (let n = this.crashed.size; n > 0; n--) await this.restartOne();
    }
    await this.finishRemovals();
  }
}

async function nemesisConfig(cluster: Cluster): Promise<{ voters: NodeId[]; learners: NodeId[] } | undefined> {
  const s = await cluster.status();
  if (!s.some((x) => x.role === 'leader')) return undefined;
  return { voters: s.filter((x) => x.member === 'voter').map((x) => x.id), learners: s.filter((x) => x.member === 'learner').map((x) => x.id) };
}

/**
 * The checker's search budget per key, 10 × the library's default: one key under 20 clients (26,000 to 46,000
 * operations) needed 25 to 60 million steps (5 to 9 s, up to 1.2 GB); the whole budget takes about 25 s and 2.5 GB.
 */
const CHECK_STEPS_PER_KEY = 100_000_000;

/** Wait until every node has applied everything the leader committed. */
async function converge(cluster: Cluster, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // A write after healing gives the new term an entry so every node can commit and apply up to it.
  while (Date.now() < deadline) {
    try {
      await cluster.put('__converge', String(Date.now()));
      break;
    } catch {
      await sleep(50);
    }
  }
  while (Date.now() < deadline) {
    const s = await cluster.status();
    const leader = s.find((x) => x.role === 'leader');
    if (leader && s.every((x) => x.alive && x.applied !== undefined && x.applied >= (leader.commit ?? Infinity))) return true;
    await sleep(50);
  }
  return false;
}

/** A digest of a node's whole state machine (every live key and value, in key order, read page by page). */
async function stateDigest(cluster: Cluster, id: NodeId): Promise<string> {
  const h = createHash('sha256');
  let count = 0;
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await cluster.scan({ start: '\u0001', end: '\u{10ffff}' }, { limit: 1000, consistency: 'stale', node: id, ...(cursor === undefined ? {} : { cursor }) });
    for (const [k, v] of page.items) {
      h.update(String(k)).update('\0').update(typeof v === 'string' ? v : Buffer.from(v)).update('\0');
      count++;
    }
    if (page.cursor === undefined) break;
    cursor = page.cursor;
  }
  return `${count}:${h.digest('hex').slice(0, 16)}`;
}

async function compareReplicas(cluster: Cluster, keys: number): Promise<string[]> {
  const out: string[] = [];
  const ids = cluster.members().map((m) => m.id);
  const down = cluster.members().filter((m) => !m.alive);
  if (down.length > 0) return [`nodes down at the end: ${JSON.stringify((await cluster.status()).filter((s) => !s.alive))}`];
  // Whole states (TTL keys included: one Date.now() for every node, so a key expiring meanwhile is read again).
  for (let attempt = 0; ; attempt++) {
    const digests = await Promise.all(ids.map((id) => stateDigest(cluster, id)));
    if (new Set(digests).size === 1) break;
    if (attempt >= 3) {
      out.push(`replicas' states differ: ${ids.map((id, i) => `${id}=${digests[i]}`).join(' ')}`);
      break;
    }
    await sleep(300); // a TTL key that expired between two nodes' scans differs for a moment: wait past the TTLs
  }
  for (let k = 0; k < keys; k++) {
    const values = await Promise.all(ids.map(async (id) => {
      const v = await cluster.get(keyName(k), { consistency: 'stale', node: id });
      return v === undefined ? null : String(v);
    }));
    if (new Set(values).size > 1) out.push(`${keyName(k)}: nodes disagree: ${ids.map((id, i) => `${id}=${values[i]}`).join(' ')}`);
  }
  // And the cluster's own check: every replica's state digested at one entry (it also sees records past the key space).
  const check = await cluster.checkReplicas({ timeoutMs: 10_000 });
  if (!check.consistent) out.push(`checkReplicas: ${check.nodes.map((n) => `${n.id}=${n.status}${n.digest === undefined ? '' : `:${n.digest.slice(0, 12)}/${n.keys}`}`).join(' ')}`);
  return out;
}

/**
 * Acknowledged writes lost: for each key, the final value must come from a write that could be
 * ordered after the last acknowledged write to that key (not completed before it was invoked).
 */
export function countLostWrites(events: readonly HistoryEvent[], finals: Map<string, string | null>): number {
  interface W { value: string | null; invoke: number; complete: number; ok: boolean }
  const open = new Map<number, { f: string; key: string; value: HistoryEvent['value']; invoke: number }>();
  const writes = new Map<string, W[]>();
  const add = (key: string, w: W): void => {
    let list = writes.get(key);
    if (!list) writes.set(key, (list = []));
    list.push(w);
  };
  for (const e of events) {
    if (e.type === 'invoke') {
      open.set(e.process, { f: e.f, key: e.key, value: e.value, invoke: e.time });
      continue;
    }
    const inv = open.get(e.process);
    open.delete(e.process);
    if (!inv || inv.f === 'read' || e.type === 'fail') continue;
    const value = inv.f === 'write' ? (inv.value as string) : inv.f === 'delete' ? null : (inv.value as [string | null, string | null])[1];
    add(inv.key, { value, invoke: inv.invoke, complete: e.type === 'ok' ? e.time : Infinity, ok: e.type === 'ok' });
  }
  for (const inv of open.values()) {
    if (inv.f === 'read') continue;
    const value = inv.f === 'write' ? (inv.value as string) : inv.f === 'delete' ? null : (inv.value as [string | null, string | null])[1];
    add(inv.key, { value, invoke: inv.invoke, complete: Infinity, ok: false });
  }
  let lost = 0;
  for (const [key, final] of finals) {
    const list = writes.get(key) ?? [];
    const acked = list.filter((w) => w.ok);
    if (acked.length === 0) continue;
    const last = acked.reduce((a, b) => (b.complete > a.complete ? b : a));
    const candidates = list.filter((w) => w.value === final && w.complete >= last.invoke);
    if (candidates.length === 0) lost++;
  }
  return lost;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  // The history file first: a path that cannot be written fails before anything is made.
  const recorder = new HistoryRecorder(o.historyPath);
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-chaos-'));
  const violations: string[] = [];
  const unrecorded = { stale: 0 };
  const common = { dir, nodes: o.nodes, seed: o.seed, requestTimeoutMs: 3000, snapshotEveryEntries: 300, ...CHAOS_BOUNDS } as const;
  const cache: CacheState = { liveUntil: new Map(), stats: { ttlPuts: 0, ttlReads: 0, expiredReadsSeen: 0, evictionPuts: 0, evictions: 0, expirations: 0 }, violations: [] };
  let cluster: Cluster;
  try {
    cluster = await Cluster.start(common);
  } catch (err) {
    recorder.close();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const nemesis = new Nemesis(cluster, o);
  let convergenceMs = 0;
  try {
    let stopped = false;
    const stop = (): boolean => stopped;
    const clients = Array.from({ length: o.clients }, (_, p) => new RecordingClient(cluster, recorder, p));
    const loops = clients.map((c) => clientLoop(cluster, recorder, c, o, stop, unrecorded, cache));
    const nem = nemesis.run(stop);
    await delay(o.durationMs, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined); // an abort ends it early
    const until = Date.now() + (o.atLeast?.extraMs ?? 0);
    const short = (): boolean => o.atLeast !== undefined && (nemesis.completed < o.atLeast.faults || nemesis.membershipChanges < o.atLeast.membershipChanges);
    while (short() && Date.now() < until && !o.signal?.aborted) await sleep(50);
    stopped = true;
    await nem;
    await Promise.all(loops);
    if (o.signal?.aborted) throw new Error('the chaos run was interrupted');
    await nemesis.healAll();
    const t0 = Date.now();
    if (!(await converge(cluster, 30_000))) {
      violations.push(`the cluster did not converge within 30 s after healing: ${JSON.stringify(await cluster.status())}`);
    }
    convergenceMs = Date.now() - t0;
    violations.push(...(await compareReplicas(cluster, o.keys)));
    violations.push(...cache.violations);
    const finalMembership = (await nemesisConfig(cluster)) ?? { voters: [], learners: [] };
    const m = await cluster.metrics();
    const leaderCounters = m.nodes.find((n) => n.id === m.leader)?.counters ?? {};
    cache.stats.evictions = leaderCounters.evictions ?? 0;
    cache.stats.expirations = leaderCounters.expirations ?? 0;
    await cluster.stop();

    // Every node from its directory: acknowledged writes must all be there. Without `nodes`: the directory's
    // membership (changed by the nemesis) is adopted.
    const { nodes: _nodes, ...reopen } = common;
    cluster = await Cluster.start(reopen);
    const finals = new Map<string, string | null>();
    const reader = new RecordingClient(cluster, recorder, o.clients);
    for (let k = 0; k < o.keys; k++) {
      for (let attempt = 0; ; attempt++) {
        try {
          finals.set(keyName(k), await reader.read(keyName(k)));
          break;
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(100);
        }
      }
    }
    if (await converge(cluster, 30_000)) violations.push(...(await compareReplicas(cluster, o.keys)));
    else violations.push('the restarted cluster did not converge within 30 s');
    recorder.close();

    const events = await readHistory(o.historyPath);
    const tc = Date.now();
    const check = checkLinearizable(events, { maxStepsPerKey: CHECK_STEPS_PER_KEY });
    const checkerMs = Date.now() - tc;
    if (!check.ok) violations.push(...check.failures.map((f) => `not linearizable: key ${f.key}: ${f.reason}`));
    if (check.timedOut) {
      violations.push(`the linearizability check ran out of budget (${CHECK_STEPS_PER_KEY.toLocaleString('en-US')} steps) on key ${check.timedOutKeys?.join(', ')}: linearizability unknown; fewer --clients or more --keys make the check tractable`);
    }
    const lost = countLostWrites(events, finals);
    if (lost > 0) violations.push(`${lost} acknowledged writes lost`);
    const completions = events.filter((e) => e.type !== 'invoke');
    const readsOk = completions.filter((e) => e.f === 'read' && e.type === 'ok');
    const leaseOk = readsOk.filter((e) => e.consistency === 'lease').length;
    return {
      seed: o.seed,
      ok: violations.length === 0,
      violations,
      operations: {
        total: events.filter((e) => e.type === 'invoke').length,
        ok: completions.filter((e) => e.type === 'ok').length,
        fail: completions.filter((e) => e.type === 'fail').length,
        info: completions.filter((e) => e.type === 'info').length,
        checked: check.operations,
      },
      recordedReads: { linearizable: readsOk.length - leaseOk, lease: leaseOk },
      unrecordedReads: unrecorded,
      faults: nemesis.faults,
      membershipChanges: nemesis.membershipChanges,
      finalMembership,
      nemesisFailures: nemesis.failures,
      nemesisErrors: nemesis.errors,
      lostAcknowledgedWrites: lost,
      cache: cache.stats,
      convergenceMs,
      checkerMs,
      durationMs: Date.now() - started,
    };
  } finally {
    recorder.close();
    await cluster.stop();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}
