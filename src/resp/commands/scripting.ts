// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts (../lua.ts), atomic as Redis's are.
//
// How a script is atomic here, where commands are ops that a log applies: the script runs on this thread against
// the records of the keys it touches, read before it starts (Cluster.records: each key's value and revision), each
// redis.call compiled as its command is inside MULTI and its ops run there (storage LocalState) as they will at
// apply. Its writes then go to the log as one batch behind a `check` of every revision read: applied, the keys were
// as the script saw them, so the batch applies to the results the script saw; refused (another client wrote one
// meanwhile), the script runs again from a new read. A script that touches a key it did not declare in KEYS reads
// it and runs again. The scripts waiting when a group ends run next as a group (runGroup): one after another over one
// read, their writes one log entry; groups run one at a time, so scripts never refuse each other.
import { batchOp, type BatchOp } from '../../cluster/cluster.js';
import { ClusterError } from '../../index.js';
import { LocalState } from '../../storage/apply.js';
import { readsOnly, type Op } from '../../storage/command.js';
import { keyBytes, keysError, parseInt64 } from '../args.js';
import { batch } from '../cluster-api.js';
import { arityOk, command, keysOf, lookupCommand, sub, type CommandSpec, type KeySpec } from '../command.js';
import type { ConnectionState, Ctx, MultiState } from '../context.js';
import { clusterError, NOT_INTEGER, unknownSubcommand } from '../errors.js';
import { LuaRuntime, ScriptAbort, type ScriptHost } from '../lua.js';
import { BATCH_OVERHEAD_BYTES, CallPlan, isPlan, KeysPlan, opsBytes, opsCount, QueuedScript, WritePlan, writtenKeys, type RespOp, type RespOpResult } from '../plan.js';
import { ErrorReply, helpReply, NULL_ARRAY, OK, type Reply } from '../reply.js';
import type { WatchSet } from '../watches.js';
import { bytesOf } from './strings.js';
import type { KeyRecord } from '../../index.js';

/** Runs of one script at most: a conflict with another client's write, or a key it read without declaring it. */
const MAX_RUNS = 16;

/**
 * Scripts that EVAL compiled are kept this many at most, the least recently run evicted first (as Redis 7.4, which
 * bounds what a client sending a new script body each time makes the server keep); SCRIPT LOAD's are kept.
 */
const MAX_EVAL_SCRIPTS = 500;

/** Scripts run together over one read and one log entry at most (fewer when their keys or writes need fewer). */
const MAX_GROUP = 256;

/** A script to run: its SHA1 (EVAL's body too: compiled again should it be evicted before it runs), keys, arguments. */
interface ScriptStep {
  sha: string;
  body: Buffer | undefined;
  keys: Buffer[];
  argv: Buffer[];
  readOnly: boolean;
}

/** What a job runs, in order: a script; or, in a transaction, a queued command's plan, or the reply it was given when queued. */
type Step = { script: ScriptStep } | { plan: WritePlan } | { reply: Reply };

/** A script waiting to run (EVAL), or a transaction holding one (EXEC), and where its reply goes. */
interface Job {
  ctx: Ctx;
  /** EVAL's script alone, or EXEC's queued commands. */
  steps: Step[];
  /** EXEC's: the keys it watched, and the keys of reads answered when queued (client-side caching). */
  exec: { watched: WatchSet; reads: Buffer[] } | undefined;
  /** Client-side caching: the keys its read-only commands read are remembered for its connection (decided at dispatch). */
  tracked: boolean;
  done(reply: Reply | (() => Reply)): void;
}

/**
 * The server's scripts: the Lua state (made as the server starts), the scripts compiled in it by SHA1 (as Redis,
 * every one until SCRIPT FLUSH), and the scripts waiting to run: those waiting when a group ends run next, one
 * after another over one read of their keys, and their writes go to the log as one entry.
 */
export class Scripts {
  /** How long one run of a script may take before it is stopped (CONFIG busy-reply-threshold; Redis's default). */
  timeMs = 5000;
  private queue: Job[] = [];
  private draining = false;
  /** The scripts EVAL compiled (not SCRIPT LOAD), least recently run first: evicted past MAX_EVAL_SCRIPTS. */
  private readonly evictable = new Set<string>();
  /** Scripts evicted since the server started (INFO's evicted_scripts). */
  evicted = 0;
  /** Each compiled script's shebang flags (a script without one: compatibility mode). */
  private readonly flags = new Map<string, ShebangFlags>();

  constructor(readonly lua: LuaRuntime) {}

  /**
   * Compile `body` under its SHA1: undefined, or Redis's compile error. By EVAL (`evictable`), it joins the scripts
   * evicted least recently run first; by SCRIPT LOAD, it is kept until SCRIPT FLUSH (a script EVAL compiled too).
   */
  compile(sha: string, body: Buffer, evictable: boolean): ErrorReply | undefined {
    const known = this.lua.has(sha);
    if (!known) {
      const shebang = parseShebang(body);
      if (shebang instanceof ErrorReply) return shebang;
      // Compiled from the line feed that ends the shebang: the script's lines keep their numbers (as Redis).
      const error = this.lua.compile(sha, body.subarray(shebang.length));
      if (error !== undefined) return error;
      this.flags.set(sha, shebang.flags);
    }
    if (!evictable) this.evictable.delete(sha);
    else if (!known) {
      for (const oldest of this.evictable) {
        if (this.evictable.size < MAX_EVAL_SCRIPTS) break;
        this.evictable.delete(oldest);
        this.lua.drop(oldest);
        this.flags.delete(oldest);
        this.evicted++;
      }
      this.evictable.add(sha);
    }
    return undefined;
  }

  has(sha: string): boolean {
    return this.lua.has(sha);
  }

  /** The shebang flags of a compiled script. */
  flagsOf(sha: string): ShebangFlags {
    return this.flags.get(sha) ?? COMPAT;
  }

  /** A script is run (EVAL, EVALSHA): an evictable one becomes the most recently run. */
  touch(sha: string): void {
    if (this.evictable.delete(sha)) this.evictable.add(sha);
  }

  flush(): void {
    this.lua.flush();
    this.evictable.clear();
    this.flags.clear();
  }

  /** Run a script (or a transaction) after the groups before it: its reply, or what gives it once its connection answers it. */
  run(job: Omit<Job, 'done'>): Promise<Reply | (() => Reply)> {
    return new Promise((done) => {
      this.queue.push({ ...job, done });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        try {
          await runGroup(this, group);
        } catch (err) {
          for (const j of group) j.done(clusterError(err)); // a job answered already keeps its reply
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

const NOSCRIPT = new ErrorReply('NOSCRIPT No matching script. Please use EVAL.');

/** What a script's shebang line (`#!lua flags=no-writes,...`) says; `compat`: it has none (Redis's EVAL compat mode). */
interface ShebangFlags {
  compat: boolean;
  noWrites: boolean;
}

const COMPAT: ShebangFlags = { compat: true, noWrites: false };

/** Redis 7's script flags; only no-writes changes anything here (no cluster, no OOM state, no stale replica). */
const SHEBANG_FLAGS = new Set(['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys']);

/**
 * Redis's evalExtractShebangFlags: a body starting `#!` has a first line `#!lua [flags=a,b]`; its flags, and the
 * bytes before its line feed (the script is compiled from there), or Redis's error.
 */
function parseShebang(body: Buffer): { flags: ShebangFlags; length: number } | ErrorReply {
  if (body[0] !== 0x23 || body[1] !== 0x21) return { flags: COMPAT, length: 0 };
  const end = body.indexOf(0x0a);
  if (end < 0) return new ErrorReply('ERR Invalid script shebang');
  const parts = body.toString('latin1', 0, end).split(/[ \t\r\v\f]+/).filter((p) => p !== '');
  if (parts[0] !== '#!lua') return new ErrorReply(`ERR Unexpected engine in script shebang: ${parts[0]}`, true);
  let noWrites = false;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return new ErrorReply(`ERR Unknown lua shebang option: ${part}`, true);
    const list = part.slice(6);
    for (const f of list === '' ? [] : list.split(',')) {
      if (!SHEBANG_FLAGS.has(f)) return new ErrorReply(`ERR Unexpected flag in script shebang: ${f}`, true);
      if (f === 'no-writes') noWrites = true;
    }
  }
  return { flags: { compat: false, noWrites }, length: end };
}

/** The commands that run a script (MONITOR feeds them before the script's commands, whatever their flags say). */
export const SCRIPT_COMMANDS: ReadonlySet<string> = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro']);

/** A connection's plan that runs alone: the commands before it answered first, those after it wait for it. */
export class ScriptPlan extends CallPlan {}

/** One redis.call of a run, for what is done once its batch applied (lookups counted, events published). */
type Call =
  | { kind: 'keys'; plan: KeysPlan; values: Array<KeyValue> }
  | { kind: 'ops'; plan: WritePlan; results: RespOpResult[]; writes: boolean; step: number | undefined };

type KeyValue = Parameters<KeysPlan['reply']>[0][number];

/** How INFO commandstats counts one redis.call once the run's batch applied: a call (its reply), or a refusal. */
interface Tally {
  name: string | undefined;
  args: Buffer[];
  reply: Reply;
  refused: boolean;
}

/** EVAL script numkeys key... arg... (and EVALSHA sha1 ...; _RO: no writes). */
function evalCommand(ctx: Ctx, args: Buffer[]): Reply | ScriptPlan {
  const script = scriptStep(ctx, args);
  if (script instanceof ErrorReply) return script;
  // CLIENT CACHING holds for this command: whether its reads are remembered is decided now (../dispatch.ts).
  const tracked = ctx.server.tracking.wants(ctx.conn);
  return new ScriptPlan(() => ctx.server.scripts.run({ ctx, steps: [{ script }], exec: undefined, tracked }));
}

/** EVAL's (EVALSHA's, _RO's) arguments checked and its script compiled, as Redis's evalGenericCommand: the script to run, or the error. */
function scriptStep(ctx: Ctx, args: Buffer[]): ScriptStep | ErrorReply {
  const name = args[0]!.toString('latin1').toLowerCase();
  const bySha = name === 'evalsha' || name === 'evalsha_ro';
  const readOnly = name.endsWith('_ro');
  // Redis's evalShaCommand: no SHA1 but one of 40 characters can match, so another is NOSCRIPT before numkeys is read.
  if (bySha && args[1]!.length !== 40) return NOSCRIPT;
  const n = parseInt64(args[2]!);
  if (n === null) return NOT_INTEGER;
  if (n > BigInt(args.length - 3)) return new ErrorReply("ERR Number of keys can't be greater than number of args");
  if (n < 0n) return new ErrorReply("ERR Number of keys can't be negative");
  const keys = args.slice(3, 3 + Number(n));
  const bad = keys.length > 0 ? keysError(keys) : undefined;
  if (bad) return bad;
  const argv = args.slice(3 + keys.length);
  const { scripts } = ctx.server;
  const sha = bySha ? args[1]!.toString('latin1').toLowerCase() : LuaRuntime.sha(args[1]!);
  if (bySha && !scripts.has(sha)) return NOSCRIPT;
  const error = bySha ? undefined : scripts.compile(sha, args[1]!, true);
  if (error) return error;
  scripts.touch(sha);
  // A script with a shebang may write unless it says no-writes; one without runs as before Redis 7.
  const flags = scripts.flagsOf(sha);
  if (!flags.compat && !flags.noWrites && readOnly) return new ErrorReply('ERR Can not execute a script with write flag using *_ro command.');
  return { sha, body: bySha ? undefined : args[1]!, keys, argv, readOnly: readOnly || (!flags.compat && flags.noWrites) };
}

/**
 * EXEC of a transaction holding a script: run as a script is, its queued commands in order over the records of
 * their keys (a queued script's arguments checked and its script compiled now, as Redis's EXEC runs it), its writes
 * one batch behind the checks of its reads and of the keys it watched. A watched key written since its WATCH (by
 * this server, another client, or a script before it in its group) aborts it: a null array.
 */
export function execScripts(ctx: Ctx, m: MultiState, watched: WatchSet): ScriptPlan {
  const tracked = ctx.server.tracking.wants(ctx.conn); // CLIENT CACHING: as of EXEC
  return new ScriptPlan(() => {
    // As EXEC runs, in the transaction's order: SCRIPT LOAD, EXISTS and FLUSH act on the script cache here, so a
    // script after them finds (or misses) what they left. A FLUSH after a script, and the SCRIPT commands after it,
    // act as EXEC is answered instead, in order (the script before it ran, as on Redis; one after it still finds its
    // script: docs/resp.md).
    // A transaction its WATCH already aborts runs nothing: its SCRIPT commands do not act either (deferred, they
    // are never answered).
    let scripted = false;
    let deferred = watched.dirty || [...watched.entries.values()].some((w) => w.revision === undefined);
    const steps: Step[] = m.items.map((item) => {
      if (item instanceof QueuedScript) {
        scripted = true;
        const script = scriptStep(ctx, item.args);
        return script instanceof ErrorReply ? { reply: script } : { script };
      }
      if (item instanceof ScriptCachePlan) {
        deferred ||= item.flushes && scripted;
        if (!deferred) return { reply: item.reply([]) };
      }
      if (item instanceof WritePlan) return { plan: item };
      return { reply: item };
    });
    return ctx.server.scripts.run({ ctx, steps, exec: { watched, reads: m.reads }, tracked });
  });
}

/** One job's run over a group's records: its steps' replies, its calls, its writes, the keys it lacked. */
interface JobRun {
  /** Each step's reply: a script's; a queued command's as run here (EXEC's array takes its answer once applied). */
  replies: Reply[];
  /** A script stopped (its time, a fault): the job's reply; nothing it did is written, the others run again without it. */
  aborted: ErrorReply | undefined;
  /** EXEC: a key it watched changed since its WATCH; it ran nothing and is answered a null array. */
  watchFailed: boolean;
  calls: Call[];
  tallies: Tally[];
  /** The commands each script ran, by its step (MONITOR feeds them after its EVAL). */
  scriptCalls: Array<Array<[string, Buffer[]]> | undefined>;
  writes: RespOp[];
  missing: Buffer[];
  /** The keys of the read-only commands it ran (client-side caching remembers them, as Redis 7.2's scripts do). */
  reads: Buffer[];
  /**
   * Those a script read after it (or a command before it in the transaction) wrote them: remembered once answered,
   * as Redis remembers a script's read as it runs (the write before it then tells it nothing).
   */
  lateReads: Buffer[];
  /** The keys its commands wrote so far, by latin1 (a read of one after is remembered late; a WATCH of one after it in its group fails). */
  written: Set<string>;
}

/**
 * Scripts run one after another over one read of every key they declared, then their writes go to the log as one
 * batch behind a check of every revision read: applied, each script saw what the scripts before it left, as if they
 * had run alone in that order at that entry. When a key changed meanwhile the group runs again from a new read; when
 * a script touched a key it did not declare, again with that key read too; a script stopped (its time, a fault) is
 * answered and the group runs again without it. A group whose keys or writes do not fit one batch runs script by
 * script. A transaction holding a script (EXEC) is one job: its commands run in order over the same records.
 */
async function runGroup(scripts: Scripts, jobs: Job[]): Promise<void> {
  const rt = scripts.lua;
  const { cluster, tracking, watches } = jobs[0]!.ctx.server;
  const { maxValueBytes, maxBytes, maxBatchOps, maxBatchBytes } = cluster.options;
  // SCRIPT FLUSH, or an eviction, between a script's dispatch and its run (it runs after the commands before it are
  // answered): EVAL compiles its body again, EVALSHA is answered NOSCRIPT.
  const compiled = (s: ScriptStep): boolean => rt.has(s.sha) || (s.body !== undefined && scripts.compile(s.sha, s.body, true) === undefined);
  let live: Job[] = [];
  const known = new Map<string, Buffer>();
  const empty = new LocalState(0, maxValueBytes, Infinity);
  for (const j of jobs) {
    j.steps = j.steps.map((s) => ('script' in s && !compiled(s.script) ? { reply: NOSCRIPT } : s));
    if (j.exec === undefined && 'reply' in j.steps[0]!) {
      j.done(j.steps[0].reply);
      continue;
    }
    if (j.exec !== undefined) {
      // Its WATCH ends as it first runs: a write of a watched key sent through this server since (or a key whose
      // revision WATCH could not read) aborts it; from here on, a changed revision does (runJob).
      const { watched } = j.exec;
      watches.release(watched);
      if (watched.dirty || [...watched.entries.values()].some((w) => w.revision === undefined)) {
        j.done(NULL_ARRAY);
        continue;
      }
      for (const w of watched.entries.values()) known.set(w.key.toString('latin1'), w.key);
    }
    for (const s of j.steps) {
      if ('script' in s) for (const k of s.script.keys) known.set(k.toString('latin1'), k);
      else if ('plan' in s) for (const k of opKeys(s.plan.ops, empty, maxValueBytes)) known.set(k.toString('latin1'), k);
    }
    live.push(j);
  }
  // A watched revision is compared with the group's read: that read must be the latest.
  const watching = live.some((j) => j.exec !== undefined && j.exec.watched.entries.size > 0);
  const oneByOne = async (): Promise<void> => {
    for (const j of live) await runGroup(scripts, [j]);
  };
  for (let run = 1; live.length > 0; run++) {
    if (run > MAX_RUNS) {
      for (const j of live) j.done(new ErrorReply(`ERR script ran ${MAX_RUNS} times and each time a key it read changed before its writes applied`));
      return;
    }
    const list = [...known.values()];
    if (list.length > maxBatchOps) {
      if (live.length > 1) return oneByOne();
      live[0]!.done(new ErrorReply(`ERR a script here touches at most maxBatchOps (${maxBatchOps}) keys; this one touched ${list.length}`));
      return;
    }
    let records: Array<KeyRecord | undefined>;
    try {
      // The first read may be stale (a changed key only fails the check); a run again reads the latest.
      records = list.length === 0 ? [] : await cluster.records(list, { consistency: run === 1 && !watching ? 'stale' : 'linearizable' });
    } catch (err) {
      for (const j of live) j.done(clusterError(err));
      return;
    }
    const state = new LocalState(Date.now(), maxValueBytes, maxBytes ?? Infinity);
    list.forEach((k, i) => state.add(k, records[i]));
    // The revision each key had when read, unless a job before in the group wrote it (a WATCH of it then fails).
    const revisions = new Map<string, number>();
    list.forEach((k, i) => revisions.set(k.toString('latin1'), records[i]?.revision ?? 0));
    const runs: JobRun[] = [];
    let again = false;
    for (const j of live) {
      const r = runJob(j, state, scripts.timeMs, revisions);
      if (r.missing.length > 0) {
        for (const k of r.missing) known.set(k.toString('latin1'), k);
        again = true;
        break;
      }
      if (r.aborted !== undefined) {
        j.done(r.aborted);
        live = live.filter((x) => x !== j); // what it wrote is in this run's records: the others run again without it
        again = true;
        break;
      }
      for (const k of r.written) revisions.delete(k);
      runs.push(r);
    }
    if (again) continue;
    const writes = runs.flatMap((r) => r.writes);
    if (list.length === 0 && writes.length === 0) {
      live.forEach((j, i) => j.done(() => answerRun(j, runs[i]!, [])));
      return;
    }
    const ops: RespOp[] = list.map((key, i) => ({ type: 'check', key, revision: records[i]?.revision ?? 0 }));
    ops.push(...writes);
    if (opsCount(ops) > maxBatchOps || opsBytes(ops) > maxBatchBytes - BATCH_OVERHEAD_BYTES) {
      if (live.length > 1) return oneByOne();
      live[0]!.done(new ErrorReply(`ERR this script's batch is ${opsCount(ops)} operations of ${opsBytes(ops)} bytes: more than one batch holds (maxBatchOps ${maxBatchOps}, maxBatchBytes ${maxBatchBytes}; threadraft serve --max-batch-ops, --max-batch-bytes)`));
      return;
    }
    // Remembered before the batch is sent: a key written after the read and before this fails its check (the group
    // runs again); one written after is invalidated for the connection.
    live.forEach((j, i) => {
      if (j.tracked && !runs[i]!.watchFailed) tracking.add(j.ctx.conn, runs[i]!.reads);
    });
    watches.touch(writes);
    let results: RespOpResult[];
    try {
      results = (await tracking.ownWrite(ops, () => batch(cluster, ops))).results;
    } catch (err) {
      for (const j of live) j.done(clusterError(err));
      return;
    }
    if (results.slice(0, list.length).some((r) => !r.ok)) continue; // a key changed since it was read: run again
    let offset = list.length;
    live.forEach((j, i) => {
      const r = runs[i]!;
      const mine = results.slice(offset, offset + r.writes.length);
      offset += r.writes.length;
      j.done(() => answerRun(j, r, mine));
    });
    return;
  }
}

/** The keys of a queued command's ops (read before its transaction runs, so that it need not run again for them). */
function opKeys(ops: RespOp[], empty: LocalState, maxValueBytes: number): Buffer[] {
  const keys: Buffer[] = [];
  try {
    ready(empty, ops.map((op) => batchOp(op as BatchOp, maxValueBytes)), keys);
  } catch {
    // a bad op: its run answers its error
  }
  return keys;
}

/**
 * One job over the group's state: a script's redis.calls compiled and run there; a transaction's commands in order
 * (its scripts so, its queued commands' ops run there), once its watched keys are found as WATCH read them. Its calls
 * are kept for when it is answered.
 */
function runJob(j: Job, state: LocalState, timeMs: number, revisions: ReadonlyMap<string, number>): JobRun {
  const r: JobRun = { replies: [], aborted: undefined, watchFailed: false, calls: [], tallies: [], scriptCalls: [], writes: [], missing: [], reads: [...(j.exec?.reads ?? [])], lateReads: [], written: new Set() };
  for (const w of j.exec?.watched.entries.values() ?? []) {
    if (revisions.get(w.key.toString('latin1')) !== w.revision) {
      r.watchFailed = true;
      return r;
    }
  }
  for (let i = 0; i < j.steps.length; i++) {
    const s = j.steps[i]!;
    if ('reply' in s) r.replies.push(s.reply);
    else if ('plan' in s) {
      // Client-side caching: a queued read is remembered as the transaction is sent unless a command before it wrote
      // its key (then as EXEC answers it, as Redis runs them: its own write does not tell it changed).
      for (const k of s.plan.reads ?? []) if (!r.written.has(k.toString('latin1'))) r.reads.push(k);
      const results = runOps(j.ctx, s.plan, state, r, i);
      if (results === undefined) return r; // keys missing: the group runs again with them
      r.replies.push(results instanceof ErrorReply ? results : null); // the call's answer, once applied
    } else {
      const { sha, keys, argv, readOnly } = s.script;
      const tallied = r.tallies.length;
      const host: ScriptHost = {
        call: (args, protocol) => {
          const t: Tally = { name: undefined, args, reply: null, refused: false };
          t.reply = scriptCall(j.ctx, args, protocol, readOnly, state, r, t);
          r.tallies.push(t);
          return t.reply;
        },
        known: (args) => lookupCommand(commands(), args) !== undefined,
        log: (level, message) => j.ctx.server.log.script(level, message),
      };
      const outcome = j.ctx.server.scripts.lua.run(sha, keys, argv, host, timeMs);
      if (r.missing.length > 0) return r;
      if (outcome.aborted !== undefined) {
        const { reason, error } = outcome.aborted;
        r.aborted = reason === 'timeout' ? new ErrorReply(`ERR script ran for more than busy-reply-threshold (${timeMs} ms) and was stopped: nothing it did was written`) : (error ?? new ErrorReply('ERR script stopped'));
        return r;
      }
      r.replies.push(outcome.reply);
      // For MONITOR, fed once the EVAL is (../connection.ts): the commands that ran, not those refused.
      r.scriptCalls[i] = r.tallies.slice(tallied).filter((t) => !t.refused && t.name !== undefined).map((t) => [t.name!, t.args]);
    }
  }
  for (const c of r.calls) if (c.kind === 'ops' && c.writes) r.writes.push(...c.plan.ops);
  return r;
}

/**
 * A job's reply as its connection answers it, once its writes applied (`results`: theirs, in order): the commands it
 * ran counted as Redis counts them, their lookups and keyspace events in the order they ran; EXEC's, its commands'
 * replies.
 */
function answerRun(j: Job, r: JobRun, results: RespOpResult[]): Reply {
  if (r.watchFailed) return NULL_ARRAY;
  const { commandStats: stats, keyspace, tracking } = j.ctx.server;
  for (const t of r.tallies) {
    if (t.refused) stats.rejected(t.name, t.reply as ErrorReply);
    else if (t.name !== undefined) stats.calledInExec(t.name, t.reply);
  }
  j.ctx.conn.scriptCalls = r.scriptCalls;
  const replies = [...r.replies];
  let offset = 0;
  for (const c of r.calls) {
    if (c.kind === 'keys') {
      c.plan.answer(c.values, keyspace);
      continue;
    }
    const mine = c.writes ? results.slice(offset, offset + c.plan.ops.length) : c.results;
    if (c.writes) offset += c.plan.ops.length;
    if (c.step === undefined) {
      tracking.asScript(j.ctx.conn.id, () => c.plan.answer(mine, keyspace, true));
      continue;
    }
    const reply = c.plan.answer(mine, keyspace, true);
    replies[c.step] = reply; // a queued command: answered as EXEC answers it
    // Remembered (again) as Redis runs it: after the writes before it in the transaction.
    if (c.plan.reads !== undefined && j.tracked) tracking.add(j.ctx.conn, c.plan.reads);
  }
  if (j.tracked && r.lateReads.length > 0) tracking.add(j.ctx.conn, r.lateReads);
  tracking.deliverOwn();
  return j.exec !== undefined ? replies : replies[0]!;
}

/** The MULTI state a script's commands are compiled under: each gives the ops of a batch (TTL, DBSIZE included). */
function scriptConnection(conn: ConnectionState, protocol: 2 | 3): ConnectionState {
  const multi: MultiState = { items: [], aborted: false, reads: [], writes: false, names: [], args: [], script: undefined, whole: undefined };
  return Object.create(conn, { multi: { value: multi, writable: true }, protocol: { value: protocol, writable: true } }) as ConnectionState;
}

/** redis.call: the command checked as Redis's scriptCall does, compiled, and its ops run over the script's records. */
function scriptCall(ctx: Ctx, args: Buffer[], protocol: 2 | 3, readOnly: boolean, state: LocalState, run: Pick<JobRun, 'calls' | 'missing' | 'reads' | 'lateReads' | 'written'>, tally: Tally): Reply {
  const { calls, missing } = run;
  const refuse = (text: string): ErrorReply => {
    tally.refused = true;
    return new ErrorReply(text);
  };
  const spec = lookupCommand(commands(), args);
  if (spec === undefined) return refuse('ERR Unknown Redis command called from script');
  tally.name = spec.name;
  if (!arityOk(spec.arity, args.length)) return refuse('ERR Wrong number of args calling Redis command from script');
  if (spec.flags.includes('noscript')) return refuse('ERR This Redis command is not allowed from script');
  const writes = spec.flags.includes('write');
  if (writes && readOnly) return refuse('ERR Write commands are not allowed from read-only scripts.');
  if (spec.name === 'publish' || spec.name === 'spublish') return refuse(notHere(spec.name).text);
  let r: ReturnType<CommandSpec['handler']>;
  try {
    r = spec.handler({ server: ctx.server, conn: scriptConnection(ctx.conn, protocol) }, args);
  } catch (err) {
    return new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`);
  }
  if (spec.flags.includes('readonly')) for (const { key } of keysOf(spec, args) ?? []) (run.written.has(key.toString('latin1')) ? run.lateReads : run.reads).push(key);
  if (r instanceof KeysPlan) {
    const ops: Op[] = r.keys.map((key) => ({ t: 'get', key }));
    if (!ready(state, ops, missing)) throw NEED_KEYS;
    const values = state.run(ops).map((x) => (x.ok && x.current !== null && x.current !== undefined ? bytesOf(x.current) : undefined));
    calls.push({ kind: 'keys', plan: r, values });
    return r.reply(values);
  }
  // TIME: the server's clock as the script runs (Redis 7's scripts replicate their effects, so they may read it).
  if (r instanceof WritePlan && r.ops.length === 0 && r.readsOnlyServer) return r.reply([]);
  if (r instanceof WritePlan && !r.alone && r.prepare === undefined && r.ops.length > 0) {
    const results = runOps(ctx, r, state, run, undefined);
    if (results === undefined) throw NEED_KEYS;
    if (results === NOT_HERE) return refuse(notHere(spec.name).text);
    return results instanceof ErrorReply ? results : r.reply(results);
  }
  return isPlan(r) ? refuse(notHere(spec.name).text) : r;
}

/** runOps' answer for an op that needs the whole keyspace (FLUSHDB's, DBSIZE's): not one a script can run. */
const NOT_HERE = new ErrorReply('ERR not an operation of one batch');

/**
 * A plan's ops run over the job's records, as they will run at apply, its call kept (`step`: a queued command of a
 * transaction, answered as EXEC's reply is): their results, or the error that refused them; undefined when a key was
 * not read (`missing` says which). The plan's reply is not asked for here: a queued read's counts its lookups.
 */
function runOps(ctx: Ctx, plan: WritePlan, state: LocalState, run: Pick<JobRun, 'calls' | 'missing' | 'written'>, step: number | undefined): RespOpResult[] | ErrorReply | undefined {
  let ops: Op[];
  try {
    ops = plan.ops.map((op) => batchOp(op as BatchOp, ctx.server.cluster.options.maxValueBytes));
  } catch (err) {
    return err instanceof ClusterError ? clusterError(err) : new ErrorReply(`ERR INTERNAL ${String(err)}`);
  }
  if (ops.some((op) => state.missing(op) === 'all')) return NOT_HERE;
  if (!ready(state, ops, run.missing)) return undefined;
  const results = ops.length === 0 ? [] : state.run(ops).map((x) => ({ ...x, ...(x.current instanceof Uint8Array ? { current: bytesOf(x.current) } : {}), ...(x.value instanceof Uint8Array ? { value: bytesOf(x.value) } : {}) }));
  plan.by = ctx.conn.id;
  const writes = !ops.every(readsOnly);
  run.calls.push({ kind: 'ops', plan, results, writes, step });
  if (writes) {
    for (const op of plan.ops) {
      const keys = writtenKeys(op);
      if (keys !== 'all') for (const k of keys) run.written.add(k.toString('latin1'));
    }
  }
  return results;
}

function notHere(name: string): ErrorReply {
  return new ErrorReply(`ERR '${name}' cannot run inside a script here (it is not an operation of one batch)`);
}

/** The keys of `ops` all read? Those missing are added to `missing` (the script then runs again with them). */
function ready(state: LocalState, ops: Op[], missing: Buffer[]): boolean {
  let ok = true;
  for (const op of ops) {
    const m = state.missing(op);
    if (m === 'all') continue;
    for (const k of m) {
      missing.push(keyBytes(k));
      ok = false;
    }
  }
  return ok;
}

/** Thrown through the script (it cannot catch it): the run stops and begins again with the keys found missing. */
const NEED_KEYS = new ScriptAbort('retry');

let commandTable: (() => ReadonlyMap<string, CommandSpec>) | undefined;
function commands(): ReadonlyMap<string, CommandSpec> {
  return commandTable!();
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Refused: threadraft has no Lua debugger.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script (none ever is when another command runs here).',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

/**
 * SCRIPT LOAD, EXISTS or FLUSH queued inside MULTI: it acts on the script cache as EXEC runs it, in the
 * transaction's order (DISCARD drops it), as Redis's. A plan with nothing to send. (Outside MULTI it acts at once:
 * the EVALSHA after it in a pipeline is checked as it is dispatched, and finds what it did.)
 */
class ScriptCachePlan extends WritePlan {
  constructor(readonly flushes: boolean, act: () => Reply) {
    super([], act);
  }
}

function cacheCommand(ctx: Ctx, flushes: boolean, act: () => Reply): Reply | ScriptCachePlan {
  return ctx.conn.multi ? new ScriptCachePlan(flushes, act) : act();
}

function script(ctx: Ctx, args: Buffer[]): Reply | ScriptCachePlan {
  const sub = args[1]!.toString('latin1').toLowerCase();
  const { scripts } = ctx.server;
  switch (sub) {
    case 'help':
      return helpReply(SCRIPT_HELP);
    case 'load': {
      const body = args[2]!;
      return cacheCommand(ctx, false, () => {
        const sha = LuaRuntime.sha(body);
        return scripts.compile(sha, body, false) ?? sha;
      });
    }
    case 'exists': {
      const shas = args.slice(2).map((s) => s.toString('latin1').toLowerCase());
      return cacheCommand(ctx, false, () => shas.map((sha) => (scripts.has(sha) ? 1 : 0)));
    }
    case 'flush':
      if (args.length > 3 || (args.length === 3 && !/^(a?sync)$/i.test(args[2]!.toString('latin1')))) return new ErrorReply('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      return cacheCommand(ctx, true, () => {
        scripts.flush();
        return OK;
      });
    case 'kill':
      return new ErrorReply('NOTBUSY No scripts in execution right now.');
    case 'debug':
      return new ErrorReply('ERR SCRIPT DEBUG is not supported by threadraft');
    default: // never: the dispatcher refuses an unknown subcommand before the handler
      return unknownSubcommand(args[1]!, 'script');
  }
}


const SCRIPT_FLAGS = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'];

/** EVAL's keys: numkeys (argument 2), then that many keys; Redis's spec, its note included (EVALSHA's has none). */
function scriptKeys(flags: string, notes?: string): KeySpec[] {
  const spec: KeySpec = { flags: flags.split(' '), index: 2, lastKey: 0, keyStep: 1, keynum: { keynumIdx: 0, firstKey: 1, keyStep: 1 } };
  if (notes !== undefined) spec.notes = notes;
  return [spec];
}
const NOTES = 'We cannot tell how the keys will be used so we assume the worst, ';

export function scriptingCommands(table: () => ReadonlyMap<string, CommandSpec>): CommandSpec[] {
  commandTable = table;
  return [
    command('eval', -3, SCRIPT_FLAGS, 'scripting', 'Execute a Lua script server side', evalCommand, { since: '2.6.0', acl: ['scripting'], keys: scriptKeys('RW access update', `${NOTES}RW and UPDATE`) }),
    command('evalsha', -3, SCRIPT_FLAGS, 'scripting', 'Execute a Lua script server side', evalCommand, { since: '2.6.0', acl: ['scripting'], keys: scriptKeys('RW access update') }),
    command('eval_ro', -3, ['readonly', ...SCRIPT_FLAGS], 'scripting', 'Execute a read-only Lua script server side', evalCommand, { since: '7.0.0', acl: ['scripting'], keys: scriptKeys('RO access', `${NOTES}RO and ACCESS`) }),
    command('evalsha_ro', -3, ['readonly', ...SCRIPT_FLAGS], 'scripting', 'Execute a read-only Lua script server side', evalCommand, { since: '7.0.0', acl: ['scripting'], keys: scriptKeys('RO access') }),
    command('script', -2, [], 'scripting', 'A container for Lua scripts management commands', script, { since: '2.6.0', subcommands: {
      load: sub(3, ['noscript', 'stale'], 'Load the specified Lua script into the script cache.', { since: '2.6.0', acl: ['scripting'], tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
      help: sub(2, ['loading', 'stale'], 'Show helpful text about the different subcommands', { since: '5.0.0', acl: ['scripting'] }),
      kill: sub(2, ['noscript', 'allow_busy'], 'Kill the script currently in execution.', { since: '2.6.0', acl: ['scripting'], tips: ['request_policy:all_shards', 'response_policy:one_succeeded'] }),
      exists: sub(-3, ['noscript'], 'Check existence of scripts in the script cache.', { since: '2.6.0', acl: ['scripting'], tips: ['request_policy:all_shards', 'response_policy:agg_logical_and'] }),
      debug: sub(3, ['noscript'], 'Set the debug mode for executed scripts.', { since: '3.2.0', acl: ['scripting'] }),
      flush: sub(-2, ['noscript'], 'Remove all the scripts from the script cache.', { since: '2.6.0', acl: ['scripting'], tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
    } }),
  ];
}
