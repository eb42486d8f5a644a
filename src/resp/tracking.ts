// Client-side caching (Redis's CLIENT TRACKING, tracking.c): the server remembers which connections read which keys,
// and tells them when those keys change, so that a client may keep what it read until told.
//
// - Default mode: a read-only command's keys (COMMAND INFO's `readonly` flag) are remembered for the connection when
//   its read is sent (once the connection's earlier commands are answered: ./connection.ts), so a write applied after
//   the read was sent always finds them remembered (Redis remembers after the command ran; here the read is concurrent
//   with other connections' writes until it is answered, so the keys are remembered first). A transaction's reads are
//   remembered when EXEC is sent. When a remembered key changes, each connection that read it gets one `invalidate`
//   message with the key, and is forgotten for it until it reads the key again.
// - BCAST: no key is remembered; every key changed under a prefix the connection gave (all keys without PREFIX)
//   is sent, those the commands of one socket read changed in one message per prefix.
// - OPTIN / OPTOUT: only reads right after CLIENT CACHING YES are remembered (OPTIN), or all but those right after
//   CLIENT CACHING NO (OPTOUT). NOLOOP: no message for a change the connection made itself.
// - REDIRECT id: the messages go to that connection instead: a RESP3 one as pushes, a RESP2 one subscribed to
//   `__redis__:invalidate` as messages of that channel (how a RESP2 client gets them).
//
// What changes a key here: a write command of this server (the keys of its keyspace events: ./keyspace.ts, told when
// it is answered), a write made otherwise (the Cluster API, another server in front of the cluster: applied(), told
// by the coordinator before its caller is answered), FLUSHDB/FLUSHALL and cluster.clear() (a null message to every
// tracking connection: everything is invalid), and the expiry and eviction of keys (the keyspace notifier's watch,
// which runs while any connection tracks). A change to a connection's own tracked key is sent after the reply to the
// command that made it, as Redis 7 does.
//
// The table of remembered keys is bounded (trackingTableMaxKeys, Redis's tracking-table-max-keys): past it the
// keys remembered longest ago are invalidated (as if they had changed) until it is back under.
import { asBuffer } from '../storage/codec.js';
import { readsOnly, type Op, type OpResult } from '../storage/command.js';
import type { ConnectionState } from './context.js';
import { PushReply, RawReply } from './reply.js';

/** One connection's CLIENT TRACKING state (Redis's CLIENT_TRACKING_* flags and client_tracking_redirection). */
export interface ClientTracking {
  on: boolean;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command (or transaction). */
  caching: boolean;
  /** The connection redirected to is gone: messages are dropped (and a RESP3 connection told). */
  brokenRedirect: boolean;
  /** The connection the messages go to; 0: this one. */
  redirect: number;
  /** BCAST prefixes, latin1-keyed, in the order given. */
  prefixes: Map<string, Buffer>;
}

export function trackingOff(): ClientTracking {
  return { on: false, bcast: false, optin: false, optout: false, noloop: false, caching: false, brokenRedirect: false, redirect: 0, prefixes: new Map() };
}

const INVALIDATE = Buffer.from('invalidate');
const CHANNEL = Buffer.from('__redis__:invalidate');
const REDIR_BROKEN = Buffer.from('tracking-redir-broken');
const MESSAGE = Buffer.from('message');
/**
 * Redis writes FLUSHALL's null in the protocol of the tracking connection, whatever the protocol of the connection
 * it redirects to: RESP2's inside a RESP3 push, RESP3's inside a RESP2 message.
 */
const NULLS = { 2: new RawReply(Buffer.from('$-1\r\n')), 3: new RawReply(Buffer.from('_\r\n')) } as const;

interface Prefix {
  readonly prefix: Buffer;
  /** The connections in BCAST mode with this prefix. */
  readonly clients: Set<number>;
  /** Keys changed under it since the last broadcast, with the connection that changed each last (NOLOOP). */
  keys: Map<string, { key: Buffer; by: number }>;
}

export class TrackingTable {
  /** Key (latin1) -> ids of the connections that read it since it last changed. In insertion order: the oldest first. */
  private readonly keys = new Map<string, Set<number>>();
  private readonly prefixes = new Map<string, Prefix>();
  /** The tags of this server's writes not answered yet (ownWrite()): their changes are told when answered, not in applied(). */
  private readonly mine = new Set<object>();
  /** Connections with tracking on (INFO's tracking_clients). */
  private count = 0;
  /** Sum of the connections remembered per key (INFO's tracking_total_items). */
  private items = 0;
  private broadcastScheduled = false;
  /** While a script's command is answered (asScript): its connection. */
  private scriptCaller: number | undefined;
  /** Keys wait for a broadcast. */
  private pending = false;
  /**
   * Messages about a connection's own change that it redirects elsewhere: sent once the command that made it is
   * answered (deliverOwn), as Redis sends its pending ones after the command, after what the command sent others.
   */
  private own: Array<[to: ConnectionState, message: PushReply, bytes: number]> = [];
  /** A command's keys that its own connection tracks: told once the command's keyspace events are (Redis's pending keys). */
  private ownKeys: Array<[c: ConnectionState, key: Buffer]> = [];

  constructor(
    private readonly clients: ReadonlyMap<number, ConnectionState>,
    private readonly maxKeys: number,
    /** Called when the number of tracking connections goes from 0 to 1 or back (the notifier's watch). */
    private readonly onActive: (active: boolean) => void,
  ) {}

  /** Any connection tracks: expiries and evictions must be watched for (./keyspace.ts). */
  get active(): boolean {
    return this.count > 0;
  }

  /** Changes matter: a connection tracks, or keys are remembered (of connections since gone or off: Redis forgets them as they change too). */
  get listening(): boolean {
    return this.count > 0 || this.keys.size > 0;
  }

  get stats(): { clients: number; keys: number; items: number; prefixes: number } {
    return { clients: this.count, keys: this.keys.size, items: this.items, prefixes: this.prefixes.size };
  }

  /** CLIENT TRACKING ON (options checked by the caller). */
  enable(c: ConnectionState, redirect: number, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: Buffer[]): void {
    const old = c.tracking;
    if (!old.on && this.count++ === 0) this.onActive(true);
    const t: ClientTracking = { ...opts, on: true, caching: old.caching, brokenRedirect: false, redirect, prefixes: new Map(old.prefixes) };
    c.tracking = t;
    if (opts.bcast) {
      for (const p of prefixes.length === 0 ? [Buffer.alloc(0)] : prefixes) {
        const k = p.toString('latin1');
        let entry = this.prefixes.get(k);
        if (entry === undefined) this.prefixes.set(k, (entry = { prefix: p, clients: new Set(), keys: new Map() }));
        entry.clients.add(c.id);
        t.prefixes.set(k, p);
      }
    }
  }

  /** CLIENT TRACKING OFF, RESET, or the connection closed. Its remembered keys stay in the table until they change (as Redis). */
  disable(c: ConnectionState): void {
    const t = c.tracking;
    for (const k of t.prefixes.keys()) {
      const entry = this.prefixes.get(k);
      if (entry === undefined) continue;
      entry.clients.delete(c.id);
      if (entry.clients.size === 0) this.prefixes.delete(k);
    }
    const was = t.on;
    c.tracking = trackingOff();
    if (was && --this.count === 0) this.onActive(false);
  }

  /** Whether a read-only command of `c`'s dispatched now has its keys remembered (its mode, CLIENT CACHING). */
  wants(c: ConnectionState): boolean {
    const t = c.tracking;
    return t.on && !t.bcast && !(t.optin && !t.caching) && !(t.optout && t.caching);
  }

  /** Remember `keys` for `c` (when its read is sent: ./connection.ts), if it still tracks keys. */
  add(c: ConnectionState, keys: readonly Buffer[]): void {
    if (!c.tracking.on || c.tracking.bcast) return;
    for (const key of keys) {
      const k = key.toString('latin1');
      let ids = this.keys.get(k);
      if (ids === undefined) this.keys.set(k, (ids = new Set()));
      if (!ids.has(c.id)) {
        ids.add(c.id);
        this.items++;
      }
    }
    while (this.keys.size > this.maxKeys) {
      const oldest = this.keys.keys().next().value!;
      this.invalidate(Buffer.from(oldest, 'latin1'), undefined, false);
    }
  }

  /**
   * `key` changed (by a command of connection `by`, or by none: an expiry, an eviction, the table's bound): every
   * connection that read it is sent a message and forgotten for it; with `bcast`, the key also goes to the BCAST
   * prefixes it is under. (CLIENT TRACKING waits for the connection's earlier commands: ./dispatch.ts. So a write is
   * answered under the tracking it was dispatched under, as Redis runs it.)
   */
  invalidate(key: Buffer, by: number | undefined, bcast = true, late = false): void {
    if (bcast && this.prefixes.size > 0) this.toBroadcast(key, by);
    if (this.keys.size === 0) return;
    const k = key.toString('latin1');
    const ids = this.keys.get(k);
    if (ids === undefined) return;
    this.keys.delete(k);
    this.items -= ids.size;
    for (const id of ids) {
      const target = this.clients.get(id);
      // A connection gone, off, or switched to BCAST since it read the key gets nothing (as Redis).
      if (target === undefined || !target.tracking.on || target.tracking.bcast) continue;
      if (id !== by) this.send(target, [key], undefined, late ? by : undefined);
      else if (!target.tracking.noloop) this.ownKeys.push([target, key]);
    }
  }

  /**
   * Run `f`, the answer of a command a script of connection `caller` ran: BCAST's NOLOOP takes its writes as another
   * client's, as Redis 7.0 records a script's changed keys under its Lua client (outside BCAST they are the caller's).
   */
  asScript<T>(caller: number, f: () => T): T {
    this.scriptCaller = caller;
    try {
      return f();
    } finally {
      this.scriptCaller = undefined;
    }
  }

  /** The command's own keys (invalidate's `by`), after its reply and its keyspace events, as Redis sends its pending keys. */
  sendPending(): void {
    if (this.ownKeys.length === 0) return;
    const keys = this.ownKeys;
    this.ownKeys = [];
    for (const [c, key] of keys) this.send(c, [key], 'current');
  }

  /**
   * A write the cluster applied, made by someone else than this server's commands (the Cluster API, another RESP
   * server in front of the same cluster), told before its caller is answered (Cluster.onWriteApplied): the keys it
   * changed are invalidated. This server's own batches (`mine`) are invalidated when answered, from their keyspace
   * events (./keyspace.ts), which know the connection that made them.
   */
  applied(ops: readonly Op[], results: readonly OpResult[], tag: object | undefined): void {
    if ((tag !== undefined && this.mine.has(tag)) || !this.listening) return;
    // A failed cas or check rejected the whole batch: nothing was written.
    if (ops.some((op, i) => (op.t === 'cas' || op.t === 'check') && results[i]?.ok !== true)) return;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const r = results[i];
      if (op.t === 'clear') this.flush(undefined);
      else if (op.t === 'clearprefix') this.flushPrefix(asBuffer(op.prefix));
      else if (op.t === 'msetnx') {
        if (r?.ok === true) for (const [key] of op.pairs) this.invalidate(asBuffer(key), undefined);
      } else if (readsOnly(op) || r?.ok !== true) continue;
      else if (op.t === 'del') {
        if (r.existed === true) this.invalidate(asBuffer(op.key), undefined);
      } else if (op.t === 'copy') this.invalidate(asBuffer(op.to), undefined);
      else {
        this.invalidate(asBuffer(op.key), undefined);
        if (op.t === 'rename') this.invalidate(asBuffer(op.to), undefined);
      }
    }
  }

  /**
   * A write of this server's commands (`write`, given `tag` for the cluster to hand to applied()): its changes are
   * told when it is answered, with the connection that made it, not when the cluster says it was applied.
   */
  async ownWrite<T>(tag: object, write: (tag: object) => Promise<T>): Promise<T> {
    this.mine.add(tag);
    try {
      return await write(tag);
    } finally {
      this.mine.delete(tag);
    }
  }

  /** FLUSHDB/FLUSHALL by `by`: every tracking connection is told that everything changed (a null), and the table emptied. */
  flush(by: number | undefined): void {
    for (const c of this.clients.values()) if (c.tracking.on) this.send(c, NULLS[c.protocol], c.id === by ? 'current' : undefined);
    this.keys.clear();
    this.items = 0;
  }

  /**
   * Cluster.clear({ prefix }) of another caller, whose removed keys are not known here: each remembered key under the
   * prefix is invalidated, and each BCAST connection with a prefix that may hold one of them (either prefix under the
   * other) is told that everything changed (a null), as it could not be told the keys.
   */
  flushPrefix(prefix: Buffer): void {
    const p = prefix.toString('latin1');
    for (const k of [...this.keys.keys()]) if (k.startsWith(p)) this.invalidate(Buffer.from(k, 'latin1'), undefined, false);
    const told = new Set<number>();
    for (const x of this.prefixes.values()) {
      const q = x.prefix.toString('latin1');
      if (!q.startsWith(p) && !p.startsWith(q)) continue;
      for (const id of x.clients) {
        const c = this.clients.get(id);
        if (c === undefined || !c.tracking.on || told.has(id)) continue;
        told.add(id);
        this.send(c, NULLS[c.protocol], undefined);
      }
    }
  }

  /**
   * `key` goes into the next broadcast of each BCAST prefix it is under: sent once the commands the writing connection
   * read in one go are run (./connection.ts calls broadcast()), as Redis sends them once per event-loop turn; a
   * change of no connection's (an expiry, an eviction) at the end of this event-loop turn.
   */
  private toBroadcast(key: Buffer, by: number | undefined): void {
    // A script's write is its Lua client's to Redis's broadcast (its NOLOOP skips no key of it), not its caller's.
    const writer = by === undefined ? 0 : by === this.scriptCaller ? -1 : by;
    for (const p of this.prefixes.values()) {
      if (key.length < p.prefix.length || key.compare(p.prefix, 0, p.prefix.length, 0, p.prefix.length) !== 0) continue;
      p.keys.set(key.toString('latin1'), { key, by: writer });
      this.pending = true;
    }
    if (by !== undefined || this.broadcastScheduled) return;
    this.broadcastScheduled = true;
    setImmediate(() => {
      this.broadcastScheduled = false;
      this.broadcast();
    });
  }

  /** The keys changed under each prefix since the last broadcast, to the connections with that prefix, in one message each. */
  broadcast(): void {
    if (!this.pending) return;
    this.pending = false;
    // Prefixes and their keys in byte order, as Redis's radix trees give them.
    for (const p of [...this.prefixes.values()].sort((a, b) => Buffer.compare(a.prefix, b.prefix))) {
      if (p.keys.size === 0) continue;
      const changed = [...p.keys.values()].sort((a, b) => Buffer.compare(a.key, b.key));
      p.keys = new Map();
      const all = changed.map((e) => e.key);
      for (const id of p.clients) {
        const c = this.clients.get(id);
        if (c === undefined) continue;
        const keys = c.tracking.noloop ? changed.filter((e) => e.by !== id).map((e) => e.key) : all;
        if (keys.length > 0) this.send(c, keys, undefined);
      }
    }
  }

  /**
   * A message to `c` (or where it redirects): a RESP3 connection gets an `invalidate` push, a RESP2 one it redirects
   * to that is subscribed a message on __redis__:invalidate; anything else gets nothing (RESP2 has no pushes).
   * `after` 'current': the change was `c`'s own, so the message goes after the reply to the command that made it, as
   * Redis 7's.
   */
  private send(c: ConnectionState, keys: Buffer[] | RawReply, after: 'current' | undefined, afterReplyOf?: number): void {
    let to = c;
    const redirected = c.tracking.redirect !== 0;
    if (redirected) {
      const r = this.clients.get(c.tracking.redirect);
      if (r === undefined) {
        c.tracking.brokenRedirect = true;
        if (c.protocol === 3) c.push(new PushReply([REDIR_BROKEN, c.tracking.redirect]), 0, after);
        return;
      }
      to = r;
    }
    const bytes = Array.isArray(keys) ? keys.reduce((n, k) => n + k.length, 0) : 0;
    let message: PushReply;
    if (to.protocol === 3) message = new PushReply([INVALIDATE, keys]);
    else if (redirected && to.subscriptions.active) message = new PushReply([MESSAGE, CHANNEL, keys]);
    else return;
    if (to !== c && after === 'current') this.own.push([to, message, bytes]);
    // Another connection's output does not follow `c`'s replies: it gets the message now, or after the reply of the
    // command that made the change when it is that command's connection and Redis replies first (`afterReplyOf`).
    else to.push(message, bytes, to === c ? after : to.id === afterReplyOf ? 'current' : undefined);
  }

  /** The messages about a connection's own changes that it redirects, once the command that made them is answered. */
  deliverOwn(): void {
    if (this.own.length === 0) return;
    const own = this.own;
    this.own = [];
    for (const [to, message, bytes] of own) to.push(message, bytes);
  }
}
