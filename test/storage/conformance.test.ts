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
  describe(`storage conformance: ${config.name}`, () => {
    for (const kase of [...cases, ...cacheCases]) {
      const skip = kase.durable && config.kind === 'memory' ? 'memory storage is not durable' : false;
      it(kase.name, { skip, timeout: 30_000 }, () => runCase(config, kase));
    }
  });
}
