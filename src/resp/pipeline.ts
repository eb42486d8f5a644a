// Sending a run of plans to the cluster together: one batch() for the write plans (bounded by maxBatchOps and
// maxBatchBytes), one getMany() for the key reads, every call started in the same event-loop turn so the
// coordinator puts them into one proposal and one read-index round. Replies land in their slots in order.
import { ClusterError, ErrorCode, type Cluster, type ReadOptions, type Value } from '../index.js';
import { batch } from './cluster-api.js';
import { clusterError } from './errors.js';
import { BATCH_OVERHEAD_BYTES, CallPlan, KeysPlan, keysAsWrite, opsBytes, opsCount, ReadPlan, WritePlan, type Plan, type RespOp } from './plan.js';
import { ErrorReply, type Reply } from './reply.js';
import type { KeyspaceNotifier } from './keyspace.js';
import type { WatchRegistry } from './watches.js';

export interface Slot {
  plan: Plan;
  /** Where the reply goes. */
  set(r: Reply): void;
  /** Keys to remember for client-side caching when it is sent (../tracking.ts; the connection does). */
  remember?: Buffer[] | undefined;
}

function safeReply(f: () => Reply): Reply {
  try {
    return f();
  } catch (err) {
    return new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: Promise<T>): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: Promise<T>) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Sets the replies of one part of a run (a batch, a call), once it has its results. */
type Answer = () => void;

/**
 * Send `slots` (all of one class: reads or writes) and resolve once every slot has its reply. The parts are sent
 * at once, and answered in slot order: a part's replies are set once the parts before it have theirs, so what
 * answering does (a PUBLISH's delivery, an EXEC's queued PUBLISH) happens in the connection's order, after the
 * writes before it are applied.
 */
export function runSegment(cluster: Cluster, read: ReadOptions, slots: Slot[], watches: WatchRegistry, keyspace: KeyspaceNotifier): Promise<unknown> {
  const calls: Array<Promise<void>> = [];
  const keyReads: Slot[] = [];
  let group: Slot[] = [];
  let ops: RespOp[] = [];
  let count = 0; // opsCount(ops)
  let bytes = 0;
  let answered: Promise<void> | undefined;
  const inOrder = (part: Promise<Answer>): void => {
    const before = answered;
    answered = before === undefined ? part.then((answer) => answer()) : Promise.all([part, before]).then(([answer]) => answer());
    calls.push(answered);
  };
  const { maxBatchOps, maxBatchBytes } = cluster.options;
  const send = (): void => {
    if (group.length > 0) inOrder(sendBatch(cluster, group, ops, keyspace));
    group = [];
    ops = [];
    count = 0;
    bytes = 0;
  };
  // The key reads of the run are one getMany() (or a few: readKeys), started once every key is known; the KeysPlans
  // with no other read between them are answered together, in their place among the run's other reads.
  let keyCount = 0;
  let values: Deferred<Array<Value | undefined>> | undefined;
  let together: Array<[Slot, number]> | undefined;
  for (const s of slots) {
    const p = s.plan;
    if (p instanceof KeysPlan) {
      keyReads.push(s);
      if (together === undefined) {
        values ??= deferred();
        const reads: Array<[Slot, number]> = (together = []);
        inOrder(values.promise.then(
          (vs) => () => {
            for (const [slot, offset] of reads) {
              const kp = slot.plan as KeysPlan;
              slot.set(safeReply(() => kp.answer(vs.slice(offset, offset + kp.keys.length), keyspace)));
            }
          },
          (err: unknown) => () => {
            const e = clusterError(err);
            for (const [slot] of reads) slot.set(e);
          },
        ));
      }
      together.push([s, keyCount]);
      keyCount += p.keys.length;
    } else if (p instanceof ReadPlan || p instanceof CallPlan) {
      together = undefined;
      send(); // a call keeps its place among the writes (FLUSHDB between two SETs)
      inOrder(p.run().then((r) => () => s.set(typeof r === 'function' ? safeReply(r) : r), (err: unknown) => () => s.set(clusterError(err))));
    } else {
      const early = p.prepare?.();
      if (early !== undefined) {
        s.set(early);
        continue;
      }
      if (p.ops.length === 0) {
        // Nothing to send (PUBLISH, an EXEC of no writes): answered at once, or after what was sent before it.
        send();
        const answer = (): void => s.set(safeReply(() => p.answer([], keyspace)));
        if (answered === undefined) answer();
        else inOrder(Promise.resolve(answer));
        continue;
      }
      const b = opsBytes(p.ops);
      const n = opsCount(p.ops);
      if (n > maxBatchOps) {
        // One command (or transaction) is one batch: atomic, so it is not split.
        s.set(new ErrorReply(`ERR INVALID_ARGUMENT this command is ${n} operations; one command or transaction is one batch of at most maxBatchOps (${maxBatchOps}): threadraft serve --max-batch-ops raises it`));
        continue;
      }
      if (p.alone || count + n > maxBatchOps || bytes + b > maxBatchBytes - BATCH_OVERHEAD_BYTES) send();
      group.push(s);
      watches.touch(p.ops); // in the order the writes are handed to the cluster: what WATCH sees (./watches.ts)
      ops.push(...p.ops);
      count += n;
      bytes += b;
      if (p.alone) send();
    }
  }
  send();
  if (values !== undefined) values.resolve(readKeys(cluster, read, keyReads));
  return Promise.all(calls);
}

/**
 * A key read that follows writes in a run, as `get` ops in the writes' batch (as inside MULTI: ./plan.ts), or
 * undefined when it would not fit in one batch (an MGET of more than maxBatchOps keys is read in parts instead).
 */
export function readAfterWrites(p: KeysPlan, cluster: Cluster, keyspace: KeyspaceNotifier): WritePlan | undefined {
  const { maxBatchOps, maxBatchBytes } = cluster.options;
  const w = keysAsWrite(p, keyspace);
  return opsCount(w.ops) <= maxBatchOps && opsBytes(w.ops) <= maxBatchBytes - BATCH_OVERHEAD_BYTES ? w : undefined;
}

/**
 * One batch for `group`'s ops; each plan's reply from its slice of the results. A batch the cluster refuses as a
 * whole (INVALID_ARGUMENT: a limit the plans did not check) is sent again plan by plan, so only the guilty
 * command gets the error.
 */
function sendBatch(cluster: Cluster, group: Slot[], ops: RespOp[], keyspace: KeyspaceNotifier): Promise<Answer> {
  // Its changes are told when answered, with the connection that made them (../tracking.ts): not as another's.
  const { tracking } = keyspace;
  return (tracking === undefined ? batch(cluster, ops) : tracking.ownWrite(ops, () => batch(cluster, ops))).then(
    (res) => () => {
      let offset = 0;
      for (const s of group) {
        const p = s.plan as WritePlan;
        const results = res.results.slice(offset, offset + p.ops.length);
        offset += p.ops.length;
        s.set(safeReply(() => p.answer(results, keyspace)));
      }
    },
    (err: unknown): Answer | Promise<Answer> => {
      if (group.length > 1 && err instanceof ClusterError && err.code === ErrorCode.INVALID_ARGUMENT) {
        return Promise.all(group.map((s) => sendBatch(cluster, [s], (s.plan as WritePlan).ops, keyspace))).then((answers) => () => {
          for (const answer of answers) answer();
        });
      }
      const e = clusterError(err);
      return () => {
        for (const s of group) s.set(e);
      };
    },
  );
}

/** The keys of a run's key reads, read by getMany() calls of at most maxBatchOps keys, each from one read state. */
function readKeys(cluster: Cluster, read: ReadOptions, slots: Slot[]): Promise<Array<Value | undefined>> {
  const keys: Buffer[] = [];
  for (const s of slots) keys.push(...(s.plan as KeysPlan).keys);
  const max = cluster.options.maxBatchOps;
  const parts: Array<Promise<Array<Value | undefined>>> = [];
  for (let i = 0; i < keys.length; i += max) parts.push(cluster.getMany(keys.slice(i, i + max), read));
  return parts.length === 1 ? parts[0]! : Promise.all(parts).then((ps) => ps.flat());
}
