// Child process of rebuild.test.ts: writes a log, applies part of it, purges (which takes a checkpoint of
// the state), applies the rest, and exits WITHOUT closing the store: an unclean stop, as a crash leaves it.
// Usage: node dist/test/storage/rebuild-child.js <dir>   (does nothing without arguments)
import { LmdbStore } from '../../src/storage/lmdb.js';
import { cmd, cmdEntry, put } from './helpers.js';

export const REBUILD = { entries: 10, checkpointAt: 6, purgeTo: 5 } as const;

export function rebuildEntry(i: number): ReturnType<typeof cmdEntry> {
  return cmdEntry(i, [cmd(7, i, [put(`k${i}`, `v${i}`)])]);
}

function main(dir: string): void {
  const s = LmdbStore.open({ dir, membership: { voters: [1] } });
  const all = Array.from({ length: REBUILD.entries }, (_, i) => rebuildEntry(i + 1));
  s.write({ entries: all, apply: [] });
  s.write({ entries: [], apply: all.slice(0, REBUILD.checkpointAt), purgeTo: { index: REBUILD.purgeTo, term: 1 } });
  s.write({ entries: [], apply: all.slice(REBUILD.checkpointAt) });
  process.stdout.write('done\n');
  process.exit(0); // no close(): the state is left "open" on this boot
}

const dir = process.argv[2];
if (dir !== undefined && process.argv[1]?.endsWith('rebuild-child.js')) main(dir);
