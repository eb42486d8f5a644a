// One client socket: parse what arrives, dispatch every command in order, send the data commands of a run to
// the cluster together, write the replies of the run with one socket write.
//
// Order: dispatch is synchronous and in order; sends are grouped into runs of one class (reads or writes), and a
// run starts only once the run before it has its replies. So `GET k` then `SET k v` does not see the write, as on
// Redis; a pipeline of SETs (or of GETs) is one run. Key reads after writes join the writes' run, as reads in their
// batch (./pipeline.ts readAfterWrites): `SET k v` then `GET k` reads the write, in one round.
//
// Backpressure: while more than outputHighWaterBytes of replies wait in the socket, or maxQueuedCommands
// commands wait to be sent, the socket is not read (and no new run is sent); 'drain' resumes it.
//
// Pub/sub: a command that (un)subscribes waits for the replies of the commands before it, so it takes effect in
// order. A message (push, from any connection at any time) is written after the replies answered when it came,
// between two replies, never inside one: after a SUBSCRIBE's confirmation, and before the reply to a PUBLISH of the
// connection's own (as Redis). A connection whose unwritten output passes maxPubsubOutputBytes when a message comes
// is closed (Redis's pubsub output limit).
import type { Socket } from 'node:net';
import { LINEARIZABLE } from './commands/connection.js';
import type { ConnectionState, Ctx, InputState, ServerContext } from './context.js';
import { dispatch, heldByPause, isFast, waitsForEarlierReplies, type Dispatched } from './dispatch.js';
import { RequestParser, requestBytes } from './parser.js';
import { isPlan, KeysPlan, planClass, WritePlan, type Plan } from './plan.js';
import { readAfterWrites, runSegment, type Slot } from './pipeline.js';
import { ScriptPlan, SCRIPT_COMMANDS } from './commands/scripting.js';
import { Subscriptions } from './pubsub.js';
import { ErrorReply, RawReply, ReplyWriter, unsilenced, type Protocol, type PushReply, type Reply } from './reply.js';
import { trackingOff } from './tracking.js';
import { WatchSet } from './watches.js';

/**
 * Commands dispatched per run at most (and at most maxQueuedCommands): bounds the replies one run can produce before
 * backpressure is looked at again: 1024 GETs of 1 MiB values can still put 1 GiB into one socket's buffer.
 */
const MAX_RUN_COMMANDS = 1024;

/** Bytes the parser may hold for a connection not authenticated yet before its socket is not read (one bounded request's worth). */
const UNAUTHENTICATED_HELD_BYTES = 256 * 1024;

const EMPTY = Buffer.alloc(0);

export class Connection {
  readonly state: ConnectionState;
  private readonly ctx: Ctx;
  private readonly parser: RequestParser;
  private readonly writer = new ReplyWriter(2);
  /** Commands parsed and not yet dispatched (at most about maxQueuedCommands, plus one socket read's worth). */
  private queue: Buffer[][] = [];
  private running = false;
  private closed = false;
  /** Ends this connection's wait for a CLIENT PAUSE (it closed). */
  private pauseCancel: (() => void) | undefined;
  private readPaused = false;
  private protocolError: string | undefined;
  private drainWaiter: (() => void) | undefined;
  /**
   * While execute() runs: its batch's replies (undefined: not answered yet), how many are written, the protocol of
   * each (the one in effect after its command), and the protocol before the batch.
   */
  private replies: Array<Reply | undefined> | undefined;
  private written = 0;
  private protocols: Protocol[] = [];
  private batchProtocol: Protocol = 2;
  /** Messages that came while replies answered before them were unwritten: each with how many it waits for. */
  private held: Array<{ after: number; message: RawReply; bytes: number }> = [];
  private heldBytes = 0;
  /** Messages are written to the socket once per event-loop turn (one write for many: Redis writes once per loop too). */
  private flushScheduled = false;
  /** What dispatch says besides each reply (one object for every command). */
  private readonly dispatched: Dispatched = {};
  /** The run being executed, how many of its commands were handed to dispatch, and whether one is now: input(). */
  private runCommands: Buffer[][] = [];
  private dispatchedCount = 0;
  private inDispatch = false;

  constructor(private readonly server: ServerContext, private readonly socket: Socket, id: number, onClose: (c: Connection) => void) {
    const o = server.options;
    this.parser = new RequestParser({ maxBulkBytes: o.maxBulkBytes, maxArgs: o.maxArgs, maxInlineBytes: o.maxInlineBytes });
    const now = Date.now();
    this.state = {
      id,
      addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      laddr: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      createdAt: now,
      name: '',
      libName: '',
      libVer: '',
      protocol: 2,
      authenticated: o.requirepass === undefined,
      readOptions: LINEARIZABLE,
      multi: null,
      watched: new WatchSet(id),
      subscriptions: new Subscriptions(),
      lastCommand: 'NULL',
      lastInteraction: now,
      blocked: false,
      unblock: undefined,
      scriptCalls: undefined,
      closing: false,
      noEvict: false,
      noTouch: false,
      outputBytes: () => socket.writableLength,
      input: () => this.input(),
      kill: () => this.destroy(),
      push: (message, bytes, after) => this.push(message, bytes, after),
      feed: (line, own) => this.feed(line, own),
      tracking: trackingOff(),
      reply: { off: false, skipNext: false, skipping: false },
    };
    this.ctx = { server, conn: this.state };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => undefined); // a reset by the peer: 'close' follows
    socket.on('close', () => {
      this.closed = true;
      this.queue = [];
      this.server.watches.releaseOwner(id);
      this.server.pubsub.removeAll(this.state.subscriptions, id);
      this.server.tracking.disable(this.state);
      this.server.monitors.remove(id);
      this.held = [];
      this.drainWaiter?.();
      this.pauseCancel?.();
      onClose(this);
    });
  }

  /** Close at once (server shutdown, CLIENT KILL). */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /**
   * How long it has been idle, for CONFIG SET timeout (./server.ts): undefined when it may not be closed for that, as
   * Redis exempts them: subscribed to anything, blocked (WAIT, a CLIENT PAUSE), a monitor, or running a command.
   */
  idleMs(now: number): number | undefined {
    const s = this.state;
    if (this.running || s.blocked || s.subscriptions.active || this.server.monitors.has(s.id)) return undefined;
    return now - s.lastInteraction;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.state.lastInteraction = Date.now();
    this.server.stats.netInputBytes += chunk.length;
    this.parse(chunk);
    this.pump();
  }

  /**
   * Parse `chunk` (EMPTY: what the parser still holds) into the queue. Until the connection is authenticated the
   * parser takes one request at a time with Redis's smaller bounds (UNAUTHENTICATED_LIMITS), and the socket is not
   * read while it holds more than one bound's worth: a client without the password cannot make it hold much.
   */
  private parse(chunk: Buffer): void {
    this.parser.unauthenticated = !this.state.authenticated;
    const out = this.parser.feed(chunk);
    for (const c of out.commands) this.queue.push(c);
    if (out.error !== undefined) {
      this.protocolError = out.error;
      this.server.stats.protocolErrors++;
      this.socket.pause(); // nothing after a protocol error is read
    }
    if (this.queue.length >= this.server.options.maxQueuedCommands || this.holdingUnauthenticated()) this.pauseReading();
  }

  private holdingUnauthenticated(): boolean {
    return !this.state.authenticated && this.parser.bufferedBytes > UNAUTHENTICATED_HELD_BYTES;
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readPaused || this.closed || this.protocolError !== undefined) return;
    if (this.outputFull()) return;
    if (this.queue.length >= this.server.options.maxQueuedCommands || this.holdingUnauthenticated()) return;
    this.readPaused = false;
    this.socket.resume();
  }

  /** Over the output bound, and a 'drain' will come (one comes only after a write was refused: past the socket's own mark). */
  private outputFull(): boolean {
    return this.socket.writableLength > this.server.options.outputHighWaterBytes && this.socket.writableNeedDrain;
  }

  private onDrain(): void {
    const w = this.drainWaiter;
    this.drainWaiter = undefined;
    w?.();
    this.resumeReading();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.run().then(
      () => {
        this.running = false;
        if (!this.closed && this.queue.length > 0) this.pump();
      },
      (err: unknown) => {
        // A bug of ours: this connection ends, the server goes on.
        this.running = false;
        this.writeNow(new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`));
        this.finish();
      },
    );
  }

  private async run(): Promise<void> {
    while (!this.closed && this.queue.length > 0 && !this.state.closing) {
      if (this.outputFull()) {
        this.pauseReading();
        await new Promise<void>((resolve) => (this.drainWaiter = resolve));
        continue;
      }
      const commands = this.queue.splice(0, Math.min(MAX_RUN_COMMANDS, this.server.options.maxQueuedCommands));
      await this.execute(commands);
      // Requests held back while not authenticated (one is parsed at a time): the next, under the state AUTH left.
      if (this.parser.unauthenticated && this.queue.length === 0 && this.parser.bufferedBytes > 0 && this.protocolError === undefined && !this.closed) this.parse(EMPTY);
      this.resumeReading();
    }
    if (this.closed) return;
    if (this.state.closing) this.finish();
    else if (this.protocolError !== undefined && this.queue.length === 0) {
      const e = new ErrorReply(`ERR ${this.protocolError}`);
      this.server.commandStats.error(e); // Redis counts it in errorstats too
      this.writeNow(e);
      this.finish();
    }
  }

  /**
   * Close after the replies written so far. What the client still sends is read and dropped: a paused socket would
   * never see the client's FIN and would stay half-open; a client that never closes is cut after a second.
   */
  private finish(): void {
    this.closed = true;
    this.socket.end();
    this.socket.resume();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Dispatch `commands` in order, send their plans in runs of one class, write the replies in order. */
  private async execute(commands: Buffer[][]): Promise<void> {
    const replies: Array<Reply | undefined> = new Array(commands.length);
    // Each reply in the protocol of its own command: HELLO 3's reply and those after it in RESP3, those before in RESP2.
    const protocols: Protocol[] = new Array(commands.length);
    this.written = 0;
    this.replies = replies;
    this.protocols = protocols;
    this.batchProtocol = this.state.protocol;
    this.runCommands = commands;
    this.dispatchedCount = 0;
    try {
      await this.dispatchAll(commands, replies, protocols);
    } finally {
      this.runCommands = [];
      this.dispatchedCount = 0;
      this.inDispatch = false;
      // Every reply is written (or the connection closed): what is held goes out, later messages at once.
      this.replies = undefined;
      this.protocols = [];
      this.written = Number.MAX_SAFE_INTEGER;
      if (this.held.length > 0) {
        this.releaseHeld();
        this.flushWriter();
      }
      // Client-side caching's BCAST messages of the keys these commands changed (../tracking.ts).
      this.server.tracking.broadcast();
    }
  }

  private async dispatchAll(commands: Buffer[][], replies: Array<Reply | undefined>, protocols: Protocol[]): Promise<void> {
    let run: Slot[] = [];
    let runClass: 'read' | 'write' | undefined;
    // A run's reads use the consistency of the connection when they were dispatched (READONLY may come between).
    let runRead = this.state.readOptions;
    // INFO commandstats (./command-stats.ts): each command is counted as its reply is written, in the connection's
    // order, as Redis counts a command once it ran; a plan's time is taken when it is answered.
    // SLOWLOG (./slowlog.ts) logs it then too, the latency monitor (./latency-monitor.ts) samples it, and MONITOR
    // (./monitor.ts) feeds it, right after its reply. EXEC's reply counts, logs, samples and feeds the commands it ran
    // too (none when a WATCH aborted it), before EXEC itself.
    const { commandStats: stats, slowlog, latency, monitors } = this.server;
    const tallies: Array<(() => void) | undefined> = new Array(commands.length);
    // `silent`: CLIENT REPLY silenced it, and so its line to its own connection, if that is a monitor (as Redis decides
    // both: by the flags once the command ran).
    const ran = (i: number, counted: NonNullable<Dispatched['counted']>, ms: number, reply: Reply, silent: boolean) => (): void => {
      const queued = counted.queued;
      // EVAL (skip_monitor: Redis's evalCommand feeds it itself, before the commands its script runs, as `lua`).
      const calls = this.state.scriptCalls;
      this.state.scriptCalls = undefined;
      // EXEC's array holds its commands' replies: their errors are theirs, counted below.
      stats.called(counted.name!, ms, queued !== undefined && Array.isArray(reply) ? null : reply);
      if (queued !== undefined && Array.isArray(reply)) {
        queued.args.forEach((args, j) => {
          stats.calledInExec(queued.names[j]!, reply[j]);
          slowlog.add(args, ms * 1000, this.state);
          if (latency.on) latency.command(isFast(queued.names[j]!), ms * 1000);
          if (SCRIPT_COMMANDS.has(queued.names[j]!)) monitors.feedScript(args, calls?.[j] ?? [], this.state, silent);
          else monitors.feed(queued.names[j]!, args, this.state, silent);
        });
      }
      if (queued === undefined) slowlog.add(commands[i]!, ms * 1000, this.state);
      if (latency.on) latency.command(isFast(counted.name!), ms * 1000); // the table's flags looked up only when on
      if (SCRIPT_COMMANDS.has(counted.name!)) monitors.feedScript(commands[i]!, calls?.[0] ?? [], this.state, silent);
      else monitors.feed(counted.name!, commands[i]!, this.state, silent);
    };
    const flushReady = (): void => {
      while (this.written < replies.length && replies[this.written] !== undefined) {
        const i = this.written++;
        this.writer.protocol = protocols[i]!;
        this.writer.write(replies[i]!);
        tallies[i]?.();
        if (this.held.length > 0) this.releaseHeld();
      }
      this.flushWriter();
    };
    // Client-side caching (./tracking.ts): the keys of a read-only command are remembered when its read is sent, after
    // the connection's earlier writes are answered (their changes are not the read's); those of a command answered at
    // once (an error) once the run before it is.
    const { tracking } = this.server;
    let remember: Buffer[][] = [];
    const send = async (): Promise<void> => {
      flushReady(); // the replies known so far go out before waiting
      const slots = run;
      run = [];
      for (const s of slots) if (s.remember !== undefined) tracking.add(this.state, s.remember);
      await runSegment(this.server.cluster, runRead, slots, this.server.watches, this.server.keyspace);
      for (const keys of remember) tracking.add(this.state, keys);
      remember = [];
    };
    let n = 0;
    for (; n < commands.length && !this.state.closing; n++) {
      if (run.length > 0 && waitsForEarlierReplies(commands[n]!)) await send();
      if (this.closed) return;
      // CLIENT PAUSE (./pause.ts): a held command waits for the pause's end, the commands after it behind it; the
      // replies of those before it go out first.
      for (let held = heldByPause(this.ctx, commands[n]!); held !== undefined; held = heldByPause(this.ctx, commands[n]!)) {
        if (run.length > 0) await send();
        flushReady();
        this.state.blocked = true;
        this.state.lastCommand = held; // as Redis's CLIENT LIST shows a held client: cmd=<the held command>
        await this.server.pause.wait((cancel) => (this.pauseCancel = cancel));
        this.pauseCancel = undefined;
        this.state.blocked = false;
        if (this.closed) return;
      }
      const out = this.dispatched;
      out.remember = undefined;
      out.counted = undefined;
      const started = performance.now();
      const mode = this.state.reply;
      mode.skipping = mode.skipNext; // CLIENT REPLY SKIP: the whole of this command
      mode.skipNext = false;
      this.dispatchedCount = n + 1;
      this.inDispatch = true;
      const r = dispatch(this.ctx, commands[n]!, out);
      this.inDispatch = false;
      protocols[n] = this.state.protocol;
      // Silenced as Redis decides it: by the flags once the command ran (CLIENT REPLY ON's own OK is written).
      const silent = mode.off || mode.skipping;
      const counted = out.counted as Dispatched['counted']; // set by dispatch()
      if (!isPlan(r)) {
        if (counted !== undefined) {
          const ms = performance.now() - started;
          tallies[n] = counted.refused ? () => stats.rejected(counted.name, r as ErrorReply) : ran(n, counted, ms, r, silent);
        }
        replies[n] = silent ? unsilenced(r) : r;
        if (out.remember !== undefined) {
          if (run.length === 0) tracking.add(this.state, out.remember);
          else remember.push(out.remember);
        }
        continue;
      }
      let plan = r as Plan;
      // Key reads after writes in one pipeline ride the writes' batch as reads in the log (as inside MULTI), applied
      // after them: `SET k v` then `GET k` reads the write without waiting a round for it, so a pipeline that mixes
      // writes and reads is one round, not one per change between the two. Not for a tracking connection, whose reads
      // are remembered as they are sent (its own writes' invalidations must come first: ../tracking.ts).
      if (plan instanceof KeysPlan && runClass === 'write' && run.length > 0 && !this.state.tracking.on) {
        plan = readAfterWrites(plan, this.server.cluster, this.server.keyspace) ?? plan;
      }
      const cls = planClass(plan);
      // EXEC with reads to remember starts a run: the connection's writes before it are answered first. A script
      // runs alone: after the commands before it are answered (it reads their writes), before those after it.
      const script = plan instanceof ScriptPlan;
      const alone = (plan instanceof WritePlan && plan.reads !== undefined) || script;
      if (run.length > 0 && (cls !== runClass || (cls === 'read' && this.state.readOptions !== runRead) || alone)) await send();
      if (this.closed) return;
      runClass = cls;
      runRead = this.state.readOptions;
      const i = n;
      run.push({
        plan,
        set: (reply) => {
          // Its time in INFO commandstats and latencystats: from its dispatch to its reply.
          if (counted !== undefined) {
            const ms = performance.now() - started;
            tallies[i] = ran(i, counted, ms, reply, silent);
          }
          replies[i] = silent ? unsilenced(reply) : reply;
        },
        remember: out.remember,
      });
      if (script) await send();
      if (this.closed) return;
    }
    replies.length = n; // after QUIT nothing more is answered
    if (run.length > 0) await send();
    if (this.closed) return;
    flushReady();
  }

  /**
   * CLIENT LIST's view of the input (../context.ts InputState): the requests not dispatched yet, in RESP, and what the
   * parser holds of the next; the arguments of the commands running (dispatched, not answered yet) and those the
   * parser has of the next.
   */
  private input(): InputState {
    const cmds = this.runCommands;
    let query = this.parser.bufferedBytes;
    for (let i = this.inDispatch ? this.dispatchedCount - 1 : this.dispatchedCount; i < cmds.length; i++) query += requestBytes(cmds[i]!);
    for (const c of this.queue) query += requestBytes(c);
    let argv = this.parser.partialArgsBytes;
    const replies = this.replies;
    if (replies !== undefined) {
      for (let i = Math.min(this.written, this.dispatchedCount); i < this.dispatchedCount; i++) {
        if (replies[i] === undefined) for (const a of cmds[i]!) argv += a.length;
      }
    }
    return { queryBytes: query, argvBytes: argv, reading: !this.closed && !this.socket.isPaused() };
  }

  /**
   * A pub/sub message: written now, or held until the replies answered before it came are written (`after`
   * 'current': and the reply being answered now, which is the first not yet answered: replies are answered in order).
   */
  private push(message: PushReply | RawReply, bytes: number, after?: 'current'): void {
    if (this.closed) return;
    if (this.overOutputBound(bytes)) {
      this.destroy(); // a subscriber that does not read: Redis closes it too (client-output-buffer-limit pubsub)
      return;
    }
    const replies = this.replies;
    if (replies === undefined) return this.writeSoon(message.in(this.state.protocol));
    let answered = this.written;
    while (answered < replies.length && replies[answered] !== undefined) answered++;
    if (after === 'current' && answered < replies.length) answered++;
    // In the protocol of its place: that of the reply before it (a HELLO later in the batch does not change it).
    const raw = message.in(answered > 0 ? this.protocols[answered - 1]! : this.batchProtocol);
    // What is held waits for replies not yet written (they are released as each reply is written): a message due now
    // goes before them. Held in the order of their places: a client-side caching message about the connection's own
    // write waits for that write's reply, and a message that comes meanwhile goes before it, as Redis writes them.
    if (answered > this.written) {
      let at = this.held.length;
      while (at > 0 && this.held[at - 1]!.after > answered) at--;
      this.held.splice(at, 0, { after: answered, message: raw, bytes });
      this.heldBytes += bytes;
      return;
    }
    this.writeSoon(raw);
  }

  /** Whether `bytes` more would take the unwritten output past maxPubsubOutputBytes (a message or MONITOR line). */
  private overOutputBound(bytes: number): boolean {
    return this.socket.writableLength + this.writer.size + this.heldBytes + bytes > this.server.options.maxPubsubOutputBytes;
  }

  /**
   * A MONITOR line (./monitor.ts): as a message, or, for a command this connection ran itself, right after that
   * command's reply, which was just written (it is fed as its reply is written).
   */
  private feed(line: RawReply, own: boolean): void {
    if (!own) return this.state.reply.off ? undefined : this.push(line, line.bytes.length); // CLIENT REPLY OFF silences them too, as on Redis
    if (this.closed) return;
    if (this.overOutputBound(line.bytes.length)) return this.destroy();
    this.writer.write(line);
  }

  /** Into the writer now (before any reply written later), to the socket at the end of this event-loop turn. */
  private writeSoon(r: RawReply): void {
    this.writer.write(r);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushWriter();
    });
  }

  /** Held messages whose earlier replies are all written, into the writer. */
  private releaseHeld(): void {
    let i = 0;
    while (i < this.held.length && this.held[i]!.after <= this.written) {
      const h = this.held[i++]!;
      this.writer.write(h.message);
      this.heldBytes -= h.bytes;
    }
    if (i > 0) this.held.splice(0, i);
  }

  private writeNow(r: Reply): void {
    this.writer.protocol = this.state.protocol;
    this.writer.write(r);
    this.flushWriter();
  }

  private flushWriter(): void {
    const chunks = this.writer.take();
    if (chunks.length === 0 || this.closed) return;
    let bytes = 0;
    if (chunks.length === 1) {
      bytes = chunks[0]!.length;
      this.socket.write(chunks[0]!);
    } else {
      this.socket.cork();
      for (const c of chunks) {
        bytes += c.length;
        this.socket.write(c);
      }
      this.socket.uncork();
    }
    this.server.stats.netOutputBytes += bytes;
    this.state.lastInteraction = Date.now();
  }
}
