// threadraft/keyv: a Keyv store (Keyv's KeyvStoreAdapter) over a Cluster, so Keyv and the libraries built on it
// (cacheable, cache-manager) can use the replicated cache. Keyv prefixes keys with its namespace ('keyv:' by
// default) and serialises values itself (to strings by default), so any codec of the cluster works; Keyv also
// stores its own `expires` beside the value, and the cluster's time-to-live removes expired keys for good.
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { Cluster, Consistency, ScanRangeInput } from './index.js'; // the public declarations (dist/src/index.d.ts is one file)
import { BATCH_OVERHEAD_BYTES, OP_OVERHEAD_BYTES } from './cluster/writes.js';
import { consistencyOption, MAX_TTL_MS, optionsObject } from './cluster/cache-args.js';
import { show } from './cluster/validate.js';
import { ClusterError, ErrorCode } from './errors.js';

export interface KeyvThreadraftOptions {
  /** Of every read (default 'linearizable'); 'lease' saves the round trip, 'stale' reads the leader's state as it is. */
  consistency?: Consistency;
  /** Stop the cluster on disconnect() (default false: the cluster is the caller's). */
  stopOnDisconnect?: boolean;
}

/** Keys per call to the cluster (one batch, one read round) in getMany, deleteMany and clear, at most. */
const CHUNK = 256;

/**
 * A Keyv store over `cluster`. Keyv sets `namespace`; clear() and iterator() then touch only the keys of that
 * namespace (`<namespace>:*`), and clear() without a namespace removes every key of the cluster.
 */
export class KeyvThreadraft extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads `dialect` (and `url`) to decide whether to use iterator() (docs/cache.md, "Keyv"). */
  readonly opts: { dialect: 'threadraft'; url: string; consistency: Consistency; stopOnDisconnect: boolean; [k: string]: unknown };
  namespace?: string | undefined;

  constructor(readonly cluster: Cluster<unknown>, options: KeyvThreadraftOptions = {}) {
    super();
    // Checked here, not at the first read (where Keyv would turn it into an 'error' event and a miss).
    const o = optionsObject<KeyvThreadraftOptions>('KeyvThreadraft', options, ['consistency', 'stopOnDisconnect']);
    const consistency = consistencyOption(o.consistency, 'KeyvThreadraft: consistency');
    if (o.stopOnDisconnect !== undefined && typeof o.stopOnDisconnect !== 'boolean') {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `KeyvThreadraft: stopOnDisconnect must be true or false, got ${show(o.stopOnDisconnect)}`);
    }
    this.opts = { dialect: 'threadraft', url: 'threadraft://', consistency, stopOnDisconnect: o.stopOnDisconnect ?? false };
  }

  private get read(): { consistency: Consistency } {
    return { consistency: this.opts.consistency };
  }

  /**
   * `keys` in runs the cluster takes in one call: at most CHUNK and maxBatchOps keys, and for batches of deletes at
   * most maxBatchBytes (a cluster started with small bounds refused whole chunks, and Keyv's clear() swallowed it).
   */
  private chunks(keys: string[], deletes: boolean): string[][] {
    const { maxBatchOps, maxBatchBytes } = this.cluster.options;
    const max = Math.min(CHUNK, maxBatchOps);
    const out: string[][] = [];
    let run: string[] = [];
    let bytes = BATCH_OVERHEAD_BYTES;
    for (const key of keys) {
      const b = deletes ? Buffer.byteLength(key, 'utf8') + OP_OVERHEAD_BYTES : 0;
      if (run.length > 0 && (run.length >= max || bytes + b > maxBatchBytes)) {
        out.push(run);
        run = [];
        bytes = BATCH_OVERHEAD_BYTES;
      }
      run.push(key);
      bytes += b;
    }
    if (run.length > 0) out.push(run);
    return out;
  }

  private async deleteKeys(keys: string[]): Promise<boolean> {
    let all = true;
    for (const run of this.chunks(keys, true)) {
      const r = await this.cluster.batch(run.map((key) => ({ type: 'delete' as const, key })));
      if (!r.results.every((x) => x.existed === true)) all = false;
    }
    return all;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return (await this.cluster.get(key, this.read)) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const out: unknown[] = [];
    for (const run of this.chunks(keys, false)) out.push(...(await this.cluster.getMany(run, this.read)));
    return out as Array<StoredData<Value | undefined>>;
  }

  /**
   * `ttl` in ms (Keyv's unit); 0 or undefined: no expiry. One past the cluster's longest (100 years), Infinity
   * included, is no expiry in the cluster, as Keyv over its Map keeps such a key: Keyv's own `expires`, stored with
   * the value, still ends it. Resolves to true once the write is committed.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const ttlMs = typeof ttl === 'number' && ttl > 0 && ttl <= MAX_TTL_MS ? Math.ceil(ttl) : undefined;
    await this.cluster.put(key, value, ttlMs === undefined ? {} : { ttlMs });
    return true;
  }

  /**
   * Resolves to one boolean per entry: Keyv's setMany() hands its caller what the store returns and promises that
   * array, though its adapter type says void (which this declaration keeps).
   */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const done = await Promise.all(entries.map((e) => this.set(e.key, e.value, e.ttl)));
    return done as unknown as void;
  }

  async delete(key: string): Promise<boolean> {
    return this.cluster.delete(key);
  }

  /** Whether every key existed (Keyv's own rule for stores without deleteMany: none is true, as `[].every`). */
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.deleteKeys(keys);
  }

  async has(key: string): Promise<boolean> {
    return this.cluster.has(key, this.read);
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    const values = await this.getMany(keys);
    return values.map((v) => v !== undefined);
  }

  /** The namespace's keys (`<namespace>:` and on), or with no namespace every key: one write either way (Cluster.clear). */
  async clear(): Promise<void> {
    await this.cluster.clear(this.namespace === undefined ? undefined : { prefix: `${this.namespace}:` });
  }

  /** [key, stored value] of every key of `namespace` (every key without one), in byte order, a page at a time. */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    for await (const items of this.pages(namespace)) {
      for (const [key, value] of items) {
        if (typeof key === 'string') yield [key, value as Awaited<Value>];
      }
    }
  }

  /** The pages of one pass over `namespace`'s keys (every key without one), each after the last key of the one before. */
  private async *pages(namespace: string | undefined): AsyncGenerator<Array<[string | Uint8Array, unknown]>, void> {
    const range: ScanRangeInput = namespace === undefined ? {} : { prefix: `${namespace}:` };
    let cursor: string | undefined;
    do {
      const page = await this.cluster.scan(range, { limit: CHUNK, ...this.read, ...(cursor === undefined ? {} : { cursor }) });
      yield page.items;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  async disconnect(): Promise<void> {
    if (this.opts.stopOnDisconnect) await this.cluster.stop();
  }
}

export default KeyvThreadraft;
