// Reading a node's LMDB state machine straight from the main thread: LMDB allows many reader
// threads on one environment, so once the leader has applied a read index, the coordinator answers
// without a hop to a worker (ARCHITECTURE.md, "Reads").
import type { Value } from '../storage/command.js';
import { LmdbStateReader } from '../storage/index.js';

export interface StateReader {
  /** A string key stands for its UTF-8 bytes. */
  get(key: string | Uint8Array): Value | undefined;
  close(): void;
}

export function openStateReader(dir: string): StateReader {
  return LmdbStateReader.open(dir);
}
