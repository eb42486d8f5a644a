// The two cluster calls the RESP layer makes with the batch op types of issue 14 (get, check, conditional put,
// expire, persist, incr, append): kept here so that the rest of src/resp/ is written against one shape.
import type { BatchOp, BatchResult, Cluster, ReadOptions } from '../index.js';
import type { RespOp, RespOpResult } from './plan.js';

export function batch(cluster: Cluster, ops: RespOp[]): Promise<BatchResult & { results: RespOpResult[] }> {
  return cluster.batch(ops as unknown as BatchOp[]);
}

/** A key's live revision (0: absent), read with `opts`. */
export function revision(cluster: Cluster, key: Buffer, opts: ReadOptions): Promise<number> {
  const c = cluster as unknown as { revision?: (k: Buffer, o: ReadOptions) => Promise<number> };
  if (typeof c.revision !== 'function') return Promise.reject(new Error('this cluster has no revision(): WATCH is not available'));
  return c.revision(key, opts);
}
