// After stop(), nothing keeps the process alive: it exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('a process exits by itself after cluster.stop()', async () => {
  const child = fileURLToPath(new URL('./exit-child.js', import.meta.url));
  const p = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += String(d)));
  const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `child exited with ${code}; output: ${out}`);
  assert.match(out, /stopped/);
});
