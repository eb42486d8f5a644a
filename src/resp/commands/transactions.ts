// MULTI/EXEC/DISCARD and WATCH/UNWATCH. A transaction is one batch(): its commands' ops in order, behind a
// `check` of each watched key's revision (read at WATCH time), so it applies atomically or, when a watched key
// changed or was written through this server since WATCH (../watches.ts), not at all (EXEC replies a null array).
// Commands are compiled when queued (the dispatcher turns each into a plan or a reply, see ../dispatch.ts); EXEC
// sends them.
import { command, keySpec, type CommandSpec } from '../command.js';
import { revision } from '../cluster-api.js';
import type { Ctx } from '../context.js';
import { WatchSet, type WatchEntry } from '../watches.js';
import { clusterError, EXECABORT } from '../errors.js';
import { ReadPlan, WritePlan, writtenKeys, type RespOp } from '../plan.js';
import { ErrorReply, NULL_ARRAY, OK, type Reply } from '../reply.js';
import { keysError } from '../args.js';
import { execScripts, type ScriptPlan } from './scripting.js';

function multi(ctx: Ctx): Reply {
  if (ctx.conn.multi) return new ErrorReply('ERR MULTI calls can not be nested');
  ctx.conn.multi = { items: [], aborted: false, reads: [], writes: false, names: [], args: [], script: undefined, whole: undefined };
  return OK;
}

/** The connection's watched keys end (EXEC, DISCARD, UNWATCH): released, and a new empty set for the next WATCH. */
function takeWatched(ctx: Ctx): WatchSet {
  const set = ctx.conn.watched;
  ctx.conn.watched = new WatchSet(ctx.conn.id);
  return set;
}

/** The connection watches nothing any more (DISCARD, UNWATCH, RESET, an EXEC refused). */
export function unwatchAll(ctx: Ctx): void {
  ctx.server.watches.release(takeWatched(ctx));
}

function discard(ctx: Ctx): Reply {
  if (!ctx.conn.multi) return new ErrorReply('ERR DISCARD without MULTI');
  ctx.conn.multi = null;
  unwatchAll(ctx);
  return OK;
}

function exec(ctx: Ctx): Reply | WritePlan | ScriptPlan {
  const m = ctx.conn.multi;
  if (!m) return new ErrorReply('ERR EXEC without MULTI');
  const { watches } = ctx.server;
  const set = takeWatched(ctx);
  ctx.conn.multi = null;
  if (m.aborted) {
    watches.release(set);
    return EXECABORT;
  }
  if (m.script !== undefined) return execScripts(ctx, m, set);
  const items = m.items as Array<WritePlan | Reply>; // no script among them
  const { tracking } = ctx.server;
  const conn = ctx.conn;
  const tracked = tracking.wants(conn); // CLIENT CACHING: as of EXEC
  const reads = tracked ? sentReads(items, m.reads) : [];
  const plans = items.filter((i): i is WritePlan => i instanceof WritePlan);
  for (const p of plans) p.by = conn.id;
  if (plans.length === 0 && set.size === 0) {
    tracking.add(conn, reads);
    return items as Reply[];
  }
  let checks = 0;
  const plan = new WritePlan(
    [],
    (rs) => {
      if (rs.slice(0, checks).some((r) => !r.ok)) return NULL_ARRAY;
      let offset = checks;
      return items.map((item) => {
        if (!(item instanceof WritePlan)) return item;
        const mine = rs.slice(offset, offset + item.ops.length);
        offset += item.ops.length;
        const reply = item.answer(mine, ctx.server.keyspace, true);
        // Remembered (again) as Redis runs it: after the writes before it in the transaction.
        if (item.reads !== undefined && tracked) tracking.add(conn, item.reads);
        return reply;
      });
    },
    true,
    // When the batch is handed to the cluster: a write sent for a watched key before it aborts it (../watches.ts);
    // the WATCH reads before it were answered (they are reads, EXEC a write: ../pipeline.ts).
    () => {
      watches.release(set);
      const watched = [...set.entries.values()];
      if (set.dirty || watched.some((w) => w.revision === undefined)) return NULL_ARRAY;
      tracking.add(conn, reads);
      const ops: RespOp[] = watched.map((w) => ({ type: 'check', key: w.key, revision: w.revision! }));
      checks = ops.length;
      for (const p of plans) ops.push(...p.ops);
      plan.ops = ops;
      return undefined;
    },
  );
  plan.events = 'none';
  // Sent once the connection's earlier writes are answered (../connection.ts), so they do not tell its reads changed.
  if (reads.length > 0) plan.reads = reads;
  return plan;
}

/**
 * The keys of a transaction's reads that client-side caching remembers when EXEC is sent: a read's, unless a write
 * before it in the transaction changes the key (EXEC remembers that one as it answers the read, as Redis runs them:
 * its own write does not tell it changed), and those of reads answered when queued.
 */
function sentReads(items: ReadonlyArray<WritePlan | Reply>, answered: Buffer[]): Buffer[] {
  const reads = [...answered];
  const written = new Set<string>();
  let cleared = false; // FLUSHDB: every key is written
  for (const item of items) {
    if (!(item instanceof WritePlan)) continue;
    if (!cleared) for (const k of item.reads ?? []) if (!written.has(k.toString('latin1'))) reads.push(k);
    for (const op of item.ops) {
      const keys = writtenKeys(op);
      if (keys === 'all') cleared = true;
      else for (const k of keys) written.add(k.toString('latin1'));
    }
  }
  return reads;
}

function watch(ctx: Ctx, args: Buffer[]): Reply | ReadPlan {
  if (ctx.conn.multi) return new ErrorReply('ERR WATCH inside MULTI is not allowed');
  const keys = args.slice(1);
  const bad = keysError(keys);
  if (bad) return bad;
  const set = ctx.conn.watched;
  const entries: WatchEntry[] = keys.map((key) => ctx.server.watches.watch(set, key.toString('latin1'), key));
  const { cluster } = ctx.server;
  const opts = ctx.conn.readOptions;
  return new ReadPlan(async () => {
    try {
      const revs = await Promise.all(entries.map((e) => revision(cluster, e.key, opts)));
      // A key watched twice keeps its first revision: a change between the two WATCHes must still abort EXEC.
      entries.forEach((e, i) => {
        if (e.revision === undefined) e.revision = revs[i]!;
      });
      return OK;
    } catch (err) {
      return clusterError(err); // the entries stay without a revision: EXEC will abort
    }
  });
}

/** Inside MULTI it is queued and does nothing (EXEC unwatches anyway), as on Redis: the WATCH before MULTI holds. */
function unwatch(ctx: Ctx): Reply {
  if (!ctx.conn.multi) unwatchAll(ctx);
  return OK;
}

const F = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

export const TRANSACTION_COMMANDS: CommandSpec[] = [
  command('multi', 1, F, 'transactions', 'Starts a transaction.', multi, { since: '1.2.0', runsInMulti: true }),
  command('exec', 1, ['noscript', 'loading', 'stale', 'skip_slowlog'], 'transactions', 'Executes all commands in a transaction.', exec, { since: '1.2.0', runsInMulti: true }),
  command('discard', 1, F, 'transactions', 'Discards a transaction.', discard, { since: '2.0.0', runsInMulti: true }),
  command('watch', -2, F, 'transactions', 'Monitors changes to keys to determine the execution of a transaction.', watch, { keys: [keySpec('RO', 1, -1)], since: '2.2.0', runsInMulti: true }),
  command('unwatch', 1, F, 'transactions', 'Forgets about watched keys of a transaction.', unwatch, { since: '2.2.0' }),
];
