// INCRBYFLOAT's arithmetic against what Redis 7.0.15 (x86-64, Debian 12) replied to the same SET and INCRBYFLOAT;
// the RESP differential test (test/resp/differential.test.ts) checks it against a live redis-server as well.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { incrByFloat, isFloatText, string2d } from '../../src/storage/float80.js';

const E300 =
  '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144';

/** [value (undefined: no key), increment, Redis's reply: the new value, or its error]. */
const REDIS: Array<[string | undefined, string, string]> = [
  ['0', '0.1', '0.1'],
  ['0.1', '0.2', '0.3'], // 0.30000000000000004 in doubles
  ['10000000000', '0.1', '10000000000.09999999962747097'], // 64 significant bits, printed with 17 decimals
  [undefined, '1e300', E300],
  [undefined, '0x1p3', '8'],
  [undefined, '0x1.8p1', '3'],
  ['3', '0X.8', '3.5'],
  [undefined, '-0', '0'],
  [undefined, '1e-30', '0'], // "0.00000000000000000" trimmed
  [undefined, '-1e-30', '0'], // "-0" is written "0"
  [undefined, '00012.5000', '12.5'],
  [undefined, '+.5', '0.5'],
  ['0.5', '5.', '5.5'],
  ['3', '3.0000000000000000001', '6'],
  [undefined, '0.000003814697265625', '0.00000381469726562'], // a tie at the 17th decimal: to even
  [undefined, '0.000011444091796875', '0.00001144409179688'],
  [undefined, '18446744073709551617', '18446744073709551616'], // 2^64 + 1: a tie in reading, to the even significand
  [undefined, '18446744073709551619', '18446744073709551620'],
  [undefined, '36893488147419103233', '36893488147419103232'],
  ['18446744073709551616', '1', '18446744073709551616'], // a tie in the sum, to even
  ['18446744073709551616', '3', '18446744073709551620'],
  [undefined, '1e-4940', '0'], // a subnormal is a float
  ['3', '1.5e-4950', '3'],
  [undefined, '0e99999', '0'],
  [undefined, 'inf', 'NOT_FINITE'],
  ['1e4932', '1e4932', 'NOT_FINITE'],
  [undefined, '2e4932', 'NOT_FLOAT'], // past the largest long double
  [undefined, '1e-99999', 'NOT_FLOAT'], // reads as zero
  [undefined, 'nan', 'NOT_FLOAT'],
  [undefined, ' 1', 'NOT_FLOAT'],
  [undefined, '1 ', 'NOT_FLOAT'],
  [undefined, '1e', 'NOT_FLOAT'],
  [undefined, '2\u0000abc', 'NOT_FLOAT'],
  ['', '1', 'NOT_FLOAT'],
  ['abc', '1', 'NOT_FLOAT'],
  ['\u0000', '1', 'NOT_FLOAT'],
];

test('incrByFloat answers as Redis 7.0 on x86-64 (80-bit long double, "%.17Lf" trimmed)', () => {
  for (const [value, by, want] of REDIS) {
    const r = incrByFloat(value, by);
    const got = 'value' in r ? r.value : r.error;
    assert.equal(got, want, `${JSON.stringify(value)} + ${JSON.stringify(by)}`);
  }
});

test('the largest long double prints as Redis prints it, and the next sum past it is refused', () => {
  const r = incrByFloat(undefined, '1e4932');
  assert.ok('value' in r);
  assert.equal(r.value.length, 4933);
  assert.ok(r.value.startsWith('1000000000000000000006018949387963891323837774254533114773785041352533'));
  assert.deepEqual(incrByFloat(r.value, r.value), { error: 'NOT_FINITE' });
  assert.deepEqual(incrByFloat(r.value, '-' + r.value), { value: '0' });
});

test('an increment of 0.1 repeated drifts as Redis does, not as doubles do', () => {
  let v: string | undefined;
  for (let i = 0; i < 10; i++) {
    const r = incrByFloat(v, '0.1');
    assert.ok('value' in r);
    v = r.value;
  }
  assert.equal(v, '1'); // doubles: 0.9999999999999999
});

test('isFloatText accepts what strtold reads whole, inf included, and nothing else', () => {
  for (const t of ['1', '-1.5', '.5', '5.', '1e5', '1E+5', '1e-5', '0x10', '0x.8p1', 'inf', '-INFINITY', '+0']) assert.ok(isFloatText(t), t);
  for (const t of ['', '.', 'e5', '1e', '0x', '0xp1', 'nan', 'infinit', '1_0', '١', ' 1', '1\n', 'x'.repeat(5120), '1'.repeat(5120)]) assert.ok(!isFloatText(t), JSON.stringify(t.slice(0, 10)));
  assert.ok(isFloatText('0'.repeat(5119)));
});

test("string2d reads a double as Redis's string2d (strtod over the whole text): refusals, overflow, underflow", () => {
  const read: Array<[string, number]> = [
    ['50', 50], ['99.9', 99.9], ['-0', -0], ['+5.', 5], ['.5', 0.5], ['1e-7', 1e-7], ['1E+2', 100], ['0x10', 16],
    ['0x1.8p1', 3], ['-0x.8', -0.5], ['inf', Infinity], ['-Infinity', -Infinity], ['4.9e-324', 5e-324], ['0e999999', 0],
  ];
  for (const [text, value] of read) assert.ok(Object.is(string2d(text), value), text);
  for (const text of ['', ' 1', '1 ', 'nan', 'abc', '1e', '0x', '1e400', '-1e400', '1e-400', '0x1p-1100', '1.2.3']) assert.equal(string2d(text), undefined, text);
});
