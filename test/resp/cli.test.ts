// `threadraft serve` as a process, driven by redis-cli and redis-benchmark (Debian package redis-tools; skipped with
// a message when they are not installed): the port printed, commands, --pipe, RESP3 (-3), SCAN, a short
// redis-benchmark run; SIGTERM stops it cleanly and removes its temporary directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Cluster } from '../../src/index.js';
import { DATA_FILE } from '../../src/storage/lmdb.js';
import { encode, endsWith, raw, type Raw } from './helpers.js';

const run = promisify(execFile);
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'threadraft.js');

function installed(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

interface Serving {
  child: ChildProcess;
  port: number;
  dir: string;
  exited: Promise<number | null>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/** `threadraft serve` on a free port (under `ulimit -n openFiles` if given); resolves once it printed where it listens. */
function startServe(args: string[], openFiles?: number): Promise<Serving> {
  return new Promise((resolve, reject) => {
    const argv = [CLI, 'serve', '--port', '0', ...args];
    const child = openFiles === undefined
      ? spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const dir = /, (\/\S+)\n/.exec(out);
      if (m && dir) resolve({ child, port: Number(m[1]), dir: dir[1]!, exited, stderr: () => err });
    });
    void exited.then((code) => reject(new Error(`threadraft serve exited (${code}) before listening: ${out}${err}`)));
    setTimeout(() => reject(new Error(`threadraft serve did not listen within 20 s: ${out}${err}`)), 20_000).unref();
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

test('threadraft --version and --help; an unknown command fails with a message', async () => {
  const { stdout } = await run(process.execPath, [CLI, '--version']);
  assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await run(process.execPath, [CLI, '--help']);
  assert.match(help.stdout, /serve .*bench .*chaos .*sim/s);
  const serveHelp = await run(process.execPath, [CLI, 'serve', '--help']);
  assert.match(serveHelp.stdout, /--requirepass/);
  await assert.rejects(run(process.execPath, [CLI, 'nope']), /unknown command nope/);
  const bench = await run(process.execPath, [CLI, 'bench', '--help']);
  assert.match(bench.stdout, /threadraft bench: a real in-process Raft cluster/, 'bench passes its arguments through to dist/bench/cli.js');
});

test('threadraft serve on a port in use: exits 1 naming the port, and leaves no directory behind', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'threadraft-inuse-'));
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  try {
    const port = (taken.address() as AddressInfo).port;
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--nodes', '1'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1, err);
    assert.equal(err, `threadraft: 127.0.0.1:${port} is in use (EADDRINUSE): choose another --port, or --port 0 for any free one\n`);
    assert.deepEqual(readdirSync(tmp), [], 'the cluster it started was stopped and its temporary directory removed');
  } finally {
    taken.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('threadraft serve with a --logfile it cannot open: exits 1 saying so, as Redis will not start, and leaves no directory behind', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'threadraft-logfile-'));
  try {
    writeFileSync(join(tmp, 'a-file'), '');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--nodes', '1', '--storage', 'memory', '--logfile', join(tmp, 'a-file', 'server.log')], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1, err);
    assert.match(err, /^threadraft: INVALID_ARGUMENT: logFile ".*a-file\/server\.log" cannot be opened: /);
    assert.deepEqual(readdirSync(tmp), ['a-file'], 'the cluster it started was stopped and its temporary directory removed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('threadraft serve driven by redis-cli and redis-benchmark; SIGTERM stops it and removes its directory', async (t) => {
  if (!installed('redis-cli')) {
    t.skip('redis-cli is not installed (Debian package redis-tools; .ci/run installs it)');
    return;
  }
  const s = await startServe(['--nodes', '3', '--storage', 'lmdb', '--no-sync']);
  try {
    assert.ok(existsSync(s.dir));
    assert.equal(await cli(s.port, 'PING'), 'PONG\n');
    assert.equal(await cli(s.port, 'SET', 'cli:a', 'hello world'), 'OK\n');
    assert.equal(await cli(s.port, 'GET', 'cli:a'), 'hello world\n');
    assert.equal(await cli(s.port, 'INCRBY', 'cli:n', '5'), '5\n');
    assert.equal(await cli(s.port, '-3', 'GET', 'cli:none'), '\n');
    assert.match(await cli(s.port, 'FOO'), /ERR unknown command 'FOO', with args beginning with:/);
    // `help <command>`, built from COMMAND DOCS: the arguments (what its hints show while typing), summary and group.
    const help = await cli(s.port, 'help', 'set');
    assert.ok(help.includes('key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]'), help);
    assert.match(help, /summary:.* Sets the string value of a key/);
    assert.ok((await cli(s.port, 'help', 'client', 'kill')).includes('[ID client-id]'));
    // --pipe: mass insertion of inline commands; redis-cli ends it with an ECHO of a random marker.
    const lines = Array.from({ length: 500 }, (_, i) => `SET cli:p${i} v${i}\r\n`).join('');
    const pipe = spawnSync('redis-cli', ['-p', String(s.port), '--pipe'], { input: lines, timeout: 10_000 });
    assert.match(pipe.stdout.toString(), /errors: 0, replies: 500/);
    const scanned = (await cli(s.port, '--scan', '--pattern', 'cli:p1*')).trim().split('\n').sort();
    assert.equal(scanned.length, 111); // p1, p10-p19, p100-p199
    assert.match(await cli(s.port, 'INFO', 'replication'), /raft_nodes:3/);
    assert.equal(await cli(s.port, 'DBSIZE'), '502\n');
    // LMDB without sync: the log is kept, not synced per write.
    assert.equal(await cli(s.port, 'CONFIG', 'GET', 'append*'), 'appendonly\nyes\nappendfsync\nno\n');
    if (installed('redis-benchmark')) {
      const { stdout, stderr } = await run('redis-benchmark', ['-p', String(s.port), '-t', 'set,get', '-n', '2000', '-c', '8', '-P', '4', '-q'], { timeout: 30_000 });
      assert.match(stdout, /SET: [\d.]+ requests per second/);
      assert.match(stdout, /GET: [\d.]+ requests per second/);
      // It asks CONFIG GET save and appendonly first, and warns when it cannot.
      assert.doesNotMatch(stdout + stderr, /Could not fetch server CONFIG/);
    } else {
      t.diagnostic('redis-benchmark is not installed: not run');
    }
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
  assert.equal(existsSync(s.dir), false, 'the temporary directory is removed on exit');
});

test('threadraft serve as a bounded cache (--max-keys, --max-bytes, --max-value-bytes, --max-batch-ops), its latency monitor on from the start; SHUTDOWN (after the writes pipelined before it) stops it as SIGTERM does: exit 0, its directory removed', async (t) => {
  if (!installed('redis-cli')) {
    t.skip('redis-cli is not installed (Debian package redis-tools; .ci/run installs it)');
    return;
  }
  const s = await startServe(['--nodes', '1', '--storage', 'memory', '--max-keys', '2', '--max-bytes', '100000', '--max-value-bytes', '200', '--max-batch-ops', '2', '--latency-monitor-threshold', '250']);
  try {
    for (const k of ['a', 'b', 'c']) assert.equal(await cli(s.port, 'SET', k, 'v'), 'OK\n');
    assert.equal(await cli(s.port, 'DBSIZE'), '2\n');
    assert.equal(await cli(s.port, 'EXISTS', 'a'), '0\n', 'the least recently written key was evicted');
    assert.equal(await cli(s.port, 'CONFIG', 'GET', 'maxmemory'), 'maxmemory\n100000\n');
    assert.equal(await cli(s.port, 'CONFIG', 'GET', 'maxmemory-policy'), 'maxmemory-policy\nallkeys-lru\n', 'keys are evicted: the least recently written first');
    assert.match(await cli(s.port, 'INFO', 'memory'), /^maxmemory:100000\r?\nmaxmemory_human:97\.66K\r?\nmaxmemory_policy:allkeys-lru\r?$/m);
    assert.equal(await cli(s.port, 'CONFIG', 'GET', 'latency-monitor-threshold'), 'latency-monitor-threshold\n250\n');
    assert.equal(await cli(s.port, 'SET', 'v', 'x'.repeat(200)), 'OK\n');
    assert.match(await cli(s.port, 'SET', 'v', 'x'.repeat(201)), /^ERR INVALID_ARGUMENT value is 201 bytes; the limit is 200\n/);
    assert.equal(await cli(s.port, 'STRLEN', 'v'), '200\n');
    // One command is one batch of at most --max-batch-ops operations.
    assert.equal(await cli(s.port, 'MSET', 'm1', '1', 'm2', '2'), 'OK\n');
    assert.match(await cli(s.port, 'MSET', 'm1', '1', 'm2', '2', 'm3', '3'), /^ERR INVALID_ARGUMENT this command is 3 operations; one command or transaction is one batch of at most maxBatchOps \(2\): threadraft serve --max-batch-ops raises it\n/);
    assert.match(await cli(s.port, 'SHUTDOWN', 'ABORT'), /^ERR No shutdown in progress\.\n/);
    assert.match(await cli(s.port, 'SHUTDOWN', 'NOSAVE', 'SAVE'), /^ERR syntax error\n/);
    // A write pipelined before it is answered first (SHUTDOWN waits for the connection's earlier writes), then the
    // connection closes without a reply, which redis-cli takes as success.
    const sock = connect(s.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString()));
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => undefined);
    sock.write(Buffer.concat([encode('SET', 'sd:a', '1'), encode('SHUTDOWN', 'NOSAVE')]));
    await closed;
    assert.equal(got, '+OK\r\n');
    assert.equal(await s.exited, 0, s.stderr());
  } finally {
    s.child.kill('SIGKILL');
  }
  assert.equal(existsSync(s.dir), false, 'the temporary directory is removed on exit');
});

/** A connection that answered PING (so the server counts it), or the first reply of one it refused. */
async function pingOnce(port: number): Promise<{ conn: Raw; reply: string }> {
  const conn = await raw(port);
  conn.socket.write(encode('PING'));
  return { conn, reply: (await conn.until(endsWith('\r\n'))).toString() };
}

test('threadraft serve under a low limit on open files lowers --maxclients to what the limit leaves and says so; one more connection gets Redis\'s max-clients error', async () => {
  const s = await startServe(['--nodes', '1', '--storage', 'memory'], 256);
  const conns: Raw[] = [];
  try {
    for (let i = 0; i < 100 && !/lowered to/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
    const m = /--maxclients 10000 lowered to (\d+): this process may open 256 files \(ulimit -n\)/.exec(s.stderr());
    assert.ok(m, s.stderr());
    const max = Number(m[1]);
    assert.ok(max > 0 && max < 256 - 64, `${max} connections, 64 descriptors kept in reserve`);
    const config = await pingOnce(s.port);
    conns.push(config.conn);
    config.conn.socket.write(encode('CONFIG', 'GET', 'maxclients'));
    const answer = (await config.conn.until((b) => b.toString().split('\r\n').length > 6)).toString();
    assert.equal(answer, `+PONG\r\n*2\r\n$10\r\nmaxclients\r\n$${String(max).length}\r\n${max}\r\n`, 'CONFIG GET says what the server allows');
    for (let i = 1; i < max; i++) {
      const c = await pingOnce(s.port);
      conns.push(c.conn);
      assert.equal(c.reply, '+PONG\r\n', `connection ${i + 1} of ${max}`);
    }
    const refused = await pingOnce(s.port);
    conns.push(refused.conn);
    assert.equal(refused.reply, '-ERR max number of clients reached\r\n', 'a reply, not a connection closed without one');
  } finally {
    for (const c of conns) c.end();
    s.child.kill('SIGTERM');
    await s.exited;
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('threadraft serve whose stdout reader went away (EPIPE) still stops cleanly on SIGTERM: exit 0, its directory removed', async () => {
  const s = await startServe(['--nodes', '1', '--storage', 'memory']);
  try {
    s.child.stdout!.destroy(); // as `threadraft serve | grep -m1 listening` does once grep has its line
    s.child.kill('SIGTERM'); // its next line ("SIGTERM: closing ...") meets a closed pipe
    assert.equal(await s.exited, 0, s.stderr());
    assert.equal(existsSync(s.dir), false, 'the temporary directory is removed on exit');
  } finally {
    s.child.kill('SIGKILL');
    rmSync(s.dir, { recursive: true, force: true }); // only if it failed: a crashed serve leaves it
  }
});

test('threadraft serve on a directory where one node\'s log is damaged: serves with the others and says which node is down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-serve-damaged-'));
  try {
    const c = await Cluster.start({ dir, nodes: 3 });
    await c.put('k', 'v');
    await c.stop();
    writeFileSync(join(dir, 'node-2', DATA_FILE), Buffer.alloc(64 * 1024));
    const s = await startServe(['--dir', dir]);
    try {
      // stderr is another pipe: its line may reach us after the stdout line that resolved startServe.
      for (let i = 0; i < 50 && !s.stderr().includes('is down'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(s.stderr(), /^threadraft: node 2 is down: CORRUPT: .*data\.mdb is damaged: meta page 0: not a meta page[^\n]*\n(?!\s+at )/m);
    } finally {
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
