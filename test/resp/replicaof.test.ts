// REPLICAOF, SLAVEOF and FAILOVER: the server is a primary without RESP replicas (the cluster's nodes replicate by
// Raft). Checked against what redis-server 7.0.15 answers, and compared with a running one when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, sameAsRedis, withMonitor, words, NO_REDIS } from './helpers.js';

const err = (text: string): RespError => new RespError(text);
const NO_REPLICAS = err('ERR FAILOVER requires connected replicas.');
const NOT_INTEGER = err('ERR value is not an integer or out of range');

/** Each command and what a redis-server 7.0.15 primary without replicas answers. */
const ASKED: Array<[string, RespValue]> = [
  ['REPLICAOF NO ONE', 'OK'],
  ['replicaof no one', 'OK'],
  ['SLAVEOF NO ONE', 'OK'],
  ['REPLICAOF 127.0.0.1 x', err('ERR Invalid master port')],
  ['REPLICAOF 127.0.0.1 -1', err('ERR Invalid master port')],
  ['REPLICAOF 127.0.0.1 65536', err('ERR Invalid master port')],
  ['REPLICAOF NO', err("ERR wrong number of arguments for 'replicaof' command")],
  ['FAILOVER', NO_REPLICAS],
  ['FAILOVER ABORT', err('ERR No failover in progress.')],
  ['FAILOVER TO 127.0.0.1 7000', NO_REPLICAS],
  ['FAILOVER TO 127.0.0.1 7000 FORCE TIMEOUT 100', NO_REPLICAS],
  ['FAILOVER FORCE', NO_REPLICAS],
  ['FAILOVER TO 127.0.0.1 x', NOT_INTEGER],
  ['FAILOVER TIMEOUT x', NOT_INTEGER],
  ['FAILOVER TIMEOUT 0', err('ERR FAILOVER timeout must be greater than 0')],
  ['FAILOVER TIMEOUT 5 TIMEOUT 6', err('ERR syntax error')],
  ['FAILOVER ABORT x', err('ERR syntax error')],
  ['FAILOVER bogus', err('ERR syntax error')],
  ['FAILOVER TO 127.0.0.1', err('ERR syntax error')],
];

test('REPLICAOF NO ONE is OK, another server refused; FAILOVER: no replicas to fail over to', () => withMonitor(async (c, fed) => {
  for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
  assert.match((await c.call(['REPLICAOF', '127.0.0.1', '6379']) as RespError).message, /^ERR threadraft's nodes replicate by Raft/);
  assert.match((await c.call(['SLAVEOF', '127.0.0.1', '6379']) as RespError).message, /^ERR threadraft's nodes replicate by Raft/);
  // Administrative: MONITOR is not fed them, as Redis's.
  assert.doesNotMatch(await fed(), /REPLICAOF|SLAVEOF|FAILOVER|replicaof/);
}));

test('REPLICAOF, SLAVEOF and FAILOVER compared with redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  await sameAsRedis(redis, served, { name: 'replication commands', conns: 1, steps: ASKED.map(([l]) => [0, [words(l)]]) });
}));
