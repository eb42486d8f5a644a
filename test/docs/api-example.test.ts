// Keeps docs/api.md honest: runs its example against the built package and compares what it prints
// with the `// expected` comments beside each console.log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the example in docs/api.md runs and prints what its comments say', () => {
  const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
  const m = /```js example\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'docs/api.md has a ```js example block');
  const source = m[1]!;
  const expected = source
    .split('\n')
    .filter((l) => l.includes('console.log(') && l.includes('//'))
    .map((l) => l.slice(l.lastIndexOf('//') + 2).trim());
  assert.ok(expected.length >= 8);
  const entry = pathToFileURL(join(root, 'dist/src/index.js')).href;
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-doc-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, source.replaceAll("'threadraft'", `'${entry}'`));
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `example failed: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    assert.deepEqual(lines, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
