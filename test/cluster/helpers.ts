import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from '../../src/index.js';

/** A temporary directory removed when `fn` settles. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start a cluster in a temporary directory, run `fn`, always stop it and remove the directory. */
export async function withCluster<T>(opts: ClusterOptions, fn: (c: Cluster, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const c = await Cluster.start({ dir, ...opts });
    try {
      return await fn(c, dir);
    } finally {
      await c.stop();
    }
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function key(i: number): string {
  return `k${String(i).padStart(6, '0')}`;
}
