// MULTI/EXEC/DISCARD and WATCH/UNWATCH. A transaction is one batch(): its commands' ops in order, behind a
// `check` of each watched key's revision (read at WATCH time), so it applies atomically or, when a watched key
// changed, not at all (EXEC replies a null array). Commands are compiled when queued (the dispatcher turns each
// into a plan or a reply, see ../dispatch.ts); EXEC sends them.
import { command, type CommandSpec } from '../command.js';
import { revision } from '../cluster-api.js';
import type { Ctx, WatchEntry } from '../context.js';
import { clusterError, EXECABORT } from '../errors.js';
import { ReadPlan, WritePlan, type RespOp } from '../plan.js';
import { ErrorReply, NULL_ARRAY, OK, type Reply } from '../reply.js';
import { keysError } from '../args.js';

function multi(ctx: Ctx): Reply {
  if (ctx.conn.multi) return new ErrorReply('ERR MULTI calls can not be nested');
  ctx.conn.multi = { items: [], aborted: false };
  return OK;
}

function discard(ctx: Ctx): Reply {
  if (!ctx.conn.multi) return new ErrorReply('ERR DISCARD without MULTI');
  ctx.conn.multi = null;
  ctx.conn.watched = new Map();
  return OK;
}

function exec(ctx: Ctx): Reply | WritePlan {
  const m = ctx.conn.multi;
  if (!m) return new ErrorReply('ERR EXEC without MULTI');
  const watched = [...ctx.conn.watched.values()];
  ctx.conn.multi = null;
  ctx.conn.watched = new Map();
  if (m.aborted) return EXECABORT;
  const plans = m.items.filter((i): i is WritePlan => i instanceof WritePlan);
  if (plans.length === 0 && watched.length === 0) return m.items as Reply[];
  let checks = 0;
  const plan = new WritePlan(
    [],
    (rs) => {
      if (rs.slice(0, checks).some((r) => !r.ok)) return NULL_ARRAY;
      let offset = checks;
      return m.items.map((item) => {
        if (!(item instanceof WritePlan)) return item;
        const mine = rs.slice(offset, offset + item.ops.length);
        offset += item.ops.length;
        return item.reply(mine);
      });
    },
    true,
    // Sent only after the WATCH reads before it were answered (they are reads, EXEC a write: ../pipeline.ts).
    () => {
      if (watched.some((w) => w.revision === undefined)) return NULL_ARRAY;
      const ops: RespOp[] = watched.map((w) => ({ type: 'check', key: w.key, revision: w.revision! }));
      checks = ops.length;
      for (const p of plans) ops.push(...p.ops);
      plan.ops = ops;
      return undefined;
    },
  );
  return plan;
}

function watch(ctx: Ctx, args: Buffer[]): Reply | ReadPlan {
  if (ctx.conn.multi) return new ErrorReply('ERR WATCH inside MULTI is not allowed');
  const keys = args.slice(1);
  const bad = keysError(keys);
  if (bad) return bad;
  const entries: WatchEntry[] = keys.map((key) => {
    const id = key.toString('latin1');
    // A copy: the argument is a view of a socket chunk, and a watched key may stay for a long time.
    const e = ctx.conn.watched.get(id) ?? { key: Buffer.from(key), revision: undefined };
    ctx.conn.watched.set(id, e);
    return e;
  });
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

function unwatch(ctx: Ctx): Reply {
  ctx.conn.watched = new Map();
  return OK;
}

const F = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

export const TRANSACTION_COMMANDS: CommandSpec[] = [
  command('multi', 1, F, 'transactions', 'Starts a transaction.', multi, { since: '1.2.0', runsInMulti: true }),
  command('exec', 1, ['noscript', 'loading', 'stale', 'skip_slowlog'], 'transactions', 'Executes all commands in a transaction.', exec, { since: '1.2.0', runsInMulti: true }),
  command('discard', 1, F, 'transactions', 'Discards a transaction.', discard, { since: '2.0.0', runsInMulti: true }),
  command('watch', -2, F, 'transactions', 'Monitors changes to keys to determine the execution of a transaction.', watch, { keys: [1, -1, 1], since: '2.2.0', runsInMulti: true }),
  command('unwatch', 1, F, 'transactions', 'Forgets about watched keys of a transaction.', unwatch, { since: '2.2.0' }),
];
