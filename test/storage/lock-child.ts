// Child process of lock.test.ts: opens an LMDB store, prints "locked", and holds it until killed.
// Usage: node dist/test/storage/lock-child.js <dir>   (does nothing without arguments)
import { LmdbStore } from '../../src/storage/lmdb.js';

const dir = process.argv[2];
if (dir) {
  LmdbStore.open({ dir, membership: { voters: [1] } });
  process.stdout.write('locked\n');
  setInterval(() => undefined, 1000);
}
