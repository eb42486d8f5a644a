// The package as npm would ship it: `npm pack` (offline, no scripts), then a consumer project holding only the
// unpacked tarball and the repository's TypeScript compiles `import { Cluster } from 'threadraft'` with
// skipLibCheck off and without @types/node (and, with @types/node and keyv linked from this repository, the
// three entries together). Also: what the tarball holds, and package.json's publishing fields.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Packed { dir: string; files: string[]; pkg: Record<string, unknown> }

let packed: Packed | undefined;
after(() => {
  if (packed !== undefined) rmSync(packed.dir, { recursive: true, force: true });
});

/** The tarball, packed once for this file's tests and unpacked into a consumer project's node_modules. */
function pack(): Packed {
  if (packed !== undefined) return packed;
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' } });
  const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(info);
  const pkgDir = join(dir, 'consumer', 'node_modules', 'threadraft');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, info.filename), '-C', pkgDir, '--strip-components=1']);
  packed = { dir, files: info.files.map((f) => f.path), pkg: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown> };
  return packed;
}

/** tsc in the consumer project: ES2022 only, no @types at all (or those given), every .d.ts checked. */
function compile(dir: string, source: string, o: { types?: string[]; lib?: string[] } = {}): { code: number | null; output: string } {
  const consumer = join(dir, 'consumer');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: o.lib ?? ['ES2022'], types: o.types ?? [], strict: true, skipLibCheck: false, noEmit: true },
    files: ['index.ts'],
  }));
  writeFileSync(join(consumer, 'index.ts'), source);
  const r = spawnSync(process.execPath, [TSC, '-p', consumer], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

const CONSUMER = `import { Cluster, ClusterError, ErrorCode, isClusterError, TIMING_PRESETS, checkLinearizable, type ClusterOptions, type WatchEvent } from 'threadraft';
const options: ClusterOptions = { nodes: 3, storage: 'memory', timing: TIMING_PRESETS.fast };
const cluster = await Cluster.start(options);
await cluster.put('user:1', 'ada', { ttlMs: 1000 });
const value = await cluster.get('user:1', { consistency: 'stale' });
const cas = await cluster.cas('user:1', 'ada', 'grace');
const watch = cluster.watch({ prefix: 'user:' });
for await (const event of watch) { const e: WatchEvent = event; void e; break; }
try { await cluster.put('', 'x'); } catch (err) { if (isClusterError(err, ErrorCode.INVALID_ARGUMENT)) void (err satisfies ClusterError); }
await cluster[Symbol.asyncDispose]();
void [value, cas, checkLinearizable];
`;

test('a consumer without @types/node type-checks the packed package (skipLibCheck off)', () => {
  const p = pack();
  const ok = compile(p.dir, CONSUMER);
  assert.equal(ok.code, 0, ok.output);
  // The same project does lack Node's types (so the check above could fail), and internals stay internal.
  const buffer = compile(p.dir, `${CONSUMER}const b: Buffer = new Uint8Array(1) as never; void b;\n`);
  assert.match(buffer.output, /Cannot find name 'Buffer'/);
  const internal = compile(p.dir, `import { WriteProfile } from 'threadraft';\nvoid WriteProfile;\n`);
  assert.match(internal.output, /declares 'WriteProfile' locally, but it is not exported/);
});

test('with @types/node (lib ES2022 or ESNext): Buffer values, a real AbortSignal, await using, and one Cluster for threadraft/resp and threadraft/keyv', () => {
  const p = pack();
  const modules = join(p.dir, 'consumer', 'node_modules');
  const require = createRequire(import.meta.url);
  mkdirSync(join(modules, '@types'), { recursive: true });
  const links = [join(modules, '@types', 'node'), join(modules, 'keyv')];
  symlinkSync(dirname(require.resolve('@types/node/package.json')), links[0]!);
  const keyvEntry = require.resolve('keyv'); // keyv's exports do not expose its package.json: its folder from its entry
  symlinkSync(keyvEntry.slice(0, keyvEntry.lastIndexOf('/node_modules/keyv/') + '/node_modules/keyv'.length), links[1]!);
  const source = `import { Cluster } from 'threadraft';
import { RespServer } from 'threadraft/resp';
import { KeyvThreadraft } from 'threadraft/keyv';
await using cluster = await Cluster.start({ nodes: 1 });
await cluster.put('k', Buffer.from('v'));
const watch = cluster.watch({ prefix: 'k' }, { signal: new AbortController().signal });
const server = await RespServer.start(cluster, { port: 0 });
const store = new KeyvThreadraft(cluster);
void [watch, server, store];
`;
  try {
    for (const lib of [['ES2022'], ['ESNext']]) {
      const r = compile(p.dir, source, { types: ['node'], lib });
      assert.equal(r.code, 0, `${lib.join()}: ${r.output}`);
    }
  } finally {
    for (const l of links) rmSync(l);
  }
});

test('the tarball holds the library, its workers, the CLI and its commands, the types, docs, README and LICENSE; no tests or sources', () => {
  const p = pack();
  const has = (f: string) => p.files.includes(f);
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.d.ts', 'dist/src/index.js', 'dist/src/resp/index.d.ts', 'dist/src/keyv.js', 'dist/src/keyv.d.ts',
    'dist/src/cli/threadraft.js', 'dist/workers/node-worker.js', 'dist/workers/storage-task.js', 'dist/bench/cli.js', 'dist/bench/chaos.js',
    'dist/test/sim/run.js', 'docs/api.md']) {
    assert.ok(has(f), `missing ${f}`);
  }
  const stray = p.files.filter((f) => /\.test\.js$|^src\/|^test\/|^bench\/|tsbuildinfo|index\.tsc\.d\.ts|^dist\/test\/(?!sim\/)/.test(f));
  assert.deepEqual(stray, []);
  assert.match(readFileSync(join(p.dir, 'consumer', 'node_modules', 'threadraft', 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the threadraft authors\n/);
});

test('package.json is publishable: MIT, not private, a threadraft bin, types, and the exports map kept', () => {
  const { pkg, files } = pack();
  assert.equal(pkg.license, 'MIT');
  assert.equal(pkg.private, undefined);
  assert.deepEqual(pkg.bin, { threadraft: 'dist/src/cli/threadraft.js' });
  assert.equal(pkg.types, 'dist/src/index.d.ts');
  const exports = pkg.exports as Record<string, { types: string; default: string } | string>;
  assert.deepEqual(Object.keys(exports), ['.', './keyv', './resp', './package.json']);
  assert.deepEqual(exports['.'], { types: './dist/src/index.d.ts', default: './dist/src/index.js' });
  for (const [key, target] of Object.entries(exports)) {
    for (const f of typeof target === 'string' ? [target] : [target.types, target.default]) assert.ok(files.includes(f.replace(/^\.\//, '')), `${key}: ${f} is not in the tarball`);
  }
  for (const target of [pkg.main, pkg.types, (pkg.bin as Record<string, string>).threadraft]) assert.ok(files.includes(String(target)), `${String(target)} is not in the tarball`);
  assert.match(readFileSync(join(ROOT, 'dist', 'src', 'cli', 'threadraft.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('the unpacked bin answers --version and a subcommand\'s --help from the package layout (before loading any dependency)', () => {
  const { dir, pkg } = pack();
  const bin = join(dir, 'consumer', 'node_modules', 'threadraft', 'dist', 'src', 'cli', 'threadraft.js');
  assert.equal(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }), `${String(pkg.version)}\n`);
  assert.match(execFileSync(process.execPath, [bin, 'sim', '--help'], { encoding: 'utf8' }), /^threadraft sim: /);
  assert.match(execFileSync(process.execPath, [bin, 'chaos', '--version'], { encoding: 'utf8' }), new RegExp(`^${String(pkg.version).replace(/\./g, '\\.')}\n$`));
});
