// CLIENT REPLY ON|OFF|SKIP: which replies a connection gets, compared byte for byte with redis-server (skipped with a
// message when it is not installed), and checked against the bytes Redis 7.0 writes for the same requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, encode, endsWith, raw, sameAsRedis, serve, NO_REDIS, words as c, type Conversation } from './helpers.js';

// Every step ends with replies on: the conversation's marker PING after each step must be answered.
const SCRIPTS: Conversation[] = [
  {
    name: 'OFF, ON, SKIP (a SKIP skips the whole next command, another SKIP included), errors, replies sent before OFF',
    conns: 1,
    steps: [
      [0, [c('CLIENT REPLY OFF'), c('SET a 1'), c('GET a'), c('NOSUCH'), c('CLIENT REPLY ON'), c('GET a')]],
      [0, [c('CLIENT REPLY SKIP'), c('GET a'), c('GET a'), c('CLIENT REPLY BOGUS'), c('CLIENT REPLY'), c('CLIENT REPLY SKIP'), c('CLIENT REPLY SKIP'), c('PING x'), c('PING y')]],
      [0, [c('GET a'), c('INCR n'), c('CLIENT REPLY OFF'), c('SET a 2'), c('CLIENT REPLY SKIP'), c('INCR n'), c('CLIENT REPLY ON'), c('MGET a n')]],
      [0, [c('CLIENT REPLY SKIP'), c('CLIENT REPLY ON'), c('PING'), c('CLIENT REPLY off'), c('CLIENT REPLY SKIP'), c('CLIENT REPLY on'), c('NOSUCH'), c('CLIENT REPLY SKIP'), c('NOSUCH'), c('PING a')]],
      [0, [c('CLIENT REPLY OFF'), c('RESET'), c('PING'), c('CLIENT REPLY SKIP'), c('RESET'), c('PING')]],
    ],
  },
  {
    name: 'pushes go out while replies are off: a message, a keyspace event, an invalidation',
    conns: 2,
    steps: [
      [0, [c('HELLO 3'), c('SUBSCRIBE ch __keyspace@0__:k'), c('CLIENT TRACKING ON'), c('GET k')]],
      [1, [c('CONFIG SET notify-keyspace-events KA')]],
      [0, [c('CLIENT REPLY OFF'), c('PUBLISH ch hi'), c('SET k v'), c('GET k'), c('CLIENT REPLY ON'), c('PING')]],
      [1, [c('SET k w'), c('PUBLISH ch there')]],
      [0, [c('CLIENT REPLY SKIP'), c('SET k x'), c('PING z')]],
      [1, [['CONFIG', 'SET', 'notify-keyspace-events', '']]],
    ],
  },
  {
    name: 'subscribe and unsubscribe confirmations go out while replies are off or skipped, in RESP3 and RESP2',
    conns: 2,
    steps: [
      [0, [c('HELLO 3')]],
      [0, [c('CLIENT REPLY OFF'), c('SUBSCRIBE a b'), c('PSUBSCRIBE p*'), c('SSUBSCRIBE s'), c('PING'), c('CLIENT REPLY ON')]],
      [1, [c('PUBLISH a m'), c('PUBLISH pq m2'), c('SPUBLISH s m3')]],
      [0, [c('CLIENT REPLY SKIP'), c('UNSUBSCRIBE a'), c('PING x'), c('CLIENT REPLY OFF'), c('PUNSUBSCRIBE'), c('SUNSUBSCRIBE'), c('UNSUBSCRIBE'), c('UNSUBSCRIBE'), c('CLIENT REPLY ON')]],
      // RESP2: the confirmations are arrays, sent all the same; a subscribed connection's PING is silenced.
      [1, [c('CLIENT REPLY OFF'), c('SUBSCRIBE x y'), c('PING'), c('UNSUBSCRIBE y x'), c('CLIENT REPLY ON')]], // by name: Redis unsubscribes from all in its hash order
      [1, [c('CLIENT REPLY SKIP'), c('SUBSCRIBE z'), c('UNSUBSCRIBE z')]],
    ],
  },
];

test('CLIENT REPLY: what is written and what is silenced, as Redis 7.0 writes it', async () => {
  const served = await serve();
  try {
    const r = await raw(served.port);
    try {
      // The bytes redis-server 7.0.15 wrote for these requests.
      r.socket.write(Buffer.concat(['CLIENT REPLY OFF', 'SET a 1', 'GET a', 'CLIENT REPLY ON', 'GET a', 'CLIENT REPLY SKIP', 'GET a', 'GET a', 'CLIENT REPLY BOGUS', 'CLIENT REPLY', 'CLIENT REPLY SKIP', 'CLIENT REPLY SKIP', 'PING x', 'PING last'].map((s) => encode(...s.split(' ')))));
      const got = (await r.until(endsWith('last\r\n'))).toString('latin1');
      assert.equal(got, "+OK\r\n$1\r\n1\r\n$1\r\n1\r\n-ERR syntax error\r\n-ERR wrong number of arguments for 'client|reply' command\r\n$4\r\nlast\r\n");
      // Inside MULTI it would take effect when queued (Redis: at EXEC, silencing EXEC's own reply): refused.
      r.socket.write(Buffer.concat([encode('MULTI'), encode('CLIENT', 'REPLY', 'OFF'), encode('EXEC'), encode('PING', 'end')]));
      const after = (await r.until(endsWith('end\r\n'))).toString('latin1').slice(got.length);
      assert.equal(after, "+OK\r\n-ERR 'client|reply' inside MULTI is not supported by threadraft (it would take effect when queued, not at EXEC)\r\n-EXECABORT Transaction discarded because of previous errors.\r\n$3\r\nend\r\n");
    } finally {
      r.end();
    }
  } finally {
    await served.stop();
  }
});

test('CLIENT REPLY conversations get the same bytes from threadraft as from Redis', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  for (const s of SCRIPTS) {
    const theirs = await sameAsRedis(redis, served, s);
    assert.ok(theirs.join('').length > 0, `${s.name}: nothing received`);
  }
}));
