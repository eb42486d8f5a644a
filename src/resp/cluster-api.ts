// The two cluster calls the RESP layer makes with the batch op types of issue 14 (get, check, conditional put,
// expire, persist, incr, append, setrange, rename, copy) and revision(): kept here so that the rest of src/resp/ is
// written against one shape.
import type { BatchResult, Cluster, ReadOptions } from '../index.js';
import type { RespOp, RespOpResult } from './plan.js';

export function batch(cluster: Cluster, ops: RespOp[]): Promise<BatchResult & { results: RespOpResult[] }> {
  return cluster.batch(ops);
}

/** A key's live revision (0: absent), read with `opts`. */
export function revision(cluster: Cluster, key: Buffer, opts: ReadOptions): Promise<number> {
  return cluster.revision(key, opts);
}
