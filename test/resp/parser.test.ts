// The request parser alone: round trip of valid streams split anywhere, fuzzed garbage and mutated streams (only
// protocol errors, never a throw), Redis's limits and inline syntax; the reply writer's encodings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestParser, splitInline, type ParserLimits } from '../../src/resp/parser.js';
import { BoolReply, ErrorReply, MapReply, NULL_ARRAY, ReplyWriter, SetReply, SimpleString, VerbatimReply, type Reply } from '../../src/resp/reply.js';
import { encode } from './helpers.js';

const SEED = Number(process.env.SEED ?? Date.now() % 100_000);
const RUNS = 300;

/** Feed `stream` cut at `cuts` (sorted positions); all commands and the error, if any. */
function feedSplit(stream: Buffer, cuts: number[], limits?: ParserLimits): { commands: Buffer[][]; error?: string } {
  const p = new RequestParser(limits);
  const commands: Buffer[][] = [];
  let error: string | undefined;
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    if (at < from) continue;
    const out = p.feed(stream.subarray(from, at));
    commands.push(...out.commands);
    if (out.error !== undefined) error ??= out.error;
    from = at;
  }
  return error === undefined ? { commands } : { commands, error };
}

const arg = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((u) => Buffer.from(u));
const cmd = fc.array(arg, { minLength: 1, maxLength: 6 });
const cuts = (max: number): fc.Arbitrary<number[]> => fc.array(fc.nat({ max }), { maxLength: 12 }).map((c) => c.sort((a, b) => a - b));

test('a valid multibulk stream cut at any points parses to exactly the commands encoded (round trip)', () => {
  fc.assert(
    fc.property(fc.array(cmd, { minLength: 1, maxLength: 20 }), cuts(2000), (cmds, at) => {
      const stream = Buffer.concat(cmds.map((c) => encode(...c)));
      const out = feedSplit(stream, at);
      assert.equal(out.error, undefined);
      assert.deepEqual(out.commands.map((c) => c.map((b) => b.toString('hex'))), cmds.map((c) => c.map((b) => b.toString('hex'))));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('inline commands of plain words round-trip, mixed with multibulk ones', () => {
  const word = fc.stringMatching(/^[a-zA-Z0-9:_.-]{1,12}$/);
  const line = fc.array(word, { minLength: 1, maxLength: 5 });
  fc.assert(
    fc.property(fc.array(fc.tuple(line, fc.boolean()), { minLength: 1, maxLength: 15 }), cuts(800), (items, at) => {
      const stream = Buffer.concat(items.map(([ws, inline]) => (inline ? Buffer.from(`${ws.join(' ')}\r\n`) : encode(...ws))));
      const out = feedSplit(stream, at);
      assert.equal(out.error, undefined);
      assert.deepEqual(out.commands.map((c) => c.map((b) => b.toString())), items.map(([ws]) => ws));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

function checkOutcome(out: { commands: Buffer[][]; error?: string }): void {
  if (out.error !== undefined) assert.match(out.error, /^Protocol error: /);
  for (const c of out.commands) {
    assert.ok(c.length > 0);
    for (const a of c) assert.ok(Buffer.isBuffer(a));
  }
}

test('random bytes never make the parser throw: commands, or a protocol error', () => {
  const small: ParserLimits = { maxBulkBytes: 64, maxArgs: 8, maxInlineBytes: 48 };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), cuts(400), fc.boolean(), (bytes, at, useSmall) => {
      checkOutcome(feedSplit(Buffer.from(bytes), at, useSmall ? small : undefined));
    }),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});

test('mutated valid streams (bytes replaced, inserted, removed) give commands or a protocol error, never a throw', () => {
  const mutation = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(cmd, { minLength: 1, maxLength: 8 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), cuts(600), (cmds, muts, at) => {
      const bytes = [...Buffer.concat(cmds.map((c) => encode(...c)))];
      for (const [pos, kind, value] of muts) {
        const i = pos % (bytes.length + 1);
        if (kind === 0 && i < bytes.length) bytes[i] = value;
        else if (kind === 1) bytes.splice(i, 0, value);
        else bytes.splice(i, 1);
      }
      checkOutcome(feedSplit(Buffer.from(bytes), at));
    }),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});

test('after a protocol error every later feed reports it again and parses nothing', () => {
  const p = new RequestParser();
  const first = p.feed(Buffer.from('*1\r\n$3\r\nGET\r\n*x\r\n'));
  assert.equal(first.commands.length, 1);
  assert.equal(first.error, 'Protocol error: invalid multibulk length');
  const again = p.feed(encode('PING'));
  assert.deepEqual(again.commands, []);
  assert.equal(again.error, 'Protocol error: invalid multibulk length');
});

test("Redis's protocol errors: bulk length, '$' expected, CRLF, limits", () => {
  const limits: ParserLimits = { maxBulkBytes: 10, maxArgs: 3, maxInlineBytes: 16 };
  const err = (s: string | Buffer, l: ParserLimits = limits): string | undefined => new RequestParser(l).feed(Buffer.from(s)).error;
  assert.equal(err('*1\r\n$11\r\n'), 'Protocol error: invalid bulk length');
  assert.equal(err('*1\r\n$-1\r\n'), 'Protocol error: invalid bulk length');
  assert.equal(err('*4\r\n'), 'Protocol error: invalid multibulk length');
  assert.equal(err('*1\r\n:3\r\n'), "Protocol error: expected '$', got ':'");
  assert.equal(err('*1\r\n$3\r\nGETxx'), 'Protocol error: bulk string not terminated by CRLF');
  assert.equal(err('PING PING PING PING PING\r\n'), 'Protocol error: too big inline request');
  assert.equal(err('a'.repeat(17)), 'Protocol error: too big inline request'); // no newline yet, already too long
  assert.equal(err('*1\r\n$' + '1'.repeat(20)), 'Protocol error: too big bulk count string');
  assert.equal(err('SET "a b\r\n'), 'Protocol error: unbalanced quotes in request');
  assert.equal(err('*0\r\n*-1\r\n'), undefined); // ignored, as Redis does
  // Leading zeros and "-0" are not numbers to Redis (string2ll).
  assert.equal(err('*01\r\n$4\r\nPING\r\n'), 'Protocol error: invalid multibulk length');
  assert.equal(err('*-0\r\n'), 'Protocol error: invalid multibulk length');
  assert.equal(err('*1\r\n$04\r\nPING\r\n'), 'Protocol error: invalid bulk length');
  assert.equal(err('*1\r\n$0\r\n\r\n'), undefined);
});

test('a bulk string arriving in many small chunks is gathered and joined once (and is intact)', () => {
  const value = Buffer.alloc(100_000, 7);
  value[99_999] = 9;
  const stream = encode('SET', 'k', value);
  const p = new RequestParser();
  const got: Buffer[][] = [];
  for (let i = 0; i < stream.length; i += 97) got.push(...p.feed(stream.subarray(i, i + 97)).commands);
  assert.equal(got.length, 1);
  assert.ok(got[0]![2]!.equals(value));
  assert.equal(p.bufferedBytes, 0);
});

test('inline syntax as sdssplitargs: quotes, escapes, \\xHH, single quotes', () => {
  const s = (line: string): string[] | null => splitInline(Buffer.from(line))?.map((b) => b.toString('latin1')) ?? null;
  assert.deepEqual(s('  SET  a   b '), ['SET', 'a', 'b']);
  assert.deepEqual(s('SET "a b" \'c d\''), ['SET', 'a b', 'c d']);
  assert.deepEqual(s('ECHO "x\\n\\ty\\x41\\"z"'), ['ECHO', 'x\n\tyA"z']);
  assert.deepEqual(s("ECHO 'it\\'s'"), ['ECHO', "it's"]);
  assert.deepEqual(s('ECHO ""'), ['ECHO', '']);
  assert.equal(s('ECHO "a"b'), null); // a closing quote must be followed by a space
  assert.equal(s("ECHO 'a"), null);
  // As sdssplitargs: a quote inside a word starts a quoted part; \v and \f do not split a word; a NUL ends the line.
  assert.deepEqual(s('ECHO a"b c"'), ['ECHO', 'ab c']);
  assert.equal(s('ECHO x"'), null);
  assert.deepEqual(s('ECHO a\vb a\fb'), ['ECHO', 'a\vb', 'a\fb']);
  assert.deepEqual(s('ECHO a\0b c'), ['ECHO', 'a']);
});

function encoded(r: Reply, protocol: 2 | 3): string {
  const w = new ReplyWriter(protocol);
  w.write(r);
  return Buffer.concat(w.take()).toString('latin1');
}

test('the reply writer encodes every type in RESP2 and RESP3', () => {
  const cases: Array<[Reply, string, string]> = [
    [Buffer.from('hi'), '$2\r\nhi\r\n', '$2\r\nhi\r\n'],
    ['é', '$2\r\n\xc3\xa9\r\n', '$2\r\n\xc3\xa9\r\n'],
    [42, ':42\r\n', ':42\r\n'],
    [-7, ':-7\r\n', ':-7\r\n'],
    [null, '$-1\r\n', '_\r\n'],
    [NULL_ARRAY, '*-1\r\n', '_\r\n'],
    [[1, null], '*2\r\n:1\r\n$-1\r\n', '*2\r\n:1\r\n_\r\n'],
    [new SimpleString('OK'), '+OK\r\n', '+OK\r\n'],
    [new ErrorReply('ERR bad\r\nline'), '-ERR bad  line\r\n', '-ERR bad  line\r\n'],
    [new MapReply([['a', 1]]), '*2\r\n$1\r\na\r\n:1\r\n', '%1\r\n$1\r\na\r\n:1\r\n'],
    [new SetReply(['x']), '*1\r\n$1\r\nx\r\n', '~1\r\n$1\r\nx\r\n'],
    [new BoolReply(true), ':1\r\n', '#t\r\n'],
    [new VerbatimReply('txt', 'ab'), '$2\r\nab\r\n', '=6\r\ntxt:ab\r\n'],
  ];
  for (const [r, two, three] of cases) {
    assert.equal(encoded(r, 2), two);
    assert.equal(encoded(r, 3), three);
  }
});

test('the reply writer passes large values as their own chunks and keeps the order', () => {
  const w = new ReplyWriter(2);
  const big = Buffer.alloc(20_000, 1);
  w.write(1);
  w.write(big);
  w.write(2);
  const chunks = w.take();
  assert.ok(chunks.length >= 3);
  assert.ok(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from(':1\r\n$20000\r\n'), big, Buffer.from('\r\n:2\r\n')])));
  assert.deepEqual(w.take(), []);
});
