// The command table and dispatch: name lookup, AUTH gate, arity, MULTI queueing. Dispatch is synchronous and
// in the order commands arrived, so connection state (AUTH, MULTI, READONLY, HELLO) always applies in order;
// data commands come back as plans that ./pipeline.ts sends.
import type { CommandSpec } from './command.js';
import { BITMAP_COMMANDS } from './commands/bitmaps.js';
import { CONNECTION_COMMANDS } from './commands/connection.js';
import { KEY_COMMANDS } from './commands/keys.js';
import { PUBSUB_COMMANDS, SUBSCRIBED_MODE_COMMANDS } from './commands/pubsub.js';
import { serverCommands } from './commands/server.js';
import { STRING_COMMANDS } from './commands/strings.js';
import { TRANSACTION_COMMANDS, unwatchAll } from './commands/transactions.js';
import type { Ctx } from './context.js';
import { arityError, NOAUTH, unknownCommand, unknownSubcommand } from './errors.js';
import { KeysPlan, keysAsWrite, WritePlan, isPlan, type Plan } from './plan.js';
import { ErrorReply, QUEUED, type Reply } from './reply.js';

const TABLE = new Map<string, CommandSpec>();
for (const c of [...CONNECTION_COMMANDS, ...STRING_COMMANDS, ...BITMAP_COMMANDS, ...KEY_COMMANDS, ...PUBSUB_COMMANDS, ...TRANSACTION_COMMANDS, ...serverCommands(() => TABLE)]) {
  if (TABLE.has(c.name)) throw new Error(`command ${c.name} defined twice`);
  TABLE.set(c.name, c);
}

export const COMMANDS: ReadonlyMap<string, CommandSpec> = TABLE;

/** Lower-case ASCII name of a command (names are short: one latin1 decode). */
function nameOf(b: Buffer): string {
  return b.length > 32 ? '' : b.toString('latin1').toLowerCase();
}

function arityOk(arity: number, n: number): boolean {
  return arity >= 0 ? n === arity : n >= -arity;
}

/** (Un)subscribing commands and RESET: the connection dispatches one only once the commands before it are answered. */
const ORDERED = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'reset']);

/**
 * Whether `args` must wait for the replies of the commands before it: a subscription then starts (or ends) after
 * every earlier PUBLISH of the connection is delivered and every earlier read answered, as on Redis.
 */
export function waitsForEarlierReplies(args: Buffer[]): boolean {
  return ORDERED.has(nameOf(args[0]!));
}

/** One command: its reply, or a plan to send. Never throws (a handler's bug becomes `-ERR INTERNAL`). */
export function dispatch(ctx: Ctx, args: Buffer[]): Reply | Plan {
  const conn = ctx.conn;
  ctx.server.stats.commandsProcessed++;
  const spec = TABLE.get(nameOf(args[0]!));
  conn.lastCommandAt = Date.now();
  if (spec === undefined) return refuse(ctx, unknownCommand(args));
  conn.lastCommand = spec.name;
  // Arity before AUTH, in Redis's order (processCommand): `GET` alone is an arity error even unauthenticated.
  if (!arityOk(spec.arity, args.length)) return reject(ctx, spec, arityError(spec.name));
  // A container's subcommand is looked up with the command, and its arity checked, as Redis's lookup does; Redis 7
  // names it in CLIENT INFO/LIST and in errors: cmd=client|info.
  if (spec.subcommands !== undefined && args.length > 1) {
    const sub = nameOf(args[1]!);
    const arity = spec.subcommands.get(sub);
    if (arity === undefined) return reject(ctx, spec, unknownSubcommand(args[1]!, spec.name));
    conn.lastCommand = `${spec.name}|${sub}`;
    if (!arityOk(arity, args.length)) return reject(ctx, spec, arityError(conn.lastCommand));
  }
  if (!conn.authenticated && !spec.noAuth) return reject(ctx, spec, NOAUTH);
  // A RESP2 connection subscribed to anything reads pushes only: Redis allows it these commands and no other.
  if (conn.protocol === 2 && conn.subscriptions.active && !SUBSCRIBED_MODE_COMMANDS.has(spec.name)) {
    return reject(ctx, spec, new ErrorReply(`ERR Can't execute '${conn.lastCommand}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`));
  }
  try {
    if (conn.multi && !spec.runsInMulti) return queue(ctx, spec, args);
    return spec.handler(ctx, args);
  } catch (err) {
    return new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A known command refused before it ran (arity, NOAUTH): EXEC's refusal discards any transaction at once, as Redis's rejectCommand does. */
function reject(ctx: Ctx, spec: CommandSpec, e: ErrorReply): ErrorReply {
  return spec.name === 'exec' ? abortExec(ctx, e) : refuse(ctx, e);
}

/** An error before the command ran: inside MULTI it also dooms the transaction (EXEC replies EXECABORT). */
function refuse(ctx: Ctx, e: ErrorReply): ErrorReply {
  if (ctx.conn.multi) ctx.conn.multi.aborted = true;
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
 * in its array as Redis does) for EXEC. Reads other than of keys' values and expiries (SCAN, KEYS, DBSIZE, INFO)
 * and FLUSHDB have no batch op, and MSETNX's all-or-nothing check would reject the whole transaction: they are refused and the transaction aborted.
 */
function queue(ctx: Ctx, spec: CommandSpec, args: Buffer[]): Reply {
  const m = ctx.conn.multi!;
  // (Un)subscribing would take effect when queued, and PUBSUB's counts be those of that moment: refused. PUBLISH is
  // queued: its message goes out once EXEC's batch is applied.
  if (spec.group === 'pubsub' && spec.name !== 'publish' && spec.name !== 'spublish') {
    return refuse(ctx, new ErrorReply(`ERR '${spec.name}' inside MULTI is not supported by threadraft (it would take effect when queued, not at EXEC)`));
  }
  const r = spec.handler(ctx, args);
  if (!isPlan(r)) m.items.push(r);
  else if (r instanceof WritePlan && !r.alone) m.items.push(r);
  else if (r instanceof KeysPlan) m.items.push(keysAsWrite(r, ctx.server.keyspace));
  else {
    // MSETNX too: its `check`s would reject the whole transaction, where Redis's MSETNX inside MULTI replies 0 alone.
    return refuse(ctx, new ErrorReply(`ERR '${spec.name}' inside MULTI is not supported by threadraft (it has no atomic batch operation)`));
  }
  return QUEUED;
}
