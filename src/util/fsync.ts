// Making a directory's entries durable: a file created, renamed or removed in it survives a power loss only once
// the directory itself is synced (fsync(2) on a descriptor of the directory).
import { closeSync, fsyncSync, openSync } from 'node:fs';

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
