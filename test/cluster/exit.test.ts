// After stop(), nothing keeps the process alive: it exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

async function runChild(...args: string[]): Promise<{ code: number | null; out: string }> {
  const child = fileURLToPath(new URL('./exit-child.js', import.meta.url));
  const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += String(d)));
  const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out };
}

test('a process exits by itself after cluster.stop()', async () => {
  const { code, out } = await runChild();
  assert.equal(code, 0, `child exited with ${code}; output: ${out}`);
  assert.match(out, /stopped/);
});

test('with every node down, a pending write is answered (NO_QUORUM at its deadline) before the process may end', async () => {
  const { code, out } = await runChild('all-down');
  assert.equal(code, 0, `child exited with ${code} (13: a top-level await never settled); output: ${out}`);
  assert.match(out, /^rejected NO_QUORUM$/m);
  assert.match(out, /stopped/);
});
