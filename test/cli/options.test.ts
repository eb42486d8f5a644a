// The option parser of every command (src/cli/options.ts): one rule per option, everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DURATION, NODES, SHARED, UsageError, formatHelp, parseCommandLine, parseOptions, packageVersion,
  type OptionTable,
} from '../../src/cli/options.js';
import { resolveOptions } from '../../src/cluster/options.js';
import { BENCH_HELP, BENCH_OPTIONS } from '../../bench/options.js';
import { CHAOS_HELP, CHAOS_OPTIONS } from '../../bench/chaos/options.js';
import { SIM_HELP, SIM_OPTIONS } from '../../test/sim/options.js';
import { SERVE_HELP, SERVE_OPTIONS } from '../../src/cli/serve-options.js';

const TABLE = {
  nodes: NODES,
  clients: { type: 'int', min: 1, max: 100, default: 8, help: 'clients' },
  ratio: { type: 'number', min: 0, max: 1, help: 'ratio' },
  duration: { ...DURATION, default: 5 },
  latency: { type: 'time', unit: 'ms', min: 0, max: 10_000, help: 'a latency' },
  storage: { type: 'enum', values: ['lmdb', 'memory'], aliases: { mem: 'memory' }, default: 'lmdb', help: 'storage' },
  names: { type: 'list', item: (s: string) => { if (s === 'bad') throw new Error('bad is not a name'); return s.toUpperCase(); }, help: 'names' },
  pick: { type: 'list', values: ['a', 'b'], default: ['a'], help: 'pick' },
  out: { type: 'string', default: 'x', help: 'out' },
  sync: { type: 'flag', negatable: true, default: true, help: 'sync' },
  verbose: { type: 'flag', help: 'verbose' },
  seed: { type: 'int', min: 0, max: 9, default: 1, env: 'SEED', help: 'seed' },
} as const satisfies OptionTable;

function values(argv: string[], env: Record<string, string> = {}) {
  const r = parseOptions(argv, TABLE, env);
  assert.equal(r.kind, 'values');
  if (r.kind !== 'values') throw new Error('unreachable');
  return r.values;
}

function refused(argv: string[], message: RegExp, env: Record<string, string> = {}): void {
  assert.throws(() => parseOptions(argv, TABLE, env), (e: unknown) => e instanceof UsageError && message.test(e.message));
}

test('defaults: every option is present; flags default to false, lists and strings to their defaults', () => {
  const v = values([]);
  assert.deepEqual(v, { nodes: 3, clients: 8, ratio: undefined, duration: 5, latency: undefined, storage: 'lmdb', names: undefined, pick: ['a'], out: 'x', sync: true, verbose: false, seed: 1 });
});

test('integers are integers, within their range', () => {
  assert.equal(values(['--clients', '16']).clients, 16);
  assert.equal(values(['--clients=17']).clients, 17);
  refused(['--clients', '1.5'], /^--clients must be an integer in \[1, 100\], got "1.5"$/);
  refused(['--clients', '0'], /--clients must be an integer in \[1, 100\], got "0"/);
  refused(['--clients', '101'], /got "101"/);
  refused(['--clients', '1e2'], /must be an integer/);
  refused(['--clients', ''], /must be an integer/);
  refused(['--clients', '0x10'], /must be an integer/);
});

test('numbers are finite decimals within their range', () => {
  assert.equal(values(['--ratio', '0.25']).ratio, 0.25);
  assert.equal(values(['--ratio', '.5']).ratio, 0.5);
  refused(['--ratio', '1.01'], /^--ratio must be a number in \[0, 1\], got "1.01"$/);
  refused(['--ratio', 'NaN'], /must be a number/);
  refused(['--ratio', 'Infinity'], /must be a number/);
});

test('times take a unit or are in the option\'s unit', () => {
  assert.equal(values(['--duration', '2']).duration, 2);
  assert.equal(values(['--duration', '500ms']).duration, 0.5);
  assert.equal(values(['--duration', '1m']).duration, 60);
  assert.equal(values(['--latency', '20']).latency, 20);
  assert.equal(values(['--latency', '2s']).latency, 2000);
  assert.equal(values(['--latency', '250us']).latency, 0.25);
  refused(['--duration', '0.05'], /--duration must be a time in \[0.1s, 86400s\] \(a number of seconds, or with a unit: us, ms, s, m\), got "0.05"/);
  refused(['--duration', '5 minutes'], /must be a time/);
  refused(['--duration', 'ms'], /must be a time/);
});

test('enums: one of the values or an alias of one', () => {
  assert.equal(values(['--storage', 'memory']).storage, 'memory');
  assert.equal(values(['--storage', 'mem']).storage, 'memory');
  refused(['--storage', 'disk'], /^--storage must be one of lmdb, memory, mem, got "disk"$/);
});

test('lists: comma-separated and repeatable; items checked and normalised', () => {
  assert.deepEqual(values(['--names', 'a, b', '--names', 'c']).names, ['A', 'B', 'C']);
  assert.deepEqual(values(['--pick', 'b']).pick, ['b']);
  refused(['--names', 'a,bad'], /^--names: bad is not a name$/);
  refused(['--pick', 'c'], /^--pick: unknown item "c"; allowed: a, b$/);
  refused(['--names', ','], /--names needs at least one item/);
  refused(['--names', 'a,,b'], /^--names: an empty item in "a,,b"$/);
  refused(['--pick', 'a,'], /^--pick: an empty item in "a,"$/);
});

test('flags: --x, --no-x when negatable, never both, never with a value', () => {
  assert.equal(values(['--no-sync']).sync, false);
  assert.equal(values(['--sync']).sync, true);
  assert.equal(values(['--verbose']).verbose, true);
  refused(['--sync', '--no-sync'], /^--sync and --no-sync together$/);
  refused(['--no-verbose'], /^unknown option --no-verbose/);
  refused(['--verbose=yes'], /--verbose takes no value/);
});

test('unknown options, positionals and missing values are refused with what to do', () => {
  refused(['--clietns', '3'], /^unknown option --clietns; did you mean --clients\?$/);
  refused(['--zzz'], /^unknown option --zzz$/);
  refused(['extra'], /^unexpected argument "extra"$/);
  refused(['--clients'], /^--clients needs a value: an integer in \[1, 100\]$/);
  refused(['--clients', '--verbose'], /--clients needs a value/);
  refused(['--out'], /^--out needs a value: <value>$/);
  refused(['--names'], /^--names needs a value: <a,b,...>$/);
  refused(['--no-storage'], /^unknown option --no-storage/);
  refused(['--no-clients', '3'], /^unknown option --no-clients/);
});

test('a repeated single-valued option: the last one counts', () => {
  assert.equal(values(['--clients', '2', '--clients', '3']).clients, 3);
});

test('the environment: used when the flag is absent, checked by the same rule, the flag wins', () => {
  assert.equal(values([], { SEED: '7' }).seed, 7);
  assert.equal(values(['--seed', '2'], { SEED: '7' }).seed, 2);
  assert.equal(values([], { SEED: '' }).seed, 1);
  refused([], /^--seed must be an integer in \[0, 9\], got "1.5" \(from the environment: SEED=1.5\)$/, { SEED: '1.5' });
});

test('--help and --version are answered before anything else is checked', () => {
  assert.equal(parseOptions(['--clients', '1.5', '--help'], TABLE).kind, 'help');
  assert.equal(parseOptions(['--zzz', '--version'], TABLE).kind, 'version');
  assert.equal(parseOptions(['-h'], TABLE).kind, 'help');
  assert.equal(parseOptions(['--version'], TABLE).kind, 'version');
});

test('parseCommandLine: a usage error prints the command, the message and --help, and exits 2', () => {
  let err = '';
  let code = -1;
  const exit = (c: number): never => {
    code = c;
    throw new Error('exit');
  };
  assert.throws(() => parseCommandLine(['--nodes', '9'], TABLE, { command: 'tool', summary: 's', usage: 'u' }, { env: {}, err: (s) => (err += s), exit }), /exit/);
  assert.equal(code, 2);
  assert.equal(err, 'tool: --nodes must be an integer in [1, 7], got "9"\nRun tool --help for the options.\n');
  let out = '';
  assert.throws(() => parseCommandLine(['--version'], TABLE, { command: 'tool', summary: 's', usage: 'u' }, { out: (s) => (out += s), exit }), /exit/);
  assert.equal(code, 0);
  assert.equal(out, `${packageVersion()}\n`);
});

const COMMANDS: Array<[string, OptionTable]> = [['bench', BENCH_OPTIONS], ['chaos', CHAOS_OPTIONS], ['sim', SIM_OPTIONS], ['serve', SERVE_OPTIONS]];

test('one rule per option everywhere: an option of a shared name has the shared type and range in every command', () => {
  let checked = 0;
  for (const [command, table] of COMMANDS) {
    for (const [name, spec] of Object.entries(table)) {
      const shared = SHARED[name];
      if (shared === undefined) continue;
      const rule = (o: object) => JSON.stringify(o, ['type', 'min', 'max', 'unit', 'values', 'aliases', 'negatable']);
      assert.equal(rule(spec), rule(shared), `${command} --${name}`);
      checked++;
    }
  }
  assert.ok(checked >= 12, `only ${checked} shared options found`);
  for (const [, table] of COMMANDS) assert.ok('nodes' in table);
});

test('--nodes accepts exactly what Cluster.start accepts (1-7), in every command', () => {
  for (let n = -1; n <= 9; n++) {
    let cluster = true;
    try {
      resolveOptions({ nodes: n });
    } catch {
      cluster = false;
    }
    for (const [command, table] of COMMANDS) {
      let cli = true;
      try {
        parseOptions(['--nodes', String(n)], table, {});
      } catch (e) {
        assert.ok(e instanceof UsageError);
        cli = false;
      }
      assert.equal(cli, cluster, `${command} --nodes ${n}`);
    }
  }
  for (const [command, table] of COMMANDS) {
    assert.throws(() => parseOptions(['--nodes', '2.5'], table, {}), /--nodes must be an integer in \[1, 7\]/, command);
  }
});

test('every command\'s help lists each of its options, --version and --help', () => {
  const helps: Array<[OptionTable, Parameters<typeof formatHelp>[1]]> = [[BENCH_OPTIONS, BENCH_HELP], [CHAOS_OPTIONS, CHAOS_HELP], [SIM_OPTIONS, SIM_HELP], [SERVE_OPTIONS, SERVE_HELP]];
  for (const [table, help] of helps) {
    const text = formatHelp(table, help);
    for (const name of Object.keys(table)) assert.match(text, new RegExp(`--${name}\\b`), `${help.command} --${name}`);
    assert.match(text, /--version/);
    assert.match(text, /-h, --help/);
  }
});
