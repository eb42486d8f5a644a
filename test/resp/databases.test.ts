// One database: SELECT 0, MOVE and SWAPDB answer as a Redis started with `databases 1` does (CONFIG GET databases
// says 1). Checked against what redis-server 7.0.15 answers, and compared with a running one when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

const RANGE = new RespError('ERR DB index is out of range');

/** Each command, in order on one connection, and what redis-server 7.0.15 with `--databases 1` answers. */
const ASKED: Array<[string, RespValue]> = [
  ['SET k v', 'OK'],
  ['CONFIG GET databases', ['databases', '1']],
  ['SELECT 0', 'OK'],
  ['SELECT 1', RANGE],
  ['MOVE k 0', new RespError('ERR source and destination objects are the same')],
  ['MOVE k 1', RANGE],
  ['MOVE k -1', RANGE],
  ['MOVE nokey 1', RANGE],
  ['MOVE k x', new RespError('ERR value is not an integer or out of range')],
  ['MOVE k', new RespError("ERR wrong number of arguments for 'move' command")],
  ['SWAPDB 0 0', 'OK'],
  ['SWAPDB 0 1', RANGE],
  ['SWAPDB -1 0', RANGE],
  ['SWAPDB x 0', new RespError('ERR invalid first DB index')],
  ['SWAPDB 0 x', new RespError('ERR invalid second DB index')],
  ['SWAPDB x y', new RespError('ERR invalid first DB index')],
  ['SWAPDB 0', new RespError("ERR wrong number of arguments for 'swapdb' command")],
  // An index is a 32-bit integer (Redis's getIntFromObjectOrReply), its range error before the database's.
  ['SELECT 2147483648', new RespError('ERR value is out of range, value must between -2147483648 and 2147483647')],
  ['SELECT -2147483649', new RespError('ERR value is out of range, value must between -2147483648 and 2147483647')],
  ['SELECT 9007199254740993', new RespError('ERR value is out of range, value must between -2147483648 and 2147483647')],
  ['SELECT 2147483647', RANGE],
  ['MOVE k 2147483648', new RespError('ERR value is out of range, value must between -2147483648 and 2147483647')],
  ['MOVE k 9223372036854775808', new RespError('ERR value is not an integer or out of range')],
  ['SWAPDB 2147483648 0', new RespError('ERR invalid first DB index')],
  ['SWAPDB 0 -2147483649', new RespError('ERR invalid second DB index')],
  ['COPY k k2 DB 2147483648', new RespError('ERR value is out of range, value must between -2147483648 and 2147483647')],
  ['GET k', 'v'],
  ['MULTI', 'OK'],
  ['MOVE k 1', 'QUEUED'],
  ['SWAPDB 0 0', 'QUEUED'],
  ['EXEC', [RANGE, 'OK']],
];

test('SELECT, MOVE and SWAPDB with the one database there is: Redis\'s replies', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
  } finally {
    c.close();
    await s.stop();
  }
});

test('SELECT, MOVE and SWAPDB compared with redis-server --databases 1', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  // The transaction in one step (a synchronizing PING inside it would be queued).
  const multi = ASKED.findIndex(([l]) => l === 'MULTI');
  const steps: Array<[number, string[][]]> = [...ASKED.slice(0, multi).map(([l]): [number, string[][]] => [0, [words(l)]]), [0, ASKED.slice(multi).map(([l]) => words(l))]];
  await sameAsRedis(redis, served, { name: 'one database', conns: 1, steps });
}, ['--databases', '1']));
