// The conformance suite, run through the adaptors against each implementation and bridge.
import { describe, it } from 'node:test';
import { cacheCases } from './cache-cases.js';
import { cases, runCase, type SuiteConfig } from './suite.js';

const configs: SuiteConfig[] = [
  { name: 'lmdb via piscina (pack)', kind: 'lmdb', pool: 'piscina', transfer: 'pack' },
  { name: 'lmdb via piscina (clone, the default)', kind: 'lmdb', pool: 'piscina' },
  { name: 'lmdb inline', kind: 'lmdb', pool: 'inline' },
  { name: 'memory inline', kind: 'memory', pool: 'inline' },
];

for (const config of configs) {
  // Each case opens its own store; through piscina that is a new pool thread loading lmdb (most of a case's
  // 0.2 s), so those cases run 4 at a time: each has its own directory, store and pool.
  describe(`storage conformance: ${config.name}`, { concurrency: config.pool === 'piscina' ? 4 : 1 }, () => {
    for (const kase of [...cases, ...cacheCases]) {
      const skip = kase.durable && config.kind === 'memory' ? 'memory storage is not durable' : false;
      it(kase.name, { skip, timeout: 30_000 }, () => runCase(config, kase));
    }
  });
}
