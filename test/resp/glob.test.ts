// Redis glob patterns (KEYS, SCAN MATCH): the cases Redis documents, and agreement with a regular-expression
// reference on random patterns over a small alphabet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globMatch, literalPrefix } from '../../src/resp/glob.js';

const m = (p: string, s: string): boolean => globMatch(Buffer.from(p, 'latin1'), Buffer.from(s, 'latin1'));

test("Redis's documented KEYS patterns", () => {
  assert.ok(m('h?llo', 'hello') && m('h?llo', 'hallo') && !m('h?llo', 'hllo'));
  assert.ok(m('h*llo', 'hllo') && m('h*llo', 'heeeello'));
  assert.ok(m('h[ae]llo', 'hello') && m('h[ae]llo', 'hallo') && !m('h[ae]llo', 'hillo'));
  assert.ok(m('h[^e]llo', 'hallo') && !m('h[^e]llo', 'hello'));
  assert.ok(m('h[a-b]llo', 'hallo') && m('h[a-b]llo', 'hbllo') && !m('h[a-b]llo', 'hcllo'));
  assert.ok(m('h\\*llo', 'h*llo') && !m('h\\*llo', 'hello'));
  assert.ok(m('*', '') && m('*', 'anything') && !m('', 'x') && m('', ''));
  assert.ok(m('user:*:name', 'user:42:name') && !m('user:*:name', 'user:42:mail'));
  assert.ok(m('[\\]]', ']') && m('a\\', 'a\\'));
  // A range whose end is ']' is a range, as stringmatchlen reads it (checked against redis-server 7: KEYS [a-]
  // gives ], ^ and a of the keys a b - ] [ ^ \), and the class runs on to the next ']' or the end.
  const keys = ['a', 'b', '-', ']', '[', '^', '\\'];
  assert.deepEqual(keys.filter((k) => m('[a-]', k)), [']', '^', 'a'].sort((x, y) => keys.indexOf(x) - keys.indexOf(y)));
  assert.deepEqual(keys.filter((k) => m('[^a-]', k)), ['b', '-', '[', '\\']);
});

test('a pathological pattern is answered in linear-ish time (no exponential backtracking)', () => {
  const t0 = Date.now();
  assert.equal(m('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  assert.ok(Date.now() - t0 < 2000);
});

/** The reference: the pattern as a RegExp (the alphabet has no characters special inside classes). */
function reference(p: string): RegExp {
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < p.length) re += `\\${p[++i]}`;
    else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      const body = p.slice(i + 1, end);
      re += body.startsWith('^') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

test('random patterns over {a, b, *, ?, [ab], [^a], [a-b]} agree with a regular-expression reference', () => {
  const piece = fc.constantFrom('a', 'b', 'c', '*', '?', '[ab]', '[^a]', '[a-b]', '\\a', '\\*');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), fc.stringMatching(/^[abc*]{0,10}$/), (pieces, s) => {
      const p = pieces.join('');
      assert.equal(m(p, s), reference(p).test(s), `pattern ${p} on ${s}`);
    }),
    { numRuns: 2000 },
  );
});

test('the literal prefix of a pattern narrows a scan', () => {
  assert.equal(literalPrefix(Buffer.from('user:*')).toString(), 'user:');
  assert.equal(literalPrefix(Buffer.from('a\\*b?')).toString(), 'a*b');
  assert.equal(literalPrefix(Buffer.from('[ab]c')).toString(), '');
  assert.equal(literalPrefix(Buffer.from('plain')).toString(), 'plain');
});
