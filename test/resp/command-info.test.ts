// COMMAND INFO, DOCS, LIST, GETKEYS and GETKEYSANDFLAGS with Redis 7's whole command metadata: tips, key specs and
// each container's subcommands. Checked against what redis-server 7.0.15 answers, and compared with a running one
// (every command and subcommand threadraft has, both protocols) when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resp3, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { command, keySpec, keysOf } from '../../src/resp/command.js';
import { COMMAND_DOCS } from '../../src/resp/command-docs.js';
import { againstRedis, encode, raw, serve, words, NO_REDIS, SINCE_REDIS_72 } from './helpers.js';

const err = (m: string): RespError => new RespError(m);
const set = (...items: RespValue[]): Resp3 => new Resp3('~', items);

/** A key spec as COMMAND INFO gives it in RESP2 (maps as flat arrays). */
const spec = (flags: string[], index: number, lastkey = 0, keystep = 1): RespValue =>
  ['flags', flags, 'begin_search', ['type', 'index', 'spec', ['index', index]], 'find_keys', ['type', 'range', 'spec', ['lastkey', lastkey, 'keystep', keystep, 'limit', 0]]];

/** Each command and what redis-server 7.0.15 answers (RESP2). */
const ASKED: Array<[string, RespValue]> = [
  ['COMMAND INFO get', [['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast'], [], [spec(['RO', 'access'], 1)], []]]],
  ['COMMAND INFO mset', [['mset', -3, ['write', 'denyoom'], 1, -1, 2, ['@write', '@string', '@slow'], ['request_policy:multi_shard', 'response_policy:all_succeeded'], [spec(['OW', 'update'], 1, -1, 2)], []]]],
  // Two key specs: the legacy range is their union.
  ['COMMAND INFO bitop', [['bitop', -4, ['write', 'denyoom'], 2, -1, 1, ['@write', '@bitmap', '@slow'], [], [spec(['OW', 'update'], 2), spec(['RO', 'access'], 3, -1)], []]]],
  ['COMMAND INFO set', [['set', -3, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow'], [], [['notes', 'RW and ACCESS due to the optional `GET` argument', ...(spec(['RW', 'access', 'update', 'variable_flags'], 1) as RespValue[])]], []]]],
  // A shard channel is a key spec that is not a key.
  ['COMMAND INFO spublish', [['spublish', 3, ['pubsub', 'loading', 'stale', 'fast'], 1, 1, 1, ['@pubsub', '@fast'], [], [spec(['not_key'], 1)], []]]],
  // A subcommand by its full name, any case; not one that is not there.
  ['COMMAND INFO object|ENCODING', [['object|encoding', 3, ['readonly'], 2, 2, 1, ['@keyspace', '@read', '@slow'], ['nondeterministic_output'], [spec(['RO'], 2)], []]]],
  ['COMMAND INFO config|nosuch get|x object|encoding|x', [null, null, null]],
  ['COMMAND GETKEYS OBJECT ENCODING k', ['k']],
  ['COMMAND GETKEYS memory usage k SAMPLES 5', ['k']],
  ['COMMAND GETKEYS BITOP AND d a b', ['d', 'a', 'b']],
  ['COMMAND GETKEYS LCS a b IDX', ['a', 'b']],
  ['COMMAND GETKEYS MSET a 1 b 2', ['a', 'b']],
  ['COMMAND GETKEYS OBJECT HELP', err('ERR The command has no key arguments')],
  ['COMMAND GETKEYS SSUBSCRIBE ch', err('ERR The command has no key arguments')],
  ['COMMAND GETKEYS CONFIG NOSUCH x', err('ERR Invalid command specified')],
  ['COMMAND GETKEYS OBJECT ENCODING', err('ERR Invalid number of arguments specified for command')],
  ['COMMAND GETKEYS MSET a', err('ERR Invalid number of arguments specified for command')],
  ['COMMAND GETKEYSANDFLAGS SET k v', [['k', ['OW', 'update']]]],
  ['COMMAND GETKEYSANDFLAGS SET k v NX get', [['k', ['RW', 'access', 'update']]]],
  ['COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0 OVERFLOW SAT', [['k', ['RO', 'access']]]],
  ['COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0 INCRBY u8 0 1', [['k', ['RW', 'access', 'update']]]],
  ['COMMAND GETKEYSANDFLAGS BITFIELD k GET u8', [['k', ['RW', 'access', 'update']]]],
  ['COMMAND GETKEYSANDFLAGS RENAME a b', [['a', ['RW', 'access', 'delete']], ['b', ['OW', 'update']]]],
  ['COMMAND GETKEYSANDFLAGS DEL a b', [['a', ['RM', 'delete']], ['b', ['RM', 'delete']]]],
  ['COMMAND GETKEYSANDFLAGS', err("ERR wrong number of arguments for 'command|getkeysandflags' command")],
  ['ACL DRYRUN default object encoding k', 'OK'],
  ['MEMORY PURGE', 'OK'],
  ['MEMORY PURGE x', err("ERR wrong number of arguments for 'memory|purge' command")],
  ['ACL DRYRUN default object encoding', err("ERR wrong number of arguments for 'object|encoding' command")],
];

/**
 * COMMAND DOCS and what threadraft answers: summary (Redis 7.2's wording), since, group, and Redis 7.0's complexity,
 * history and arguments (src/resp/command-docs.ts), as redis-server 7.0.15 gives them.
 */
const SLOW_ALLOCATOR = 'Depends on how much memory is allocated, could be slow';
const DOCS: Array<[string, RespValue]> = [
  ['COMMAND DOCS memory', ['memory', ['summary', 'A container for memory diagnostics commands.', 'since', '4.0.0', 'group', 'server', 'complexity', 'Depends on subcommand.', 'subcommands', [
    'memory|usage', ['summary', 'Estimates the memory usage of a key.', 'since', '4.0.0', 'group', 'server', 'complexity', 'O(N) where N is the number of samples.',
      'arguments', [['name', 'key', 'type', 'key', 'key_spec_index', 0], ['name', 'count', 'type', 'integer', 'token', 'SAMPLES', 'flags', ['optional']]]],
    'memory|purge', ['summary', 'Asks the allocator to release memory.', 'since', '4.0.0', 'group', 'server', 'complexity', SLOW_ALLOCATOR],
    'memory|malloc-stats', ['summary', 'Returns the allocator statistics.', 'since', '4.0.0', 'group', 'server', 'complexity', SLOW_ALLOCATOR],
    'memory|help', ['summary', 'Returns helpful text about the different subcommands.', 'since', '4.0.0', 'group', 'server', 'complexity', 'O(1)'],
  ]]]],
  ['COMMAND DOCS config|get', ['config|get', ['summary', 'Returns the effective values of configuration parameters.', 'since', '2.0.0', 'group', 'server',
    'complexity', 'O(N) when N is the number of configuration parameters provided',
    'history', [['7.0.0', 'Added the ability to pass multiple pattern parameters in one call']],
    'arguments', [['name', 'parameter', 'type', 'block', 'flags', ['multiple'], 'arguments', [['name', 'parameter', 'type', 'string']]]]]]],
];

test('COMMAND INFO, DOCS, GETKEYS and GETKEYSANDFLAGS: key specs, tips and subcommands as Redis 7 has them', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    // DOCS: summary, since, group, complexity, history, arguments, and a container's subcommands'.
    for (const [l, want] of DOCS) assert.deepEqual(await c.call(words(l)), want, l);
    // Redis built without jemalloc gives this text (the redis-server compared with has jemalloc, and its report).
    assert.equal(await c.call(['MEMORY', 'MALLOC-STATS']), 'Stats not supported for the current allocator');
    // The container lists its subcommands, each described as a command.
    const [object] = (await c.call(['COMMAND', 'INFO', 'object'])) as RespValue[][];
    assert.deepEqual(object!.slice(0, 9), ['object', -2, [], 0, 0, 0, ['@slow'], [], []]);
    assert.deepEqual((object![9] as RespValue[][]).map((sub) => sub[0]), ['object|encoding', 'object|freq', 'object|idletime', 'object|refcount', 'object|help']);
    // COMMAND LIST has every subcommand after its container; COUNT counts commands only, as Redis's.
    const list = (await c.call(['COMMAND', 'LIST'])) as string[];
    const count = (await c.call(['COMMAND', 'COUNT'])) as number;
    assert.equal(list.filter((n) => !n.includes('|')).length, count);
    assert.deepEqual(list.slice(list.indexOf('config'), list.indexOf('config') + 6), ['config', 'config|get', 'config|set', 'config|resetstat', 'config|rewrite', 'config|help']);
    assert.ok(list.includes('command|getkeysandflags') && list.includes('client|setinfo'));
    // Every one has Redis's docs (build/command-docs.mjs writes them for the table's names: run it for a new one).
    assert.deepEqual(list.filter((n) => COMMAND_DOCS[n] === undefined), [], 'src/resp/command-docs.ts is missing these');
    // ACL CAT lists subcommands of the category too.
    const admin = (await c.call(['ACL', 'CAT', 'admin'])) as string[];
    assert.ok(admin.includes('config|get') && admin.includes('client|kill') && !admin.includes('client|id'), 'config|get and client|kill are @admin, client|id is not');
    // RESP3: sets and maps.
    await c.call(['HELLO', '3']);
    assert.deepEqual(await c.call(['COMMAND', 'INFO', 'get']), [['get', 2, set('readonly', 'fast'), 1, 1, 1, set('@read', '@string', '@fast'), set(), set(new Resp3('%', [
      'flags', set('RO', 'access'), 'begin_search', new Resp3('%', ['type', 'index', 'spec', new Resp3('%', ['index', 1])]),
      'find_keys', new Resp3('%', ['type', 'range', 'spec', new Resp3('%', ['lastkey', 0, 'keystep', 1, 'limit', 0])]),
    ])), set()]]);
    assert.deepEqual(await c.call(['COMMAND', 'GETKEYSANDFLAGS', 'GETDEL', 'k']), [['k', set('RW', 'access', 'delete')]]);
  } finally {
    c.close();
    await s.stop();
  }
});

test('a subcommand\'s flags count: client-side caching remembers OBJECT ENCODING\'s key; a monitor may not run it', async () => {
  const s = await serve({ nodes: 1 });
  const t = await raw(s.port);
  const m = await raw(s.port);
  const other = await SimpleConn.open('127.0.0.1', s.port);
  try {
    t.socket.write(Buffer.concat([encode('HELLO', '3'), encode('CLIENT', 'TRACKING', 'ON'), encode('SET', 'k', '1'), encode('OBJECT', 'ENCODING', 'k')]));
    await t.until((b) => b.toString('latin1').endsWith('+OK\r\n+OK\r\n$3\r\nint\r\n'));
    // Another connection's write of k tells this one, which read it through OBJECT ENCODING.
    assert.equal(await other.call(['SET', 'k', '2']), 'OK');
    await t.until((b) => b.toString('latin1').endsWith('>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n'));
    // A monitor is kept from the keyspace, as Redis keeps its replicas: OBJECT ENCODING and MEMORY USAGE read a key;
    // OBJECT HELP does not.
    m.socket.write(encode('MONITOR'));
    await m.until((b) => b.toString('latin1').includes('+OK\r\n'));
    m.socket.write(Buffer.concat([encode('OBJECT', 'ENCODING', 'k'), encode('MEMORY', 'USAGE', 'k'), encode('OBJECT', 'HELP')]));
    const got = await m.until((b) => b.toString('latin1').includes('Prints this help'));
    assert.equal((got.toString('latin1').match(/-ERR Replica can't interact with the keyspace\r\n/g) ?? []).length, 2);
  } finally {
    other.close();
    m.end();
    t.end();
    await s.stop();
  }
});

test('keysOf: shard channels are not keys; a spec that reaches past the arguments finds none (Redis\'s invalid spec)', () => {
  const none = (): string => 'OK';
  const argv = (...a: string[]): Buffer[] => a.map((x) => Buffer.from(x));
  const names = (keys: ReturnType<typeof keysOf>): string[] | undefined => keys?.map((k) => k.key.toString());
  const mixed = command('x', -3, [], 'generic', '', none, { keys: [keySpec('RO access', 1), keySpec('not_key', 2)] });
  assert.deepEqual(names(keysOf(mixed, argv('x', 'k', 'ch'))), ['k']);
  assert.deepEqual([mixed.firstKey, mixed.lastKey, mixed.step], [1, 2, 1], 'the legacy range spans both specs, as Redis\'s');
  const pairs = command('y', -3, [], 'generic', '', none, { keys: [keySpec('OW update', 1, -1, 2)] });
  assert.deepEqual(names(keysOf(pairs, argv('y', 'a', '1', 'b', '2'))), ['a', 'b']);
  assert.equal(keysOf(pairs, argv('y')), undefined);
  const two = command('z', -2, [], 'generic', '', none, { keys: [keySpec('RO', 1, 1)] });
  assert.equal(keysOf(two, argv('z', 'a')), undefined, 'the second key is missing');
  assert.throws(() => command('w', -2, ['nosuch'], 'generic', '', none), /flag nosuch/);
  assert.throws(() => command('v', -2, [], 'generic', '', none, { keys: [keySpec('RO', 1), keySpec('RO', 3)] }), /movablekeys/);
});

/** A reply with every container's subcommands (COMMAND INFO's tenth field, DOCS' `subcommands`) sorted by name. */
function normalized(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  const items = v.map(normalized);
  if (items.length === 10 && typeof items[0] === 'string' && Array.isArray(items[9])) {
    items[9] = [...(items[9] as RespValue[][])].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  }
  return items;
}

test('COMMAND INFO, DOCS and GETKEYS of every command and subcommand threadraft has are redis-server\'s', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  const conns: SimpleConn[] = [];
  try {
    const [ours, theirs] = await Promise.all([SimpleConn.open('127.0.0.1', served.port), SimpleConn.open('127.0.0.1', redis.port)]);
    conns.push(ours, theirs);
    const names = ((await ours.call(['COMMAND', 'LIST'])) as string[]).filter((n) => !SINCE_REDIS_72.has(n));
    assert.ok(names.length >= 160, `${names.length} commands and subcommands`);
    const redisNames = new Set((await theirs.call(['COMMAND', 'LIST'])) as string[]);
    assert.deepEqual(names.filter((n) => !redisNames.has(n)), [], 'every one of threadraft\'s is Redis\'s');
    for (const protocol of ['2', '3']) {
      await Promise.all([ours.call(['HELLO', protocol]), theirs.call(['HELLO', protocol])]);
      for (const name of names) {
        const [a, b] = await Promise.all([ours.call(['COMMAND', 'INFO', name]), theirs.call(['COMMAND', 'INFO', name])]);
        // Subcommands are in Redis's hash table's order: compared by name, those threadraft has (Redis has MEMORY
        // STATS, ...). Everything else as given, flags in Redis's order.
        const mine = (v: RespValue): RespValue => normalized(Array.isArray(v) ? v.map((c) => (Array.isArray(c) && Array.isArray(c[9]) ? [...c.slice(0, 9), (c[9] as RespValue[][]).filter((s) => names.includes(String(s[0])))] : c)) : v);
        assert.deepEqual(mine(a), mine(b), `COMMAND INFO ${name} (RESP${protocol})`);
      }
    }
    // The exact bytes, where no subcommand order enters: every command without subcommands, in both protocols.
    const plain = names.filter((n) => !n.includes('|') && !names.includes(`${n}|help`));
    for (const protocol of ['2', '3']) {
      const bytes = async (port: number): Promise<string> => {
        const r = await raw(port);
        try {
          r.socket.write(Buffer.concat([encode('HELLO', protocol), encode('COMMAND', 'INFO', ...plain), encode('PING', 'end')]));
          return (await r.until((b) => b.toString('latin1').endsWith('$3\r\nend\r\n'))).toString('latin1');
        } finally {
          r.end();
        }
      };
      const [a, b] = await Promise.all([bytes(served.port), bytes(redis.port)]);
      assert.ok(a.includes(`*${plain.length}\r\n`) && b.includes(`*${plain.length}\r\n`));
      assert.equal(a.slice(a.indexOf(`*${plain.length}\r\n`)), b.slice(b.indexOf(`*${plain.length}\r\n`)), `COMMAND INFO's bytes (RESP${protocol})`);
    }
    // GETKEYS and GETKEYSANDFLAGS for a command line of each command with keys, and wrong ones.
    const lines = [
      'GET k', 'SET k v', 'SET k v GET', 'SET k v EX 1 get', 'GETEX k PERSIST', 'MGET a b c', 'MSET a 1 b 2', 'MSETNX a 1', 'LCS a b', 'BITOP OR d a b c',
      'BITFIELD k GET u8 0', 'BITFIELD k SET u8 0 1', 'BITFIELD k OVERFLOW WRAP', 'BITFIELD k bogus', 'BITFIELD_RO k GET u8 0', 'RENAME a b', 'COPY a b REPLACE',
      'DEL a b', 'TOUCH a', 'WATCH a b', 'OBJECT FREQ k', 'MEMORY USAGE k', 'SSUBSCRIBE a b', 'SPUBLISH ch m', 'PING', 'CONFIG GET x', 'NOSUCH k',
      'CLIENT NOSUCH', 'GET', 'MSET a', 'RESTORE k 0 x', 'SUBSTR k 0 1',
    ];
    for (const protocol of ['2', '3']) {
      await Promise.all([ours.call(['HELLO', protocol]), theirs.call(['HELLO', protocol])]);
      for (const l of lines) {
        for (const sub of ['GETKEYS', 'GETKEYSANDFLAGS']) {
          const argv = ['COMMAND', sub, ...words(l)];
          const [a, b] = await Promise.all([ours.call(argv), theirs.call(argv)]);
          assert.deepEqual(a, b, `${argv.join(' ')} (RESP${protocol})`);
        }
      }
      // DOCS of every command and subcommand, every field but the summary (Redis 7.2's wording here: 7.0's differs)
      // and a container's subcommands (each compared on its own): complexity, history, arguments are Redis 7.0's.
      const flat = (v: RespValue): RespValue[] => (v instanceof Resp3 ? (v.value as RespValue[]) : (v as RespValue[]));
      const docsOf = async (c: SimpleConn, name: string): Promise<RespValue[]> => {
        const fields = flat(flat((await c.call(['COMMAND', 'DOCS', name])) as RespValue)[1]!);
        const out: RespValue[] = [];
        for (let i = 0; i < fields.length; i += 2) if (fields[i] !== 'summary' && fields[i] !== 'subcommands') out.push(fields[i]!, fields[i + 1]!);
        return out;
      };
      for (const name of names) {
        const [a, b] = await Promise.all([docsOf(ours, name), docsOf(theirs, name)]);
        assert.deepEqual(a, b, `COMMAND DOCS ${name} (RESP${protocol})`);
      }
      // The subcommands' summaries are Redis 7.2's (7.0's differ in wording): compared by name, since and group.
      for (const name of ['config', 'object', 'client', 'command', 'latency']) {
        const docs = async (c: SimpleConn): Promise<string[]> => {
          const r = (await c.call(['COMMAND', 'DOCS', name])) as RespValue;
          const flat = (v: RespValue): RespValue[] => (v instanceof Resp3 ? (v.value as RespValue[]) : (v as RespValue[]));
          const fields = flat(flat(r)[1]!);
          const subs = flat(fields[fields.indexOf('subcommands') + 1]!);
          const out: string[] = [];
          for (let i = 0; i < subs.length; i += 2) {
            const f = flat(subs[i + 1]!);
            if (!SINCE_REDIS_72.has(String(subs[i]))) out.push(`${String(subs[i])} ${String(f[f.indexOf('since') + 1])} ${String(f[f.indexOf('group') + 1])}`);
          }
          return out.sort();
        };
        const [a, b] = await Promise.all([docs(ours), docs(theirs)]);
        // Redis documents subcommands threadraft does not have (MEMORY STATS, CLIENT NO-EVICT is threadraft's): ours must be among them.
        assert.deepEqual(a.filter((d) => !b.includes(d)), [], `COMMAND DOCS ${name} (RESP${protocol})`);
      }
    }
  } finally {
    for (const c of conns) c.close();
  }
}));
