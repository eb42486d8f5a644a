// The file descriptors left for connections. A server at its descriptor limit cannot accept: libuv accepts and
// closes at once, so the client sees its connection closed without a reply. Redis lowers maxclients at start to
// what the limit leaves (keeping 32 for itself) and says so; the RESP server does the same with a larger reserve,
// as the cluster opens files as it runs (a new node's LMDB environments, snapshot files, log files).
import { readdirSync, readFileSync } from 'node:fs';

/** Descriptors kept for the process itself beyond those open when the server starts. */
export const RESERVED_DESCRIPTORS = 64;

/** The soft limit on open files (`ulimit -n`; Node raises it to the hard limit at start), or undefined where unknown or unlimited. */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined; // no /proc: not Linux
    }
  }
  const soft = /^Max open files\s+(\d+)\s/m.exec(text)?.[1];
  return soft === undefined ? undefined : Number(soft);
}

/** Connections the descriptor limit leaves room for now (at least 1), and the limit; undefined when it is unknown. */
export function connectionRoom(): { connections: number; openFilesLimit: number } | undefined {
  const limit = openFilesLimit();
  if (limit === undefined || !Number.isSafeInteger(limit)) return undefined;
  let open: number;
  try {
    open = readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
  return { connections: Math.max(1, limit - open - RESERVED_DESCRIPTORS), openFilesLimit: limit };
}
