// Shared helpers for the storage tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import type { Entry } from '../../src/raft/types.js';
import type { Command, Op, Value } from '../../src/storage/command.js';
import { StorageError } from '../../src/storage/errors.js';

export const enc = new TextEncoder();
export const k = (s: string): Uint8Array => enc.encode(s);

export function tempDir(prefix = 'threadraft-storage-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function noop(index: number, term = 1): Entry {
  return { index, term, type: 1, data: new Uint8Array(0) };
}

/** A Normal entry whose payload is some bytes (not a command: the log does not care). */
export function raw(index: number, term = 1, size = 16): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { index, term, type: 0, data };
}

export function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(raw(i, term));
  return out;
}

export function cmd(client: number, seq: number, ops: Op[], floor = 0): Command {
  return { client, seq, floor, ops };
}

export function cmdEntry(index: number, cmds: Command[], term = 1): Entry {
  return { index, term, type: 0, data: pack(cmds) };
}

export const put = (key: string, value: Value): Op => ({ t: 'put', key: k(key), value });
export const del = (key: string): Op => ({ t: 'del', key: k(key) });
export const cas = (key: string, expected: Value | null, value: Value | null): Op => ({ t: 'cas', key: k(key), expected, value });

/** Assert that `p` rejects with a StorageError (the class itself, rebuilt across threads) of `code`. */
export async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<StorageError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (!(err instanceof StorageError)) throw new Error(`expected StorageError ${code}, got ${String(err)}`);
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  throw new Error(`expected StorageError ${code}, but it resolved`);
}

export function terms(es: Entry[]): number[] {
  return es.map((e) => e.term);
}

export function indexes(es: Entry[]): number[] {
  return es.map((e) => e.index);
}
