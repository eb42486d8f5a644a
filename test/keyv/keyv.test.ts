// Keyv's own conformance tests (@keyv/test-suite: API, values, namespaces, iterator) against the threadraft/keyv
// store over one 3-node memory-storage cluster, under node:test through a vitest shim.
import { after, before, describe } from 'node:test';
import Keyv from 'keyv';
import { keyvApiTests, keyvIteratorTests, keyvNamespaceTest, keyvValueTests } from '@keyv/test-suite';
import { Cluster } from '../../src/index.js';
import { KeyvThreadraft } from '../../src/keyv.js';
import { vitestShim } from './vitest-shim.js';

type Suite = typeof keyvApiTests;
type VitestLike = Parameters<Suite>[0];

let cluster: Cluster | undefined;

before(async () => {
  cluster = await Cluster.start({ nodes: 3, storage: 'memory', pool: 'inline' });
});

after(async () => {
  await cluster?.stop();
});

/** A new store per call (Keyv sets the store's namespace), all over the one cluster. */
const store = (): KeyvThreadraft => new KeyvThreadraft(cluster!);

/**
 * Keyv 5 uses a store's iterator() only for the dialects it lists (sqlite, redis, etcd, ...); this Keyv wires
 * ours as docs/cache.md shows.
 */
class KeyvWithIterator extends Keyv {
  constructor(options?: ConstructorParameters<typeof Keyv>[0]) {
    super(options);
    const s = this.store as unknown;
    if (s instanceof KeyvThreadraft) this.iterator = this.generateIterator(s.iterator.bind(s));
  }
}

const shim = vitestShim as unknown as VitestLike;
const K = KeyvWithIterator as unknown as typeof Keyv;

describe('keyv api', () => keyvApiTests(shim, K, store));
describe('keyv values', () => keyvValueTests(shim, K, store));
describe('keyv namespaces', () => keyvNamespaceTest(shim, K, store));
describe('keyv iterator', () => keyvIteratorTests(shim, K, store));
