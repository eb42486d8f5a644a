// The RESP benchmark harness (bench/resp.ts): its parsers, and smoke runs of the suite's `resp` scenario
// with a tiny -n against Redis (skipped when redis-server or redis-benchmark is missing) and against a
// stand-in for `threadraft serve`. Each run gets its own TMPDIR, and the test checks that no directory is
// left in it and no process is left running in it (redis-server and the stand-in chdir there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchRespReport, defaultRespOptions } from '../../bench/resp.js';
import { parseCsv, runGenerator } from '../../bench/resp-load.js';
import { ReplyReader, RespError } from '../../bench/resp-proto.js';
import type { Results } from '../../bench/report/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'bench', 'cli.js');
const FAKE_SERVE = join(here, 'fake-serve.js');
const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const haveRedis = onPath('redis-server') && onPath('redis-benchmark');
const NO_REDIS = 'redis-server or redis-benchmark is not installed (Debian: apt-get install redis-server redis-tools)';

test('parseCsv reads redis-benchmark 7 --csv by its header, and 6.x (test and rps only) with NaN latencies', () => {
  const v7 = parseCsv('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"\n"SET","66666.67","0.041","0.016","0.039","0.063","0.095","0.199"\n"GET","60606.06","0.045","0.016","0.039","0.063","0.087","3.087"\n');
  assert.deepEqual(v7[0], { test: 'SET', rps: 66666.67, avgMs: 0.041, minMs: 0.016, p50Ms: 0.039, p95Ms: 0.063, p99Ms: 0.095, maxMs: 0.199 });
  assert.equal(v7[1]?.p99Ms, 0.087);
  const v6 = parseCsv('"SET","12345.00"\r\n"GET","23456.00"\r\n');
  assert.equal(v6[1]?.rps, 23456);
  assert.ok(Number.isNaN(v6[1]?.p50Ms));
});

test('resp-load measures a round that outlasts the whole duration: the window runs to the last reply', async () => {
  // A server that answers every chunk 250 ms late, with one +OK per command (SET, then WAIT).
  const server = createServer((sock) => {
    sock.on('data', (c: Buffer) => {
      const n = c.toString('latin1').split('\r\n').filter((l) => /^\*\d+$/.test(l)).length;
      setTimeout(() => sock.destroyed || sock.write('+OK\r\n'.repeat(n)), 250);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const r = await runGenerator({ port, mode: 'set-wait', connections: 2, pipeline: 3, durationMs: 100, warmupMs: 10, keyspace: 10, valueSize: 8, waitReplicas: 1, seed: 1 });
    assert.equal(r.errors, 0);
    assert.equal(r.ops, 6, 'one round of 3 operations per connection, answered after the duration');
    assert.ok(r.durationMs >= 230 && r.durationMs < 1000, `window ${r.durationMs} ms`);
    assert.ok(Math.abs(r.opsPerSec - r.ops / (r.durationMs / 1000)) < 1e-9);
    assert.equal(r.histogram.count, r.ops);
    assert.ok(r.histogram.summary().p50 >= 240, 'latency is from sending to the WAIT reply');
  } finally {
    server.close();
  }
});

test('ReplyReader returns only complete replies and keeps a partial one for the next chunk', () => {
  const r = new ReplyReader();
  const bytes = Buffer.from('+OK\r\n:1\r\n$5\r\nhello\r\n-ERR no\r\n*2\r\n$1\r\na\r\n$-1\r\n');
  const got = [...r.push(bytes.subarray(0, 14)), ...r.push(bytes.subarray(14, 20)), ...r.push(bytes.subarray(20))];
  assert.deepEqual(got.slice(0, 3), ['OK', 1, 'hello']);
  assert.ok(got[3] instanceof RespError && got[3].message === 'ERR no');
  assert.deepEqual(got[4], ['a', null]);
  assert.equal(got.length, 5);
});

/** Directories left in `tmp` (other than `keep`) and processes whose working directory is inside it. */
function leftovers(tmp: string, keep: string[]): string[] {
  const left = readdirSync(tmp).filter((d) => !keep.includes(d));
  if (existsSync('/proc/self/cwd')) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (readlinkSync(`/proc/${pid}/cwd`).startsWith(tmp)) left.push(`process ${pid}`);
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return left;
}

interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The suite's CLI in a fresh TMPDIR; `onLine` may act on its output (e.g. interrupt it). */
function runCli(tmp: string, args: string[], timeoutMs: number, onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`cli did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    p.stdout.on('data', (c: Buffer) => {
      const text = c.toString();
      stdout += text;
      for (const l of text.split('\n')) onLine?.(l, (sig) => p.kill(sig));
    });
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('resp: a target whose server is not built is reported as such, and the run still succeeds', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resp-test-'));
  try {
    const r = await runCli(tmp, ['--scenarios', 'resp', '--resp-targets', 'threadraft', '--resp-server', join(tmp, 'missing.js'), '--out', join(tmp, 'out')], 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /threadraft serve: not built/);
    const results = JSON.parse(readFileSync(join(tmp, 'out', 'results.json'), 'utf8')) as Results;
    assert.ok(results.notes.some((n) => /threadraft serve: not built/.test(n)));
    assert.deepEqual(leftovers(tmp, ['out']), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('benchRespReport (the function behind the resp scenario) measures a server and writes results.json', { skip: onPath('redis-benchmark') ? false : NO_REDIS }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resp-test-'));
  try {
    const lines: string[] = [];
    const o = defaultRespOptions({ targets: ['threadraft'], serverScript: FAKE_SERVE, requests: 200, durationS: 0.2, keyspace: 50, log: (l) => lines.push(l) });
    const run = await benchRespReport(o, join(tmp, 'out'), 'test');
    assert.equal(run.rows.length, 8, lines.join('\n'));
    assert.deepEqual(run.failures, []);
    const results = JSON.parse(readFileSync(join(tmp, 'out', 'results.json'), 'utf8')) as Results;
    assert.equal(results.scenarios.length, 8);
    assert.ok(results.scenarios.every((s) => s.opsPerSec > 0));
    assert.ok(existsSync(join(tmp, 'out', 'report.html')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('resp: rows are measured and parsed against Redis (AOF, 2 replicas + WAIT) and a stand-in server; the ratios are computed', { skip: haveRedis ? false : NO_REDIS }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resp-test-'));
  try {
    const args = ['--resp', '--resp-targets', 'threadraft,redis-aof,redis-replicas', '--resp-server', FAKE_SERVE, '--ops', '200', '--duration', '0.3', '--keys', '100', '--out', join(tmp, 'out')];
    const r = await runCli(tmp, args, 60_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(join(tmp, 'out', 'results.json'), 'utf8')) as Results;
    const rows = results.scenarios.filter((s) => s.name.startsWith('resp: '));
    const byTarget = (t: string): typeof rows => rows.filter((s) => s.params.target === t);
    const notes = `\n${results.notes.join('\n')}`;
    assert.equal(byTarget('redis-aof').length, 8, `redis-benchmark SET and GET at 3 shapes, resp-load SET at 2${notes}`);
    assert.equal(byTarget('redis-replicas').filter((s) => s.params.test === 'SET+WAIT').length, 3, notes);
    assert.equal(byTarget('threadraft').length, 8, notes);
    for (const s of rows) {
      assert.ok(s.opsPerSec > 0, `${s.name}: ${s.opsPerSec} ops/s`);
      assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50, `${s.name}: p50 ${s.latencyMs.p50}, p99 ${s.latencyMs.p99}`);
      assert.match(String(s.params.command), /^(redis-benchmark|resp-load) /);
      assert.equal(s.errors, 0, s.name);
    }
    // The redis-benchmark rows used the -n given, raised to 4 pipelines per connection.
    for (const s of rows.filter((x) => x.params.tool === 'redis-benchmark')) {
      const n = Math.max(200, 4 * Number(s.params.connections) * Number(s.params.pipeline));
      assert.ok(s.ops === n && String(s.params.command).includes(` -n ${n} `), `${s.name}: ${String(s.params.command)}`);
    }
    assert.ok(results.notes.some((n) => /durable SET at 64 connections: threadraft ÷ Redis \+ 2 replicas, AOF always, WAIT 1: \d+\.\d\d×/.test(n)), results.notes.join('\n'));
    assert.ok(results.notes.some((n) => /linearizable GET at 64 connections, -P 16: threadraft: [\d,]+ ops\/s/.test(n)));
    assert.match(r.stdout, /RESP: threadraft behind redis-benchmark, beside Redis/);
    assert.deepEqual(leftovers(tmp, ['out']), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('resp: SIGINT during a run stops every server it started and removes their directories', { skip: haveRedis ? false : NO_REDIS }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resp-test-'));
  try {
    let sent = false;
    const r = await runCli(tmp, ['--resp', '--resp-targets', 'redis-replicas', '--duration', '60', '--out', join(tmp, 'out')], 30_000, (line, kill) => {
      if (!sent && /SET \+ WAIT 1 0 -c 1$/.test(line)) {
        sent = true;
        setTimeout(() => kill('SIGINT'), 300);
      }
    });
    assert.ok(sent, `the load never started:\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    // The servers were SIGKILLed by the harness on its way out: give the kernel a moment to reap them.
    let left = leftovers(tmp, ['out']);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      left = leftovers(tmp, ['out']);
    }
    assert.deepEqual(left, []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
