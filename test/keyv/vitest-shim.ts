// @keyv/test-suite's functions take vitest's module (`test.it(name, fn(t))`, `test.beforeEach`, `t.expect(...)`);
// our tests run under node:test. This maps `it`/hooks onto node:test and gives each test a minimal `expect` with
// the matchers the suite uses (toBe, toEqual, toBeTruthy, toBeFalsy, toBeUndefined, toBeDefined, toBeNull, `not`,
// expect.assertions), built on node:assert.
import { afterEach, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';

interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeTruthy(): void;
  toBeFalsy(): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  toBeNull(): void;
}

export interface Expect {
  (actual: unknown): Matchers & { not: Matchers };
  assertions(n: number): void;
}

function matchers(actual: unknown, negated: boolean): Matchers {
  const check = (pass: boolean, what: string): void => {
    if (pass === negated) assert.fail(`expected ${describe(actual)} ${negated ? 'not ' : ''}${what}`);
  };
  return {
    toBe: (expected) => check(Object.is(actual, expected), `to be ${describe(expected)}`),
    toEqual: (expected) => check(equal(actual, expected), `to equal ${describe(expected)}`),
    toBeTruthy: () => check(Boolean(actual), 'to be truthy'),
    toBeFalsy: () => check(!actual, 'to be falsy'),
    toBeUndefined: () => check(actual === undefined, 'to be undefined'),
    toBeDefined: () => check(actual !== undefined, 'to be defined'),
    toBeNull: () => check(actual === null, 'to be null'),
  };
}

function equal(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
  } catch {
    return typeof v;
  }
}

/** A fresh `expect` per test, counting its calls for expect.assertions(n). */
function makeExpect(): { expect: Expect; verify(): void } {
  let calls = 0;
  let planned: number | undefined;
  const expect = ((actual: unknown) => {
    calls++;
    return Object.assign(matchers(actual, false), { not: matchers(actual, true) });
  }) as Expect;
  expect.assertions = (n) => {
    planned = n;
  };
  return {
    expect,
    verify: () => {
      if (planned !== undefined) assert.equal(calls, planned, `expected ${planned} assertions, ran ${calls}`);
    },
  };
}

/** The part of vitest's module @keyv/test-suite calls. */
export const vitestShim = {
  it(name: string, fn: (t: { expect: Expect }) => unknown): void {
    it(name, async () => {
      const { expect, verify } = makeExpect();
      await fn({ expect });
      verify();
    });
  },
  beforeEach(fn: () => unknown): void {
    beforeEach(async () => {
      await fn();
    });
  },
  afterEach(fn: () => unknown): void {
    afterEach(async () => {
      await fn();
    });
  },
};
