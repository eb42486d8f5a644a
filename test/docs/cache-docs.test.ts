// Keeps docs/cache.md honest: runs each ```js cache-example block as a module inside the package (so
// `threadraft` and `threadraft/keyv` resolve through package.json's exports, as for a user) and compares what it
// prints with the `// expected` comments beside its console.log calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Example {
  heading: string;
  source: string;
  expected: string[];
}

function examples(): Example[] {
  const doc = readFileSync(join(root, 'docs/cache.md'), 'utf8');
  const out: Example[] = [];
  let heading = '';
  const re = /^(#+ .*)$|```js cache-example\n([\s\S]*?)```/gm;
  for (let m = re.exec(doc); m !== null; m = re.exec(doc)) {
    if (m[1] !== undefined) {
      heading = m[1].replace(/^#+ /, '');
      continue;
    }
    const source = m[2]!;
    const expected = source
      .split('\n')
      .filter((l) => l.includes('console.log(') && l.includes('//'))
      .map((l) => l.slice(l.lastIndexOf('//') + 2).trim());
    out.push({ heading, source, expected });
  }
  return out;
}

const all = examples();

test('docs/cache.md has an example for each part of the cache API', () => {
  assert.ok(all.length >= 6, `found ${all.length} examples`);
  for (const e of all) assert.ok(e.expected.length > 0, `the example under "${e.heading}" checks no output`);
});

all.forEach((e, i) => {
  test(`docs/cache.md example ${i + 1} (${e.heading}) runs and prints what its comments say`, () => {
    // Inside the package: the nearest package.json is threadraft's, so its name resolves to its exports.
    const dir = join(root, '.tmp', `cache-docs-${process.pid}-${i}`);
    mkdirSync(dir, { recursive: true });
    try {
      const file = join(dir, 'example.mjs');
      writeFileSync(file, e.source);
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `example failed: ${r.stderr}`);
      const lines = r.stdout.trim().split('\n').map((l) => l.trim());
      assert.deepEqual(lines, e.expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
