// Starts a cluster, writes, stops it, and leaves nothing running: the test above checks that this process exits on its own.
// With `all-down`: every node crashes first, and a write must still be answered (NO_QUORUM at its deadline)
// before the process ends.
import { Cluster } from '../../src/index.js';

if (process.argv[2] === 'all-down') {
  const c = await Cluster.start({ nodes: 3, storage: 'memory', requestTimeoutMs: 1_000 });
  for (const id of [1, 2, 3]) await c.crash(id);
  const answer = await c.put('k', 'v').then(
    () => 'written',
    (err: { code?: string }) => `rejected ${err.code}`,
  );
  console.log(answer);
  await c.stop();
  console.log('stopped');
} else {
  const c = await Cluster.start({ nodes: 3 });
  await c.put('k', 'v');
  if ((await c.get('k')) !== 'v') throw new Error('read back failed');
  await c.stop();
  console.log('stopped');
}
