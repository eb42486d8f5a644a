// COMMAND LIST FILTERBY MODULE | ACLCAT | PATTERN: checked against what redis-server 7.0.15 answers, and compared
// with a running one when it is installed (on the commands threadraft has: Redis has more).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, serve, words, NO_REDIS, SINCE_REDIS_72 } from './helpers.js';

const SYNTAX = new RespError('ERR syntax error');

/** Each command and what redis-server 7.0.15 answers, sorted (Redis lists them in its hash table's order). */
const ASKED: Array<[string, RespValue]> = [
  ['COMMAND LIST FILTERBY PATTERN get*', ['get', 'getbit', 'getdel', 'getex', 'getrange', 'getset']],
  ['COMMAND LIST FILTERBY pattern GET*', ['get', 'getbit', 'getdel', 'getex', 'getrange', 'getset']],
  ['COMMAND LIST FILTERBY PATTERN sub*', ['subscribe', 'substr']],
  ['COMMAND LIST FILTERBY PATTERN ?et', ['get', 'set']],
  ['COMMAND LIST FILTERBY PATTERN nosuch*', []],
  // Subcommands are listed after their container, and matched by their full names.
  ['COMMAND LIST FILTERBY PATTERN config*', ['config', 'config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']],
  ['COMMAND LIST FILTERBY PATTERN OBJECT|*', ['object|encoding', 'object|freq', 'object|help', 'object|idletime', 'object|refcount']],
  ['COMMAND LIST FILTERBY PATTERN client|*id*', ['client|id']],
  ['COMMAND LIST FILTERBY ACLCAT transaction', ['discard', 'exec', 'multi', 'unwatch', 'watch']],
  ['COMMAND LIST FILTERBY aclcat BITMAP', ['bitcount', 'bitfield', 'bitfield_ro', 'bitop', 'bitpos', 'getbit', 'setbit']],
  ['COMMAND LIST FILTERBY ACLCAT nosuch', []],
  ['COMMAND LIST FILTERBY MODULE json', []],
  ['COMMAND LIST FILTERBY BOGUS x', SYNTAX],
  ['COMMAND LIST FILTERBY PATTERN', SYNTAX],
  ['COMMAND LIST FILTERBY', SYNTAX],
  ['COMMAND LIST x', SYNTAX],
  ['COMMAND LIST FILTERBY PATTERN a b', SYNTAX],
];

const sorted = (v: RespValue): RespValue => (Array.isArray(v) ? [...v].sort() : v);

test('COMMAND LIST FILTERBY: by pattern (any case), ACL category, module (none)', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(sorted(await c.call(words(l))), want, l);
  } finally {
    c.close();
    await s.stop();
  }
});

test('COMMAND LIST FILTERBY compared with redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  const [ours, theirs] = await Promise.all([SimpleConn.open('127.0.0.1', served.port), SimpleConn.open('127.0.0.1', redis.port)]);
  try {
    const names = new Set((await ours.call(['COMMAND', 'LIST'])) as string[]);
    const mine = (l: string[]): Promise<RespValue> => ours.call(l).then((r) => sorted(Array.isArray(r) ? (r as string[]).filter((n) => !SINCE_REDIS_72.has(n)) : r));
    const redisOnes = async (l: string[]): Promise<RespValue> => {
      const r = await theirs.call(l);
      return Array.isArray(r) ? (r as string[]).filter((n) => names.has(n)).sort() : r;
    };
    for (const [l] of ASKED) assert.deepEqual(await mine(words(l)), await redisOnes(words(l)), l);
    for (const cat of (await ours.call(['ACL', 'CAT'])) as string[]) {
      assert.deepEqual(await mine(['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', cat]), await redisOnes(['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', cat]), cat);
    }
  } finally {
    ours.close();
    theirs.close();
  }
}));
