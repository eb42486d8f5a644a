// Starts a cluster, writes, stops it, and leaves nothing running: the test above checks that this process exits on its own.
import { Cluster } from '../../src/index.js';

const c = await Cluster.start({ nodes: 3 });
await c.put('k', 'v');
if ((await c.get('k')) !== 'v') throw new Error('read back failed');
await c.stop();
console.log('stopped');
