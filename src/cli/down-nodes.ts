// `threadraft serve` says which nodes are down: at start (a node whose store is damaged stays down while a majority
// serves, docs/storage.md "Damaged files") and whenever one goes down while serving (its thread crashed, a storage
// error), with the node's error.
import type { Cluster } from '../index.js';

/** How often the nodes are looked at. */
export const DOWN_CHECK_MS = 1_000;

/**
 * Call `write('node N is down: <its error>')` for each node down now, then for each that goes down later (a node
 * back up is reported again if it goes down again). The timer does not keep the process alive; the result stops it.
 */
export function reportDownNodes(cluster: Cluster, write: (line: string) => void, everyMs = DOWN_CHECK_MS): () => void {
  const reported = new Set<number>();
  const check = (): void => {
    if (cluster.isStopped) return; // stopping: every node goes down
    const members = cluster.members();
    for (const m of members) if (m.alive) reported.delete(m.id);
    const down = members.filter((m) => !m.alive && !reported.has(m.id));
    if (down.length === 0) return;
    for (const m of down) reported.add(m.id);
    void cluster.status().then((status) => {
      if (cluster.isStopped) return;
      for (const m of down) write(`node ${m.id} is down: ${(status.find((s) => s.id === m.id)?.error ?? 'no error recorded').split('\n')[0]}`);
    }, () => undefined); // the cluster is stopping
  };
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
