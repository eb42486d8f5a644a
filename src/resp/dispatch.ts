// The command table and dispatch: name lookup, AUTH gate, arity, MULTI queueing. Dispatch is synchronous and
// in the order commands arrived, so connection state (AUTH, MULTI, READONLY, HELLO) always applies in order;
// data commands come back as plans that ./pipeline.ts sends.
import { arityOk, commandNamed, keysOf, type CommandSpec } from './command.js';
import { aclCommands } from './commands/acl.js';
import { BITMAP_COMMANDS } from './commands/bitmaps.js';
import { HYPERLOGLOG_COMMANDS } from './commands/hyperloglog.js';
import { CONNECTION_COMMANDS } from './commands/connection.js';
import { KEY_COMMANDS } from './commands/keys.js';
import { PUBSUB_COMMANDS, SUBSCRIBED_MODE_COMMANDS } from './commands/pubsub.js';
import { serverCommands } from './commands/server.js';
import { STRING_COMMANDS } from './commands/strings.js';
import { TRANSACTION_COMMANDS, unwatchAll } from './commands/transactions.js';
import { SCRIPT_COMMANDS, scriptingCommands } from './commands/scripting.js';
import type { Ctx, MultiState } from './context.js';
import { arityError, NOAUTH, unknownCommand, unknownSubcommand } from './errors.js';
import { KeysPlan, keysAsWrite, QueuedScript, WritePlan, isPlan, type Plan } from './plan.js';
import { ErrorReply, QUEUED, type Reply } from './reply.js';

const TABLE = new Map<string, CommandSpec>();
for (const c of [...CONNECTION_COMMANDS, ...STRING_COMMANDS, ...BITMAP_COMMANDS, ...HYPERLOGLOG_COMMANDS, ...KEY_COMMANDS, ...PUBSUB_COMMANDS, ...TRANSACTION_COMMANDS, ...scriptingCommands(() => TABLE), ...serverCommands(() => TABLE), ...aclCommands(() => TABLE)]) {
  if (TABLE.has(c.name)) throw new Error(`command ${c.name} defined twice`);
  TABLE.set(c.name, c);
}

export const COMMANDS: ReadonlyMap<string, CommandSpec> = TABLE;

/** Lower-case ASCII name of a command (names are short: one latin1 decode). */
function nameOf(b: Buffer): string {
  return b.length > 32 ? '' : b.toString('latin1').toLowerCase();
}

/**
 * (Un)subscribing commands, RESET, HELLO and CLIENT TRACKING: the connection dispatches one only once the commands
 * before it are answered (a write's client-side caching messages follow the tracking and protocol in effect when
 * Redis would have run it). INFO, LATENCY and SLOWLOG too: their counts (commandstats, keyspace hits, histograms) and
 * entries include every command before them; and CONFIG, whose SET of a slowlog threshold holds from the next command.
 */
const ORDERED = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'reset', 'hello', 'info', 'latency', 'slowlog', 'config']);

/**
 * Whether `args` must wait for the replies of the commands before it: a subscription then starts (or ends) after
 * every earlier PUBLISH of the connection is delivered and every earlier read answered, as on Redis.
 */
export function waitsForEarlierReplies(args: Buffer[]): boolean {
  const name = nameOf(args[0]!);
  return ORDERED.has(name) || (name === 'client' && args.length > 2 && nameOf(args[1]!) === 'tracking');
}

/** Whether Redis flags the command `name` (`client|info` for a subcommand, which has flags of its own) fast. */
export function isFast(name: string): boolean {
  return commandNamed(TABLE, name)?.flags.includes('fast') === true;
}

/**
 * Whether Redis 7.0 feeds monitors the command `name` (`client|list` for a subcommand): not one flagged admin or
 * skip_monitor (CONFIG, SLOWLOG, LATENCY, CLIENT LIST/KILL/PAUSE, SAVE, SHUTDOWN, DEBUG, MONITOR, ...).
 */
export function monitored(name: string): boolean {
  const flags = commandNamed(TABLE, name)?.flags;
  return flags !== undefined && !flags.includes('admin') && !flags.includes('skip_monitor');
}

/** What dispatch tells its caller besides the reply: keys to remember for client-side caching once the command's read is sent. */
export interface Dispatched {
  remember?: Buffer[] | undefined;
  /**
   * How INFO commandstats counts it once its reply is written (./command-stats.ts): a call of `name`, or a refusal
   * (`name` undefined for an unknown command or subcommand); nothing when queued inside MULTI (counted at EXEC).
   * For EXEC, the transaction, whose commands SLOWLOG logs (./slowlog.ts) and MONITOR feeds (./monitor.ts).
   */
  counted?: { name: string | undefined; refused: boolean; queued?: MultiState | undefined } | undefined;
}

/** A command as the checks before it runs see it: its spec and name (`client|info` for a subcommand), or why it is refused. */
interface Admission {
  /** The command that runs: a container's subcommand when one is named (undefined: an unknown command). */
  spec: CommandSpec | undefined;
  name: string;
  error: ErrorReply | undefined;
  /** The name a refusal is counted under in INFO commandstats: none for an unknown command or subcommand, as Redis. */
  counted: string | undefined;
}

/** The checks before a command runs, in Redis's order (processCommand). No side effect: CLIENT PAUSE asks too. */
function admit(ctx: Ctx, args: Buffer[]): Admission {
  const conn = ctx.conn;
  const base = TABLE.get(nameOf(args[0]!));
  if (base === undefined) return { spec: base, name: '', error: unknownCommand(args), counted: undefined };
  // Arity before AUTH, in Redis's order: `GET` alone is an arity error even unauthenticated.
  if (!arityOk(base.arity, args.length)) return { spec: base, name: base.name, error: arityError(base.name), counted: base.name };
  let spec = base;
  // A container's subcommand is looked up with the command, and its arity checked, as Redis's lookup does; from here
  // on it is the command (its flags count: OBJECT ENCODING reads a key). Redis 7 names it in CLIENT INFO/LIST and in
  // errors: cmd=client|info.
  if (base.subcommands !== undefined && args.length > 1) {
    const sub = base.subcommands.get(nameOf(args[1]!));
    if (sub === undefined) return { spec: base, name: base.name, error: unknownSubcommand(args[1]!, base.name), counted: undefined };
    spec = sub;
    if (!arityOk(spec.arity, args.length)) return { spec, name: spec.name, error: arityError(spec.name), counted: spec.name };
  }
  const name = spec.name;
  if (!conn.authenticated && !spec.noAuth) return { spec, name, error: NOAUTH, counted: name };
  // A RESP2 connection subscribed to anything reads pushes only: Redis allows it these commands and no other.
  if (conn.protocol === 2 && conn.subscriptions.active && !SUBSCRIBED_MODE_COMMANDS.has(spec.name)) {
    return { spec, name, error: new ErrorReply(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`), counted: name };
  }
  // A monitor is a replica to Redis, which keeps it from the keyspace (./monitor.ts).
  if ((writes(spec) || spec.flags.includes('readonly')) && ctx.server.monitors.has(conn.id)) {
    return { spec, name, error: new ErrorReply("ERR Replica can't interact with the keyspace"), counted: name };
  }
  return { spec, name, error: undefined, counted: name };
}

/**
 * The name of this command when CLIENT PAUSE holds it now (./pause.ts), else undefined. Held: a command that passes
 * the checks before it runs, under ALL any, under WRITE one that writes or may publish (Redis's write and
 * may-replicate commands: a write, PUBLISH, SPUBLISH, EXEC of a transaction holding one). Redis checks before
 * queueing: a write inside MULTI is held too.
 */
export function heldByPause(ctx: Ctx, args: Buffer[]): string | undefined {
  const pause = ctx.server.pause;
  if (!pause.on || ctx.server.monitors.has(ctx.conn.id)) return undefined; // a monitor is never paused, as Redis's replicas
  const { spec, name, error } = admit(ctx, args);
  if (spec === undefined || error !== undefined) return undefined;
  return pause.holds(writes(spec) || (spec.name === 'exec' && ctx.conn.multi?.writes === true)) ? name : undefined;
}

/** A command Redis flags write or may-replicate, and a script that may write (EVAL, EVALSHA: not their _RO forms). */
function writes(spec: CommandSpec): boolean {
  return spec.flags.includes('write') || spec.name === 'publish' || spec.name === 'spublish' || spec.name === 'eval' || spec.name === 'evalsha';
}

/** One command: its reply, or a plan to send. Never throws (a handler's bug becomes `-ERR INTERNAL`). */
export function dispatch(ctx: Ctx, args: Buffer[], out: Dispatched): Reply | Plan {
  const conn = ctx.conn;
  ctx.server.stats.commandsProcessed++;
  const { spec, name, error, counted } = admit(ctx, args);
  if (spec === undefined) return refuse(ctx, out, error!, counted);
  conn.lastCommand = name;
  if (error !== undefined) return reject(ctx, out, spec, error, counted);
  let r: Reply | Plan;
  const queued = spec.name === 'exec' ? (conn.multi ?? undefined) : undefined; // EXEC ends the transaction
  try {
    if (conn.multi && !spec.runsInMulti) return queue(ctx, out, spec, name, args);
    r = spec.handler(ctx, args);
  } catch (err) {
    return new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`);
  }
  out.counted = { name, refused: false, queued };
  if (r instanceof WritePlan) r.by = conn.id;
  const t = conn.tracking;
  if (t.on) {
    // Client-side caching (./tracking.ts): a read-only command's keys are to be remembered (whether is decided now,
    // in order); CLIENT CACHING holds for the next command (or transaction) only, as Redis's resetClient clears it.
    // EVAL_RO's keys are not: the commands it runs remember theirs (./commands/scripting.ts), as Redis 7.2's.
    if (spec.flags.includes('readonly') && spec.group !== 'scripting' && ctx.server.tracking.wants(conn)) out.remember = keyArgs(spec, args);
    if (!conn.multi && !spec.name.startsWith('client|')) t.caching = false;
  }
  return r;
}

/** The key arguments of a command by its key specs (COMMAND INFO), none when they do not fit the arguments. */
export function keyArgs(spec: CommandSpec, args: Buffer[]): Buffer[] {
  return keysOf(spec, args)?.map((k) => k.key) ?? [];
}

/** A known command refused before it ran (arity, NOAUTH): EXEC's refusal discards any transaction at once, as Redis's rejectCommand does. */
function reject(ctx: Ctx, out: Dispatched, spec: CommandSpec, e: ErrorReply, counted: string | undefined): ErrorReply {
  return refuse(ctx, out, spec.name === 'exec' ? abortExec(ctx, e) : e, counted);
}

/** An error before the command ran: inside MULTI it also dooms the transaction (EXEC replies EXECABORT). */
function refuse(ctx: Ctx, out: Dispatched, e: ErrorReply, counted: string | undefined): ErrorReply {
  if (ctx.conn.multi) ctx.conn.multi.aborted = true;
  out.counted = { name: counted, refused: true };
  return e;
}

/** EXEC refused (in MULTI or not): any transaction is discarded and the keys unwatched, as Redis's execCommandAbort does. */
function abortExec(ctx: Ctx, e: ErrorReply): ErrorReply {
  ctx.conn.multi = null;
  unwatchAll(ctx);
  return new ErrorReply(`EXECABORT Transaction discarded because of: ${e.text.replace(/^ERR /, '')}`);
}

/**
 * Inside MULTI: compile the command now, keep its plan (or its reply: PING, a syntax error, which EXEC returns
 * in its array as Redis does) for EXEC. Reads of more than keys (SCAN, KEYS, INFO, ROLE, WAIT) have no batch op:
 * they are refused and the transaction aborted.
 */
function queue(ctx: Ctx, out: Dispatched, spec: CommandSpec, fullName: string, args: Buffer[]): Reply {
  const m = ctx.conn.multi!;
  if (spec.flags.includes('no_multi')) return refuse(ctx, out, new ErrorReply('ERR Command not allowed inside a transaction'), fullName); // SHUTDOWN, as Redis
  // (Un)subscribing would take effect when queued, and PUBSUB's counts be those of that moment: refused. PUBLISH is
  // queued: its message goes out once EXEC's batch is applied.
  // So would CLIENT REPLY, which silences replies (EXEC's own among them, on Redis), and CLIENT PAUSE and UNPAUSE:
  // refused too.
  const client = fullName === 'client|reply' || fullName === 'client|pause' || fullName === 'client|unpause';
  if ((spec.group === 'pubsub' && spec.name !== 'publish' && spec.name !== 'spublish') || client) {
    return refuse(ctx, out, new ErrorReply(`ERR '${fullName}' inside MULTI is not supported by threadraft (it would take effect when queued, not at EXEC)`), fullName);
  }
  // A transaction EXEC will refuse (a command was refused while queueing, or a write to a watched key was sent)
  // keeps nothing more, as Redis's queueMultiCommand: QUEUED, and CLIENT LIST's multi= stops counting.
  if (m.aborted || ctx.conn.watched.dirty) return QUEUED;
  // A script is checked, compiled and run by EXEC (as Redis's: an error is its reply in EXEC's array); the transaction
  // then runs as a script does, over the records of its keys (./commands/scripting.ts), which do not give DBSIZE's
  // count nor FLUSHDB's keys.
  const r = SCRIPT_COMMANDS.has(spec.name) ? new QueuedScript(args) : spec.handler(ctx, args);
  const whole = r instanceof WritePlan && r.ops.some((op) => op.type === 'size' || op.type === 'clear');
  if ((r instanceof QueuedScript && m.whole !== undefined) || (whole && m.script !== undefined)) {
    return refuse(ctx, out, new ErrorReply(`ERR '${fullName}' and '${m.whole ?? m.script}' cannot be in one transaction here (a transaction holding a script runs over its keys' records alone)`), fullName);
  }
  if (r instanceof QueuedScript) m.script ??= fullName;
  if (whole) m.whole ??= fullName;
  if (writes(spec)) m.writes = true;
  // Read-only commands' keys, for client-side caching (./tracking.ts): remembered when EXEC is sent (but after a
  // write of the same key before it in the transaction), and again as EXEC answers the command.
  const reads = spec.flags.includes('readonly') ? keyArgs(spec, args) : undefined;
  if (r instanceof QueuedScript) m.items.push(r);
  else if (!isPlan(r)) {
    if (reads !== undefined) m.reads.push(...reads);
    m.items.push(r);
  }
  else if (r instanceof WritePlan && !r.alone) m.items.push(Object.assign(r, { reads }));
  else if (r instanceof KeysPlan) m.items.push(Object.assign(keysAsWrite(r, ctx.server.keyspace), { reads }));
  else {
    return refuse(ctx, out, new ErrorReply(`ERR '${fullName}' inside MULTI is not supported by threadraft (it has no atomic batch operation)`), fullName);
  }
  m.names.push(fullName); // counted, logged and fed as EXEC's reply is written (./connection.ts)
  m.args.push(args);
  return QUEUED;
}
