// Every cluster the benchmark starts, so that a signal can stop them before the process exits: process.exit() with
// LMDB clusters still running in worker threads can hang (seen in CI, session 5: a SIGTERM during a scenario wrote
// the partial results, then the exit waited forever on the node and pool threads).
import { rmSync } from 'node:fs';
import { Cluster, type ClusterOptions } from '../src/index.js';

const live = new Set<{ stop(): Promise<unknown> }>();

/** Remember something else that runs threads (bench/light.ts), until the returned function is called. */
export function track(running: { stop(): Promise<unknown> }): () => void {
  live.add(running);
  return () => live.delete(running);
}

/** Cluster.start, remembered until stopped. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const c = await Cluster.start(opts);
  live.add(c);
  const stop = c.stop.bind(c);
  c.stop = () => stop().finally(() => live.delete(c));
  return c;
}

/** A cluster for `f`, stopped (and its directory removed) after it, however `f` ends. */
export async function withCluster<T>(opts: ClusterOptions, f: (c: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(opts);
  try {
    return await f(cluster);
  } finally {
    await cluster.stop();
    if (opts.dir) rmSync(opts.dir, { recursive: true, force: true });
  }
}

/** Stop every cluster (and whatever else is tracked) still running (the signal path), within `timeoutMs`; resolves whether or not they all stopped. */
export async function stopAllClusters(timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.allSettled([...live].map((c) => c.stop())), timeout]);
  clearTimeout(timer);
}
