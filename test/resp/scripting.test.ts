// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT through the RESP server, compared byte for byte with redis-server
// (skipped with a message when it is not installed): replies and their conversions both ways, Redis's error texts,
// the commands a script ran counted in INFO commandstats and errorstats, keyspace events, WATCH. Then what only
// threadraft has to show: scripts are atomic against other clients' writes (run again when a key they read changed),
// a script that reads a key it did not declare, a script stopped at busy-reply-threshold, and every replica alike.
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { onPath } from '../../bench/resp-targets.js';
import { RespError, SimpleConn } from '../../bench/resp-proto.js';
import { againstRedis, sameAsRedis, serve, NO_REDIS, type Step } from './helpers.js';
import { parseSeedRange, Prng } from '../sim/prng.js';

const lua = (body: string, ...rest: string[]): string[] => ['EVAL', body, ...rest];

/** Conversions from Lua to replies and from replies to Lua, in RESP2 and RESP3. */
const CONVERSIONS: Step[] = [
  [0, [
    lua('return 42', '0'), lua('return 10/3', '0'), lua('return -7.9', '0'), lua("return 'text'", '0'), lua('return true', '0'), lua('return false', '0'),
    lua('return nil', '0'), lua("return {1, 'two', {3, 'four'}, nil, 'after nil'}", '0'), lua('return {}', '0'), lua("return {ok = 'FINE'}", '0'),
    lua("return {err = 'MYERR something'}", '0'), lua("return redis.status_reply('GOOD')", '0'), lua("return redis.error_reply('E2 bad')", '0'),
    lua("return redis.error_reply('oops')", '0'), lua("return redis.error_reply('-CODE with dash')", '0'), lua('return 2^53', '0'),
    lua('return 2^70', '0'), lua('return -2^70', '0'),
  ]],
  [0, [
    ['SET', 'k', 'v'], ['SET', 'n', '10'], lua("return redis.call('GET', 'k')", '0'), lua("return redis.call('GET', 'missing')", '0'),
    lua("return redis.call('GET', 'missing') == false", '0'), lua("return type(redis.call('INCR', 'n'))", '0'), lua("return redis.call('SET', 'k', 'w')", '0'),
    lua("return redis.call('SET', 'k', 'w').ok", '0'), lua("return redis.call('MGET', 'k', 'missing', 'n')", '0'), lua("return redis.call('PING')", '0'),
    lua("return redis.call('ECHO', 'x\\0y')", '0'), lua("local r = redis.pcall('INCR', 'k') return r.err", '0'),
  ]],
  // Numbers passed to a command are written as C's %.17g; integers as they are.
  [0, [
    lua("redis.call('SET', 'f', 0.1) return redis.call('GET', 'f')", '0'), lua("redis.call('SET', 'f', 10/4) return redis.call('GET', 'f')", '0'),
    lua("redis.call('SET', 'f', 1e20) return redis.call('GET', 'f')", '0'), lua("redis.call('SET', 'f', 3600 * 1000 * 24 * 30) return redis.call('GET', 'f')", '0'),
    lua("redis.call('SET', 'f', -1/3) return redis.call('GET', 'f')", '0'), lua("redis.call('SET', 'f', 2^53) return redis.call('GET', 'f')", '0'),
  ]],
  [0, [['HELLO', '3'], lua("return redis.call('GET', 'k')", '0'), lua('return true', '0'), lua('return false', '0'), lua("return {double = 3.5}", '0'),
    lua("return {map = {a = 1}}", '0'), lua("return {set = {x = true}}", '0'), lua("redis.setresp(3) return redis.call('HELLO')['map'] == nil", '0'),
    lua("redis.setresp(3) local r = redis.call('CONFIG', 'GET', 'maxclients') return r.map ~= nil", '0'), lua("redis.setresp(3) return redis.call('GET', 'missing') == nil", '0'),
    lua('redis.setresp(3) return true', '0'), lua('redis.setresp(3) return false', '0'), ['HELLO', '2']]],
];

/** KEYS and ARGV, EVALSHA and SCRIPT, EVAL_RO, argument errors, Redis's error texts and where they say the error was. */
const ERRORS: Step[] = [
  [0, [
    lua('return {KEYS[1], KEYS[2], ARGV[1], #ARGV}', '2', 'a', 'b', 'c', 'd'), lua('return #KEYS', '0'), lua('return 1', '-1'), lua('return 1', '2', 'a'),
    lua('return 1', 'x'), lua('return 1', '99999999999999999999'), lua('return 1', '-0'), lua('return 1', '01'), lua('return 1', '1000000000000000000'), lua('return 1 +', '0'), ['EVAL', 'return 1'], ['EVAL'],
  ]],
  [0, [
    ['SCRIPT', 'LOAD', 'return ARGV[1]'], ['EVALSHA', '098e0f0d1448c0a81dafe820f66d460eb09263da', '0', 'hello'], ['EVALSHA', '098E0F0D1448C0A81DAFE820F66D460EB09263DA', '0', 'hi'],
    ['EVALSHA', '0000000000000000000000000000000000000000', '0'], ['EVALSHA', 'short', '0'], ['EVALSHA', 'short', 'x'], ['EVALSHA_RO', 'zz0', 'zz1', 'a'], ['EVALSHA', '0000000000000000000000000000000000000000', 'x'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da', 'nope'],
    ['SCRIPT', 'LOAD', 'return +'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da'], ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'FLUSH', 'nope'],
    ['SCRIPT', 'KILL'], ['SCRIPT', 'NOSUCH'], ['SCRIPT'], ['EVALSHA_RO', '0000000000000000000000000000000000000000', '0'],
  ]],
  [0, [
    ['SET', 's', 'abc'], lua("return redis.call('INCR', 's')", '0'), lua("return redis.pcall('INCR', 's')", '0'), lua('x = 5', '0'), lua('return undefined_global', '0'),
    lua("return redis.call('NOSUCH')", '0'), lua("return redis.call('GET')", '0'), lua("return redis.call('MULTI')", '0'), lua('return redis.call()', '0'),
    lua("return redis.call('GET', {})", '0'), lua("error('boom')", '0'), lua("error({err = 'CUSTOM raised'})", '0'), lua("return redis.call('INCR', 'x', 'y')", '0'),
    lua("local ok, e = pcall(function() return redis.call('INCR', 's') end) return {tostring(ok), e}", '0'), lua("return redis.call('CLIENT', 'NOSUCH')", '0'),
  ]],
  // A write in a read-only script; the writes a script made before an error stay (Redis does not undo them).
  [0, [
    ['EVAL_RO', "return redis.call('SET', 'a', 'b')", '0'], ['EVAL_RO', "return redis.call('GET', 'k')", '0'], ['EXISTS', 'a'],
    lua("redis.call('SET', 'first', '1') redis.call('INCR', 's') redis.call('SET', 'second', '2')", '0'), ['MGET', 'first', 'second'],
    lua("redis.call('SET', 'p1', '1') redis.pcall('INCR', 's') redis.call('SET', 'p2', '2') return 'done'", '0'), ['MGET', 'p1', 'p2'],
  ]],
  // Redis's math.random sequence (the same 48-bit generator from the same start), the bit library, Lua 5.1's names.
  [0, [
    lua('return {math.random(100), math.random(100), math.random(10, 20)}', '0'), lua('math.randomseed(7) return {math.random(1000), math.random(1000)}', '0'),
    lua("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tohex(255), bit.tohex(-1, -4)}", '0'),
    lua('return {unpack({1, 2, 3})}', '0'), lua("return loadstring('return 5')()", '0'), lua('return table.getn({1, 2})', '0'), lua("return redis.sha1hex('')", '0'),
    lua("return redis.sha1hex('abc')", '0'), lua('return redis.REDIS_VERSION_NUM >= 0x070000', '0'), lua("return redis.log(redis.LOG_WARNING, 'from a script')", '0'),
  ]],
  // redis.acl_check_cmd: true for any command (the default user's), an error for an unknown one.
  [0, ["return redis.acl_check_cmd('set', 'x', 1)", "return redis.acl_check_cmd('nosuch')", 'return redis.acl_check_cmd()', "return redis.acl_check_cmd('config')",
    "return redis.acl_check_cmd('config', 'nosuch')", "return redis.acl_check_cmd('config', 'get')", 'return redis.acl_check_cmd({})',
    "return {pcall(redis.acl_check_cmd, 'nosuch')}", "return redis.acl_check_cmd('eval', 'x')"].map((body) => lua(body, '0'))],
  // Shebang flags (Redis 7): no-writes makes a script read-only, EVAL_RO refuses a script that may write, the
  // others are taken; Redis's errors for a bad engine, option or flag; the script's lines keep their numbers.
  [0, [
    ['SET', 'a', 'b'],
    ...['#!lua\nreturn 1', '#!lua flags=no-writes\nreturn redis.call("SET", "a", "c")', '#!lua flags=no-writes\nreturn redis.call("GET", "a")', '#!lua flags=bogus\nreturn 1',
      '#!lua name=x\nreturn 1', '#!python\nreturn 1', '#!lua flags=allow-oom,no-cluster,allow-cross-slot-keys,allow-stale\nreturn 2', '#!lua flags=\nreturn 5',
      '#!lua flags=no-writes,\nreturn 5', '#!lua', '#!\nreturn 1', '#! lua\nreturn 1', '#!lua\n\nerror("x")', '#!lua   flags=no-writes  \nreturn 6', 'return redis.call("SET", "a", "d")']
      .flatMap((body) => [lua(body, '0'), ['EVAL_RO', body, '0']]),
    ['SCRIPT', 'LOAD', '#!lua flags=bad\nreturn 1'], ['SCRIPT', 'LOAD', '#!lua\nreturn 7'], ['EVALSHA_RO', 'ed8d22a2dd0538847dce0f01a660f76b512ed2b6', '0'], ['GET', 'a'],
  ]],
  // Readonly tables: no script changes the libraries, the globals or the strings' metatable for the next one, by
  // assignment, rawset, setmetatable, a loaded chunk or a path through _G or the metatable; KEYS and ARGV are the script's.
  [0, [
    ...["string.len = nil", "redis.call = nil", "math.huge = 1", "bit.band = nil", "cjson.null = 1", "table.sort = nil", "coroutine.wrap = nil", "_G.x = 1",
      "_G.string.len = nil", "getmetatable('').__index.len = nil", "local mt = getmetatable('') mt.x = 1", "rawset(string, 'x', 1) return 1", "rawset(_G, 'y', 1) return 1",
      "rawset(getmetatable(''), 'x', 1)", "setmetatable(string, {}) return 1", "loadstring('string.len = nil')()", "return {pcall(rawset, redis, 'a', 1)}",
      "return pcall(loadstring('x = 1'))", "table.insert(string, 'x')"].map((body) => lua(body, '0')),
    ...["return {string.len('ab'), ('abc'):len(), string.x, rawget(_G, 'x'), rawget(_G, 'y'), math.huge > 1, getmetatable(string) == nil, type(redis.call)}",
      "return {next(string) ~= nil, #string, rawget(string, 'len') ~= nil, rawequal(string, getmetatable('').__index), rawequal(_G, _G._G), type(getmetatable(''))}",
      "local t = setmetatable({}, {__index = string}) t.len = 5 return {t.len, cjson.encode({1, 2}), loadstring('return 1 + 1')(), redis.call('PING').ok}",
      "local n = 0 for _, v in pairs(_G) do if type(v) == 'table' then n = n + 1 end end return n >= 6", "table.insert(KEYS, 'a') ARGV[1] = 'z' return {#KEYS, ARGV[1]}",
      'return _G.nosuch'].map((body) => lua(body, '0', 'x')),
  ]],
];

/** lua-cjson: encode and decode, their errors (objects of one key only: the order of several is the hash's). */
const CJSON: Step[] = [
  [0, [
    lua('return cjson.encode({1, 2, 3})', '0'), lua('return cjson.encode({a = 1})', '0'), lua('return cjson.encode({})', '0'),
    lua("return cjson.encode('a/b\"c\\\\d\\n\\t\\1' .. string.char(127, 200))", '0'), lua('return cjson.encode({0.1, 1e20, 3.0, -0.0, 1/3, 123456789012345, 2^64})', '0'),
    lua('return cjson.encode({true, false, cjson.null})', '0'), lua('return cjson.encode({[1] = 1, [3] = 3})', '0'), lua('return cjson.encode({[1] = 1, [20] = 3})', '0'),
    lua('return cjson.encode(function() end)', '0'), lua('return cjson.encode({[true] = 1})', '0'), lua('return cjson.encode(0/0)', '0'), lua('return cjson.encode()', '0'),
    lua('return cjson.encode(cjson.decode(ARGV[1]))', '0', '{"a":[1,2,{"b":null},[],{}]}'), lua('return cjson.decode(ARGV[1]).n', '0', '{"n": 1.5e2}'),
    lua('local t = cjson.decode(ARGV[1]) return {t[1], t[3].a, tostring(t[4] == cjson.null), tostring(t[5]), type(cjson.null)}', '0', '[1,2,{"a":"x"},null,true]'),
    lua('return cjson.decode(ARGV[1])', '0', '"\\u00e9\\ud83d\\ude00"'), lua('return cjson.decode(123)', '0'), lua('return cjson.decode()', '0'),
    ...['[1,', '[1,2', '{"a" 1}', '{"a":1,}', '[1 2]', 'x', '', '[1] x', '"abc', '"a\\qb"', '{1:2}', '[tru]', '  [ 1 , -2.5e1 , "s" ]  '].map((j) => lua('return cjson.decode(ARGV[1])', '0', j)),
    // Numbers as strtod reads them, invalid ones too (decode_invalid_numbers is on: lua-cjson's default).
    ...['0x10', 'inf', '-Infinity', 'nan', 'NaN(abc)', '+5', '-', '[-x]', '{-: 1}', '1e+', '01', '0x', '0x1.8p1', '[1.e2, -.5, 2E-3]'].map((j) => lua('return cjson.encode({pcall(cjson.decode, ARGV[1])})', '0', j)),
    lua('return tostring(cjson.decode(ARGV[1]))', '0', '-inf'),
  ]],
  // Settings: read on the module (every script shares them, as on Redis), changed on modules cjson.new() makes.
  [0, [
    lua('local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t', '0'), lua('return {cjson._NAME, cjson._VERSION}', '0'),
    lua('return {cjson.encode_number_precision(), cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_keep_buffer(), tostring(cjson.encode_invalid_numbers()), cjson.decode_invalid_numbers(), {cjson.encode_sparse_array()}}', '0'),
    lua("local c = cjson.new() return {c.decode_invalid_numbers(false), pcall(c.decode, '0x10')}", '0'),
    lua("local c = cjson.new() c.decode_invalid_numbers('off') return {pcall(c.decode, 'inf')}", '0'),
    lua('local c = cjson.new() c.encode_number_precision(3) return c.encode({1.23456, 100000, 0.5})', '0'),
    lua('local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0})', '0'),
    lua("local c = cjson.new() c.encode_invalid_numbers('null') return {c.encode_invalid_numbers(), c.encode({1/0, 0/0})}", '0'),
    lua('local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1] = 1, [20] = 2})', '0'),
    lua('local c = cjson.new() return {c.encode_sparse_array(true, 0, 3)}', '0'),
    lua('local c = cjson.new() c.encode_sparse_array(false, 1, 0) return {pcall(c.encode, {[1] = 1, [3] = 2})}', '0'),
    lua('local c = cjson.new() c.encode_max_depth(2) return {pcall(c.encode, {{{1}}})}', '0'),
    lua("local c = cjson.new() c.decode_max_depth(2) return {pcall(c.decode, '[[[1]]]'), c.decode('[[1]]')[1][1]}", '0'),
    lua("return {pcall(cjson.decode, string.rep('[', 1001) .. '1' .. string.rep(']', 1001))}", '0'),
    lua("return {pcall(cjson.decode, string.rep('[', 1000) .. '1' .. string.rep(']', 1000))}", '0'),
    lua('local d = {} for i = 1, 1001 do d = {d} end return {pcall(cjson.encode, d)}', '0'),
    lua('local c = cjson.new() return {c._VERSION, c.new()._NAME, cjson.encode(c.null)}', '0'),
    lua('return cjson.encode_max_depth(0)', '0'), lua("return cjson.encode_max_depth('x')", '0'), lua('return cjson.encode_number_precision(15)', '0'),
    lua("return cjson.encode_keep_buffer('maybe')", '0'), lua('return cjson.encode_keep_buffer({})', '0'), lua('return cjson.encode_max_depth(1, 2)', '0'),
    lua('return {cjson.encode_sparse_array(1, 2, 3, 4)}', '0'), lua('return cjson.new().encode(1, 2)', '0'), lua("return cjson.new().decode('[')", '0'),
    // A setting of the module holds for the scripts after it, until SCRIPT FLUSH.
    lua('return cjson.decode_max_depth(5)', '0'), lua('return cjson.decode_max_depth()', '0'), ['SCRIPT', 'FLUSH'], lua('return cjson.decode_max_depth()', '0'),
  ]],
];

/** Commands that read and write through a script: the usual ones a cache's scripts use. */
const COMMANDS: Step[] = [
  [0, [
    // A lock: taken when absent, released only by its holder.
    lua("return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 60000)", '1', 'lock', 'me'), lua("return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 60000)", '1', 'lock', 'you'),
    lua("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end", '1', 'lock', 'you'),
    lua("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end", '1', 'lock', 'me'), ['EXISTS', 'lock'],
    // A fixed-window rate limiter.
    ...[1, 2, 3].map(() => lua("local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {n, redis.call('PTTL', KEYS[1]) > 0 and 1 or 0}", '1', 'rate', '60000')),
    lua("return {redis.call('TTL', 'rate') > 0, redis.call('TTL', 'nokey'), redis.call('PERSIST', 'rate'), redis.call('TTL', 'rate')}", '0'),
    // The server's clock (a sliding window's limiter reads it): its shape; its value is the server's own.
    lua("local t = redis.call('TIME') return {#t, type(t[1]), type(t[2]), tonumber(t[2]) < 1000000, tonumber(t[1]) > 1700000000}", '0'),
  ]],
  [0, [
    lua("redis.call('MSET', 'm1', 'a', 'm2', 'b') return redis.call('MGET', 'm1', 'm2', 'm3')", '0'), lua("return redis.call('APPEND', 'm1', 'xyz')", '0'),
    lua("return {redis.call('STRLEN', 'm1'), redis.call('GETRANGE', 'm1', 1, 2), redis.call('SETRANGE', 'm1', 1, 'ZZ'), redis.call('GET', 'm1')}", '0'),
    lua("return {redis.call('SETBIT', 'bits', 7, 1), redis.call('BITCOUNT', 'bits'), redis.call('GETBIT', 'bits', 7)}", '0'),
    lua("return {redis.call('PFADD', 'hll', 'a', 'b', 'c'), redis.call('PFCOUNT', 'hll')}", '0'), lua("return redis.call('INCRBYFLOAT', 'fl', '1.5')", '0'),
    lua("return {redis.call('RENAME', 'm2', 'm3'), redis.call('EXISTS', 'm2', 'm3'), redis.call('COPY', 'm3', 'm4'), redis.call('TYPE', 'm4').ok}", '0'),
    lua("return {redis.call('GETDEL', 'm4'), redis.call('GETSET', 'm3', 'new'), redis.call('SETNX', 'm3', 'x'), redis.call('DECRBY', 'cnt', 5)}", '0'),
    lua("return redis.call('DEL', 'm1', 'm3', 'cnt', 'never')", '0'), lua("return redis.call('OBJECT', 'ENCODING', 'fl')", '0'),
  ]],
  // Errors inside a script's reply as INFO counts them: each one a command answered is a failed EVAL; the script's
  // own, each counted by its code, together one.
  [0, [
    lua("return {redis.pcall('BITPOS', 'b', '2'), redis.pcall('SETNX', 'c'), {redis.pcall('INCR', 'm1')}}", '0'), lua("return {{err = 'X a'}, {err = 'Y b'}}", '0'),
    lua("return {redis.pcall('BITPOS', 'b', '2'), {err = 'X a'}, 1}", '0'), lua("redis.pcall('BITPOS', 'b', '2') return 1", '0'),
    ['MULTI'], ['INCR', 'm1'], ['SETNX', 'c', '1'], ['EXEC'],
  ]],
];

/** Keyspace events of a script's writes (connection 1 subscribed), and a WATCH that a script's write of the key aborts. */
const EVENTS: Step[] = [
  [1, [['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'], ['PSUBSCRIBE', '__key*@0__:*']]],
  [0, [lua("redis.call('SET', 'e1', '1') redis.call('INCR', 'e1') redis.call('EXPIRE', 'e1', 100) redis.call('DEL', 'e1') return redis.call('GET', 'e1')", '0')]],
  [0, [lua("redis.call('SET', 'e2', 'x') redis.pcall('INCR', 'e2') redis.call('APPEND', 'e2', 'y')", '0')]],
  [2, [['SET', 'w', '1'], ['WATCH', 'w']]],
  [0, [lua("return redis.call('SET', KEYS[1], '2')", '1', 'w')]],
  [2, [['MULTI'], ['GET', 'w'], ['EXEC']]],
  [2, [['WATCH', 'w'], lua("return redis.call('GET', KEYS[1])", '1', 'w'), ['MULTI'], ['GET', 'w'], ['EXEC']]],
];

/** cmsgpack (lua-cmsgpack 0.4.0): its bytes for every kind of value and bound, the values it reads back, its errors. */
const CMSGPACK: Step[] = [
  [0, [
    lua("return cmsgpack.pack({1, 2, {a = 1}}, 'x', true, false, 1.5, 0.1, -5, 300, -300, 70000, 2^40, -2^40, {}, nil, 0/0, 1/0, -1/0, -0.0)", '0'),
    lua("local out = {} for _, n in ipairs({0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53, 2^63, -2^63, 1e300, 3.25}) do out[#out + 1] = cmsgpack.pack(n) end return out", '0'),
    lua("local out = {} for _, n in ipairs({0, 31, 32, 255, 256, 65535, 65536}) do out[#out + 1] = cmsgpack.pack(string.rep('a', n)):sub(1, 8) end return out", '0'),
    lua("local out = {} for _, n in ipairs({15, 16, 65535, 65536}) do local t = {} for i = 1, n do t[i] = i % 3 end out[#out + 1] = cmsgpack.pack(t):sub(1, 12) end return out", '0'),
    lua("local t = {} for i = 1, 20 do t = {t} end return {cmsgpack.pack(t), cmsgpack.pack({1, nil, 3}), cmsgpack.pack({[0] = 1}), cmsgpack.pack({[1.5] = 2}), cmsgpack.pack(type), cmsgpack.pack({x = {y = {}}})}", '0'),
    lua("local m = {} for i = 1, 20 do m['k' .. i] = i end local t = cmsgpack.unpack(cmsgpack.pack(m)) local n = 0 for k, v in pairs(t) do n = n + v end return {n, #cmsgpack.pack(m), cmsgpack.pack(m):byte(1)}", '0'),
    lua("return {cmsgpack.unpack(cmsgpack.pack({1, 2, {a = 1}}, 'x', true, false, 1.5, -5, 2^53, string.rep('b', 300), {c = {d = 'e'}}))}", '0'),
    lua("local s = string.char(0xcc, 200, 0xd0, 0x80, 0xcd, 1, 2, 0xd1, 0x80, 0, 0xce, 255, 255, 255, 255, 0xd2, 0x80, 0, 0, 0, 0xcf, 255, 255, 255, 255, 255, 255, 255, 255, 0xd3, 0, 0, 0, 1, 0, 0, 0, 0, 0xca, 0x40, 0x20, 0, 0, 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0xc0, 0xc3, 0xc2, 0xff, 0xe0, 0x7f) return {cmsgpack.unpack(s)}", '0'),
    lua("local s = string.char(0xd9, 2, 104, 105, 0xda, 0, 1, 33, 0xdb, 0, 0, 0, 1, 63, 0xdc, 0, 2, 1, 2, 0xdd, 0, 0, 0, 1, 7, 0xde, 0, 1, 0xa1, 107, 9, 0xdf, 0, 0, 0, 1, 1, 2, 0x92, 5, 6, 0x81, 0xa1, 122, 0xc3) local v = {cmsgpack.unpack(s)} return {v[1], v[2], v[3], v[4][2], v[5][1], v[6].k, v[7][1], v[8][2], v[9].z}", '0'),
    lua("local s, out, offset = cmsgpack.pack(1, 'two', {3}, nil, 5), {}, 0 while offset ~= -1 do local v offset, v = cmsgpack.unpack_one(s, offset) out[#out + 1] = offset out[#out + 1] = type(v) end return out", '0'),
    lua("local s = cmsgpack.pack(1, 2, 3, 4, 5) return {{cmsgpack.unpack_limit(s, 2)}, {cmsgpack.unpack_limit(s, 2, 2)}, {cmsgpack.unpack_limit(s, 9, 3)}, {cmsgpack.unpack_limit(s, 0, 1)}, {cmsgpack.unpack_one(s, '4')}, {cmsgpack.unpack(123)}}", '0'),
    lua("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}", '0'),
    // One key per map here: a map of several is written in next()'s order, Lua 5.4's (docs/resp.md).
    lua("redis.call('SET', KEYS[1], cmsgpack.pack({user = {'n', 3, true}})) local t = cmsgpack.unpack(redis.call('GET', KEYS[1])) return t.user", '1', 'packed'), ['GET', 'packed'],
  ]],
  [0, [
    lua('return cmsgpack.pack()', '0'), lua('return cmsgpack.unpack()', '0'), lua('return cmsgpack.unpack({})', '0'),
    lua('return cmsgpack.unpack(string.char(0xc1))', '0'), lua('return cmsgpack.unpack(string.char(0xc4, 1, 65))', '0'), lua('return cmsgpack.unpack(string.char(0xd4, 1, 1))', '0'),
    lua('return cmsgpack.unpack(string.char(0xcd, 1))', '0'), lua('return cmsgpack.unpack(string.char(0x82, 1, 2))', '0'), lua('return cmsgpack.unpack(string.char(0xdb, 0, 0, 1, 0, 65))', '0'),
    lua("return cmsgpack.unpack_one('abc', -1)", '0'), lua("return cmsgpack.unpack_one('abc', 9)", '0'), lua("return cmsgpack.unpack_limit('a')", '0'),
    lua("return cmsgpack.unpack_limit('a', -2)", '0'), lua("return cmsgpack.unpack_one('a', 'x')", '0'), lua('cmsgpack.pack = nil', '0'),
    lua('return cmsgpack.unpack(nil)', '0'), lua("return cmsgpack.unpack_limit('a', nil)", '0'), lua("return {cmsgpack.unpack_one(cmsgpack.pack(7), nil)}", '0'),
  ]],
];

/** Lua 5.1's math and table functions that 5.4 dropped, given back (their values printed as 5.1 prints them). */
const LUA51: Step[] = [
  [0, [
    lua("return {tostring(math.log10(2)), tostring(math.atan2(-1, -2)), tostring(math.cosh(1.5)), tostring(math.sinh(-0.5)), tostring(math.tanh(0.3)), math.mod(7, 3), math.mod(-7, 3), tostring(math.ldexp(0.5, 1024)), tostring(math.ldexp(3, -2)), tostring(math.ldexp(1, -1074))}", '0'),
    lua("local out = {} for _, x in ipairs({1, 8, 0.1, -3.5, 1e300, 5e-324, 2^-1030, 0}) do local m, e = math.frexp(x) out[#out + 1] = tostring(m) .. ' ' .. tostring(e) end return out", '0'),
    lua("return {table.maxn({1, 2, [10] = 3, [2.5] = 1, x = 1}), table.maxn({}), table.maxn({[-1] = 1})}", '0'),
    lua("local out = {} table.foreach({a = 1}, function(k, v) out[#out + 1] = k .. v end) table.foreachi({'x', 'y'}, function(i, v) out[#out + 1] = i .. v end) return {out, table.foreachi({5, 6}, function(i, v) if i == 2 then return v * 10 end end), table.getn({1, 2, 3})}", '0'),
    lua("local out = {} for w in string.gfind('a bb ccc', '%a+') do out[#out + 1] = w end return {out, gcinfo() > 0, gcinfo() == math.floor(gcinfo())}", '0'),
    lua('return table.setn({}, 1)', '0'), lua('table.setn({}, 1) return 1', '0'),
    // The globals a script sees are Redis's (the host's helpers out of sight), and 5.4's rawlen.
    lua("local t = {} for k in pairs(_G) do if k ~= 'rawlen' then t[#t + 1] = k end end table.sort(t) return t", '0'), lua('return type(__redis__err__handler)', '0'),
    // getmetatable(_G): Redis 7.0's readonly table, whose __index refuses an absent global.
    lua("local m = getmetatable(_G) local t = {} for k, v in pairs(m) do t[#t + 1] = k .. ':' .. type(v) end return {t, pcall(m.__index, _G, 'zz')}", '0'),
    lua('local m = getmetatable(_G) m.x = 1 return 1', '0'), lua('setmetatable(getmetatable(_G), {}) return 1', '0'), lua('return rawequal(getmetatable(_G), getmetatable(_G))', '0'),
  ]],
];

/** struct (Redis's, for Lua 5.1 on x86-64): formats, endianness, alignment, sizes, what unpack reads, the errors. */
const STRUCT: Step[] = [
  [0, [
    lua("return {struct.pack('>iHb', 1, 2, 3), struct.pack('<i3hd', -2, 300, 1.5), struct.pack('!4bi!8bd', 1, 2, 3, 4.25), struct.pack('c5s', 'abcdefg', 'zz'), struct.pack('c0', 'whole'), struct.pack('I16', -1), struct.pack('L', 2^63 + 4096), struct.pack('>lT', -5, 7), struct.pack(' x b B ', -1, 255), struct.pack('i0f', 9, 0.1), struct.pack('c', '12'), struct.pack('i', '42')}", '0'),
    lua("return {struct.unpack('>iHb', struct.pack('>iHb', -1, 65535, -3))}", '0'), lua("return {struct.unpack('bc0', struct.pack('bc0', 3, 'xyz'))}", '0'),
    lua("return {struct.unpack('s', 'ab' .. string.char(0) .. 'c')}", '0'), lua("return {struct.unpack('b', 'ab', 2)}", '0'), lua("return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}", '0'),
    lua("return {struct.unpack('L', string.rep(string.char(255), 8)) > 1e19, struct.unpack('l', string.rep(string.char(255), 8))}", '0'),
    lua("return {struct.unpack('i2', string.char(255, 127)), struct.unpack('I2', string.char(255, 255)), struct.unpack('>I3', string.char(1, 2, 3))}", '0'),
    lua("return {struct.unpack('<f>d', struct.pack('<f>d', 0.1, 0.1))}", '0'), lua("return {struct.size('!8bdi3'), struct.size('xxh'), struct.size('zq'), struct.size('c9')}", '0'),
    lua("redis.call('SET', KEYS[1], struct.pack('>I4c3', 1000, 'abc')) return {struct.unpack('>I4c3', redis.call('GET', KEYS[1]))}", '1', 'st'), ['GET', 'st'],
  ]],
  [0, [
    lua("return struct.pack('c5', 'ab')", '0'), lua("return struct.pack('z', 1)", '0'), lua("return struct.pack('i33', 1)", '0'), lua("return struct.pack('!3b', 1)", '0'),
    lua("return struct.pack('i', 'x')", '0'), lua("return struct.pack('i')", '0'), lua('return struct.pack()', '0'), lua("return struct.pack('b3', 1)", '0'),
    lua("return {struct.unpack('c0', 'ab')}", '0'), lua("return {struct.unpack('i', 'ab')}", '0'), lua("return {struct.unpack('b', 'ab', 0)}", '0'), lua("return struct.unpack('s', 'ab')", '0'),
    lua("return struct.unpack('i', nil)", '0'), lua("return struct.unpack('i')", '0'), lua("return struct.size('s')", '0'), lua("return struct.size('c0')", '0'),
    lua("return struct.size('z?')", '0'), lua('return struct.size()', '0'), lua("return struct.pack('!0b', 1)", '0'), lua('struct.pack = nil', '0'),
  ]],
];

/**
 * Scripts inside MULTI: queued, then checked, compiled and run by EXEC in order with the commands around them (their
 * errors EXEC's replies), events and counts as Redis's; WATCH of a key written by another client, by a script, or
 * by the connection itself aborts it; the transaction's own writes do not.
 */
const IN_MULTI: Step[] = [
  [1, [['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'], ['PSUBSCRIBE', '__key*@0__:*']]],
  [0, [['MULTI'], ['SET', 't', '1'], lua("return redis.call('INCR', KEYS[1])", '1', 't'), lua('return 1', '2', 't'), ['EVALSHA', '0'.repeat(40), '0'],
    lua('return (', '0'), ['EVAL_RO', "return redis.call('SET', 't', '5')", '0'], lua("redis.call('SET', 'u', '5') return redis.call('NOSUCH')", '0'),
    ['GET', 'u'], ['PUBLISH', 'ch', 'm'], lua("return {redis.call('GET', 't'), redis.call('EXISTS', 'nokey'), redis.pcall('INCR', 'u', 'x')}", '0'),
    ['APPEND', 't', 'z'], lua("return redis.call('GET', KEYS[1])", '1', 't'), ['EXEC']]],
  [0, [['HELLO', '3'], ['MULTI'], lua("redis.setresp(3) return redis.call('GET', 't')", '0'), lua('return {double = 1.5}', '0'), lua("error('boom')", '0'),
    ['SCRIPT', 'LOAD', 'return ARGV[1]'], ['EXEC'], ['HELLO', '2']]],
  [0, [['MULTI'], ['EVALSHA', '098e0f0d1448c0a81dafe820f66d460eb09263da', '0', 'x'], ['EVALSHA_RO', '098E0F0D1448C0A81DAFE820F66D460EB09263DA', '0', 'y'], ['EXEC']]],
  // SCRIPT inside MULTI acts as EXEC runs it, in order; DISCARD drops it. (A script after a FLUSH that follows a
  // script in the same transaction is the one case left out: docs/resp.md.)
  [0, [['MULTI'], ['SCRIPT', 'FLUSH'], ['DISCARD'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da'],
    ['MULTI'], ['EVALSHA', '098e0f0d1448c0a81dafe820f66d460eb09263da', '0', 'z'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da'], ['SCRIPT', 'LOAD', 'return 2'], ['EXEC'],
    ['MULTI'], ['SCRIPT', 'FLUSH'], ['SCRIPT', 'LOAD', 'return ARGV[1]'], ['EVALSHA', '098e0f0d1448c0a81dafe820f66d460eb09263da', '0', 'w'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da', '7f923f79fe76194c868d7e1d0820de36700eb649'], ['EXEC'],
    ['MULTI'], ['SET', 't', '2'], ['SCRIPT', 'FLUSH'], ['EVALSHA', '098e0f0d1448c0a81dafe820f66d460eb09263da', '0', 'v'], ['SCRIPT', 'LOAD', 'return ('], ['SCRIPT', 'FLUSH', 'x'], ['EXEC'],
    ['MULTI'], ['SET', 't', '3'], ['SCRIPT', 'LOAD', 'return ARGV[1]'], ['SCRIPT', 'EXISTS', '098e0f0d1448c0a81dafe820f66d460eb09263da'], ['EXEC']]],
  [2, [['SET', 'w', '1'], ['WATCH', 'w']]],
  [0, [['SET', 'w', '2']]],
  [2, [['MULTI'], lua("return redis.call('INCR', KEYS[1])", '1', 'w'), ['EXEC'], ['GET', 'w']]],
  [2, [['WATCH', 'w']]],
  [0, [lua("return redis.call('SET', KEYS[1], '3')", '1', 'w')]],
  [2, [['MULTI'], lua("return redis.call('INCR', KEYS[1])", '1', 'w'), ['EXEC']]],
  [2, [['WATCH', 'w'], lua("return redis.call('SET', KEYS[1], '4')", '1', 'w'), ['MULTI'], lua("return redis.call('GET', KEYS[1])", '1', 'w'), ['EXEC']]],
  [2, [['WATCH', 'w', 'nokey'], ['MULTI'], lua("return redis.call('SET', KEYS[1], 'x')", '1', 'nokey'), ['INCR', 'w'], lua("return redis.call('GET', 'w')", '0'), ['EXEC'], ['MGET', 'w', 'nokey']]],
  [2, [['MULTI'], lua("return redis.call('SET', 'd', '1')", '0'), ['DISCARD'], ['EXISTS', 'd'], ['MULTI'], lua("return redis.call('SET', 'd', '1')", '0'), ['GET'], ['EXEC'], ['EXISTS', 'd']]],
];

/** A random Lua value's source: numbers, strings of any bytes, booleans, arrays, maps of one key (their order is 5.4's). */
function luaValue(r: Prng, depth: number): string {
  const roll = r.int(depth >= 3 ? 4 : 6);
  if (roll === 0) return String(r.pick([0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32769, 2147483647, -2147483649, 4294967296, 9007199254740991])! + (r.chance(0.3) ? r.int(1000) : 0));
  if (roll === 1) return `(${r.int(2000000) - 1000000}/${r.pick([1, 2, 3, 8, 10, 1000, 3.5e10])})`;
  if (roll === 2) return `"${Array.from({ length: r.int(r.chance(0.1) ? 300 : 40) }, () => `\\${r.int(256)}`).join('')}"`;
  if (roll === 3) return r.chance(0.5) ? 'true' : 'false';
  if (roll === 4) return `{${Array.from({ length: r.int(r.chance(0.1) ? 20 : 5) }, () => luaValue(r, depth + 1)).join(', ')}}`;
  return `{["k${r.int(100)}"] = ${luaValue(r, depth + 1)}}`;
}

/** Some bytes: a value's msgpack or JSON with a byte changed, dropped or added, or noise. */
function mangled(r: Prng, text: Buffer): Buffer {
  const b = [...text];
  const at = r.int(b.length + 1);
  const what = r.int(4);
  if (what === 0 && b.length > 0) b.splice(Math.min(at, b.length - 1), 1);
  else if (what === 1) b.splice(at, 0, r.pick([0x2c, 0x5d, 0x7d, 0x3a, 0x22, 0x31, 0x2d, 0x65, 0x2e, 0x20, 0x78, 0x5b, 0x7b, 0xc1, 0xd9, 0xdc, 0xcb, 0x92])!);
  else if (what === 2 && b.length > 0) b[Math.min(at, b.length - 1)] = r.int(256);
  return Buffer.from(b);
}

/** cjson, cmsgpack and struct over seeded random values: their bytes, their round trips, and decodes of mangled input. */
function libraryFuzz(seed: number, count: number): Step[] {
  const r = new Prng(seed);
  const steps: Step[] = [];
  const show = "local function show(...) local out = {} for i = 1, select('#', ...) do local v = select(i, ...) if type(v) == 'number' then out[i] = v ~= v and 'nan' or string.format('%.17g', v) elseif type(v) == 'table' then out[i] = 'table' else out[i] = tostring(v) end end return out end ";
  for (let i = 0; i < count; i++) {
    const v = luaValue(r, 0);
    steps.push([0, [
      lua(`local v = ${v} return {cjson.encode(v), cmsgpack.pack(v), cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack(v))), cjson.encode(cjson.decode(cjson.encode(v)))}`, '0'),
      lua(`local v = ${v} local ok, j = pcall(cjson.encode, v) local m = cmsgpack.pack(v) return {tostring(ok), j, m}`, '0'),
    ]]);
  }
  // struct: a random format and values for it, packed, unpacked, sized; and unpacked from mangled bytes.
  for (let i = 0; i < 4; i++) {
    let fmt = r.pick(['', '<', '>', '!', '!4', '!2'])!;
    const vals: string[] = [];
    for (let n = 1 + r.int(5); n > 0; n--) {
      const o = r.pick(['b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I', 'f', 'd', 'x', 'c', 's', ' '])!;
      const size = (o === 'i' || o === 'I') && r.chance(0.5) ? String(1 + r.int(8)) : o === 'c' ? String(1 + r.int(4)) : '';
      fmt += o + size + (r.chance(0.1) ? r.pick(['>', '<', '!8'])! : '');
      if (o === 'c' || o === 's') vals.push(`'${'abcdefgh'.slice(0, 1 + r.int(6))}'`);
      else if (o === 'f' || o === 'd') vals.push(`(${r.int(20000) - 10000}/${r.pick([1, 4, 3, 7])})`);
      else if (o !== 'x' && o !== ' ') vals.push(String(r.pick([0, 1, -1, 127, -128, 255, 256, 65535, -32768, 2147483647, -2147483648, 4294967295, 123456789012])! ));
    }
    steps.push([0, [
      // Called by name, not through pcall: an argument error names the function only then (pcall's is '?', on
      // Redis's C functions; docs/resp.md).
      lua(`local s = struct.pack(ARGV[1], ${vals.join(', ')}) return {s, {struct.unpack(ARGV[1], s)}}`, '0', fmt),
      lua('return struct.size(ARGV[1])', '0', fmt),
      [...lua('return {struct.unpack(ARGV[1], ARGV[2])}', '0', fmt), mangled(r, Buffer.from('abcdefghijklmnopqrstuvwx0123456789')).toString('latin1')],
    ]]);
  }
  return steps.map(([c, cmds]) => [c, cmds.concat(...Array.from({ length: 2 }, () => {
    const json = mangled(r, Buffer.from(JSON.stringify(r.pick([1, -2.5, 'a"b', [1, [2, {}]], { k: [true, null] }, '\u00e9', 1e300, [[[[]]]]]))));
    return [
      [...lua(show + 'local ok, v = pcall(cjson.decode, ARGV[1]) if ok then return {1, cjson.encode(v)} end return {0, v}', '0'), json.toString('latin1')],
      [...lua(show + 'return show(pcall(cmsgpack.unpack, ARGV[1]))', '0'), mangled(r, Buffer.from([0x93, 0x01, 0xa2, 0x61, 0x62, 0x92, 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0xc3])).toString('latin1')],
    ];
  }))]);
}

test('EVAL and SCRIPT: the same replies, errors, counts, events and WATCH from threadraft as from Redis', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  for (const [name, steps, conns] of [['conversions', CONVERSIONS, 1], ['errors', ERRORS, 1], ['cjson', CJSON, 1], ['commands', COMMANDS, 1], ['cmsgpack', CMSGPACK, 1], ['struct', STRUCT, 1], ['Lua 5.1', LUA51, 1], ['events', EVENTS, 3], ['in MULTI', IN_MULTI, 3]] as const) {
    await sameAsRedis(redis, served, { name, conns, steps: [[0, [['FLUSHALL']]], ...steps] });
  }
  // THREADRAFT_LUA_SEEDS=1-500 runs more.
  const [from, to] = parseSeedRange(process.env.THREADRAFT_LUA_SEEDS ?? '1-4') ?? [1, 4];
  for (let seed = from; seed <= to; seed++) await sameAsRedis(redis, served, { name: `cjson, cmsgpack and struct, seed ${seed} (THREADRAFT_LUA_SEEDS=${seed})`, conns: 1, steps: libraryFuzz(seed, 10) });
}));

test('scripts are atomic against other clients and each other: concurrent read-modify-write scripts, transfers and INCRs lose no update', async () => {
  const served = await serve();
  const conns: SimpleConn[] = [];
  try {
    for (let i = 0; i < 12; i++) conns.push(await SimpleConn.open('127.0.0.1', served.port));
    // Not atomic unless the script is: GET, then SET of one more (a lost update shows as a smaller total).
    const body = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') redis.call('SET', KEYS[1], v + 1) return v + 1";
    // Moves one from a key to another, both read first: the two keys' sum stays 0 only if each script sees the
    // writes of the scripts run before it (those run together in one group included).
    const transfer = "local a = tonumber(redis.call('GET', KEYS[1]) or '0') local b = tonumber(redis.call('GET', KEYS[2]) or '0') redis.call('SET', KEYS[1], a - 1) redis.call('SET', KEYS[2], b + 1) return a - 1";
    const rounds = 30;
    await Promise.all(conns.map(async (c, i) => {
      for (let r = 0; r < rounds; r++) {
        // A third of the connections increment with INCR, a plain write that may land between a script's read and
        // write; a third run the counter's script; a third move between x and y, one way or the other.
        const kind = i % 3;
        const reply = kind === 0 ? await c.call(['INCR', 'counter']) : kind === 1 ? await c.call(['EVAL', body, '1', 'counter'])
          : await c.call(['EVAL', transfer, '2', ...(r % 2 === 0 ? ['x', 'y'] : ['y', 'x'])]);
        assert.equal(typeof reply, 'number', String(reply));
      }
    }));
    assert.equal(Number(String(await conns[0]!.call(['GET', 'counter']))), (conns.length / 3) * 2 * rounds);
    const [x, y] = (await conns[0]!.call(['MGET', 'x', 'y'])) as string[];
    assert.equal(Number(x) + Number(y), 0, `x ${x}, y ${y}`);
    // A key the script did not declare: it is read, and the script runs again with it.
    await conns[0]!.call(['SET', 'hidden', '41']);
    assert.equal(await conns[0]!.call(['EVAL', "return redis.call('INCR', 'hidden')", '0']), 42);
    // A script past busy-reply-threshold is stopped, and nothing it did is written.
    assert.equal(String(await conns[0]!.call(['CONFIG', 'SET', 'busy-reply-threshold', '200'])), 'OK');
    const stopped = await conns[0]!.call(['EVAL', "redis.call('SET', 'looped', '1') while true do end", '0']);
    assert.ok(stopped instanceof RespError && /busy-reply-threshold \(200 ms\) and was stopped/.test(stopped.message), String(stopped));
    assert.equal(await conns[0]!.call(['EXISTS', 'looped']), 0);
    assert.equal(await conns[1]!.call(['PING']), 'PONG', 'the server answers after it');
    const check = await served.cluster.checkReplicas();
    assert.ok(check.consistent, JSON.stringify(check.nodes));
  } finally {
    for (const c of conns) c.close();
    await served.stop();
  }
});

test('transactions holding a script, under WATCH, lose no update to concurrent scripts, transactions and INCRs', async () => {
  const served = await serve();
  const conns: SimpleConn[] = [];
  try {
    for (let i = 0; i < 9; i++) conns.push(await SimpleConn.open('127.0.0.1', served.port));
    const body = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') redis.call('SET', KEYS[1], v + 1) return v + 1";
    const rounds = 20;
    let aborted = 0;
    await Promise.all(conns.map(async (c, i) => {
      for (let r = 0; r < rounds; r++) {
        const kind = i % 3;
        if (kind === 0) assert.equal(typeof await c.call(['INCR', 'counter']), 'number');
        else if (kind === 1) assert.equal(typeof await c.call(['EVAL', body, '1', 'counter']), 'number');
        else {
          // Optimistic: WATCH, read, then write one more inside MULTI (by a script, or by SET beside a script) until
          // EXEC goes ahead. A script run in the same group before EXEC that wrote the key must abort it too.
          for (let attempt = 0; ; attempt++) {
            assert.ok(attempt < 500, 'EXEC aborted 500 times in a row');
            assert.equal(await c.call(['WATCH', 'counter']), 'OK');
            const v = Number(await c.call(['GET', 'counter']) ?? 0);
            assert.equal(await c.call(['MULTI']), 'OK');
            if (r % 2 === 0) await c.call(['EVAL', "return redis.call('SET', KEYS[1], ARGV[1])", '1', 'counter', String(v + 1)]);
            else {
              await c.call(['SET', 'counter', String(v + 1)]);
              await c.call(['EVAL', "return redis.call('INCR', KEYS[1])", '1', 'txs']);
            }
            const done = await c.call(['EXEC']);
            if (done !== null) {
              assert.ok(Array.isArray(done) && done.length === (r % 2 === 0 ? 1 : 2), JSON.stringify(done));
              break;
            }
            aborted++;
          }
        }
      }
    }));
    assert.equal(Number(String(await conns[0]!.call(['GET', 'counter']))), conns.length * rounds, `${aborted} EXECs aborted`);
    assert.equal(Number(String(await conns[0]!.call(['GET', 'txs']))), (conns.length / 3) * (rounds / 2));
    // A script that writes a watched key and the EXEC run in one group, the script first: the script's write is not
    // in the revision the group read, and must abort EXEC all the same. A slow script holds the server while the
    // other two arrive (they then run together, in the order they came). The three are sent in one turn: the server
    // runs in this process, and its script holds this thread too.
    const [slow, writer, watcher] = conns as [SimpleConn, SimpleConn, SimpleConn];
    let ordered = 0;
    for (let trial = 0; trial < 4; trial++) {
      await writer.call(['SET', 'g', '10']);
      assert.equal(await watcher.call(['WATCH', 'g']), 'OK');
      assert.equal(await watcher.call(['MULTI']), 'OK');
      assert.equal(await watcher.call(['EVAL', "return redis.call('SET', KEYS[1], '11')", '1', 'g']), 'QUEUED');
      const held = slow.call(['EVAL', "for i = 1, 20000000 do end return redis.call('INCR', KEYS[1])", '1', 'slow']);
      const incr = writer.call(['EVAL', "return redis.call('INCR', KEYS[1])", '1', 'g']);
      const exec = watcher.call(['EXEC']);
      const [, n, done] = await Promise.all([held, incr, exec]);
      if (n === 11) {
        ordered++; // the INCR ran first: EXEC must not go ahead
        assert.equal(done, null, 'EXEC after a script that wrote its watched key');
        assert.equal(String(await writer.call(['GET', 'g'])), '11');
      } else {
        assert.deepEqual([n, done], [12, ['OK']]);
      }
    }
    assert.ok(ordered > 0, 'the INCR never ran before EXEC: the case was not tried');
    const check = await served.cluster.checkReplicas();
    assert.ok(check.consistent, JSON.stringify(check.nodes));
  } finally {
    for (const c of conns) c.close();
    await served.stop();
  }
});

test('a transaction its WATCH aborts after SCRIPT FLUSH was queued runs nothing: the scripts stay (as on Redis)', async () => {
  const s = await serve({ nodes: 1, storage: 'memory' });
  const [a, b] = await Promise.all([SimpleConn.open('127.0.0.1', s.port), SimpleConn.open('127.0.0.1', s.port)]);
  try {
    const sha = await a.call(['SCRIPT', 'LOAD', 'return ARGV[1]']);
    for (const cmd of [['WATCH', 'v'], ['MULTI'], ['SCRIPT', 'FLUSH'], ['EVAL', 'return 1', '0']]) await a.call(cmd);
    assert.equal(await b.call(['SET', 'v', '1']), 'OK');
    assert.equal(await a.call(['EXEC']), null);
    assert.deepEqual(await a.call(['SCRIPT', 'EXISTS', String(sha)]), [1]);
  } finally {
    a.close();
    b.close();
    await s.stop();
  }
});

test('scripts EVAL compiled are kept 500 at most, the least recently run evicted first (as Redis 7.4); SCRIPT LOAD\'s are kept', async () => {
  const served = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', served.port);
  try {
    const sha = (body: string): string => createHash('sha1').update(body).digest('hex');
    const info = async (): Promise<string> => String(await c.call(['INFO', 'everything']));
    const field = (text: string, name: string): number => Number(new RegExp(`^${name}:(\\d+)\\r$`, 'm').exec(text)?.[1]);
    assert.equal(await c.call(['SCRIPT', 'LOAD', "return 'kept'"]), sha("return 'kept'"));
    assert.equal(await c.call(['EVAL', "return 'often'", '0']), 'often');
    // 600 new bodies; the first one run again every 100.
    for (let i = 1; i <= 600; i++) {
      assert.equal(await c.call(['EVAL', `return ${i}`, '0']), i);
      if (i % 100 === 0) assert.equal(await c.call(['EVALSHA', sha("return 'often'"), '0']), 'often');
    }
    const text = await info();
    assert.equal(field(text, 'evicted_scripts'), 101, '601 compiled by EVAL, 500 kept');
    assert.equal(field(text, 'number_of_cached_scripts'), 501);
    assert.deepEqual(await c.call(['SCRIPT', 'EXISTS', sha("return 'kept'"), sha("return 'often'"), sha('return 1'), sha('return 101'), sha('return 102'), sha('return 600')]), [1, 1, 0, 0, 1, 1]);
    const gone = await c.call(['EVALSHA', sha('return 1'), '0']);
    assert.ok(gone instanceof RespError && gone.message.startsWith('NOSCRIPT'), String(gone));
    assert.equal(await c.call(['EVAL', 'return 1', '0']), 1, 'EVAL compiles it again');
    // SCRIPT LOAD of a script EVAL compiled keeps it; SCRIPT FLUSH drops every one.
    assert.equal(await c.call(['SCRIPT', 'LOAD', 'return 102']), sha('return 102'));
    for (let i = 601; i <= 1200; i++) assert.equal(await c.call(['EVAL', `return ${i}`, '0']), i);
    assert.deepEqual(await c.call(['SCRIPT', 'EXISTS', sha("return 'kept'"), sha('return 102'), sha('return 600'), sha('return 1200')]), [1, 1, 0, 1]);
    assert.equal(field(await info(), 'number_of_cached_scripts'), 502);
    assert.equal(await c.call(['SCRIPT', 'FLUSH']), 'OK');
    assert.equal(field(await info(), 'number_of_cached_scripts'), 0);
    // A script sees the Redis version INFO announces (it said 7.0.15 while INFO said 7.2.0).
    const version = /^redis_version:(.*)\r$/m.exec(await info())?.[1];
    assert.deepEqual(await c.call(['EVAL', 'return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}', '0']), [version, 0x070200]);
  } finally {
    c.close();
    await served.stop();
  }
});

test('redis.log writes to the server\'s log at its loglevel or above (CONFIG GET and SET loglevel, logfile), as pino lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-log-'));
  const file = join(dir, 'server.log');
  try {
    const served = await serve({ nodes: 1 }, { logLevel: 'verbose', logFile: file });
    const c = await SimpleConn.open('127.0.0.1', served.port);
    try {
      const logAll = (tag: string): string[] => ['EVAL', `redis.log(redis.LOG_DEBUG, '${tag}', 'debug') redis.log(redis.LOG_VERBOSE, '${tag}', 'verbose') redis.log(redis.LOG_NOTICE, '${tag}', 'notice', 7) redis.log(redis.LOG_WARNING, '${tag}', 'warning', {}) return 1`, '0'];
      assert.deepEqual(await c.call(['CONFIG', 'GET', 'log*']), ['loglevel', 'verbose', 'logfile', file]);
      assert.equal(await c.call(logAll('a')), 1);
      assert.equal(await c.call(['CONFIG', 'SET', 'loglevel', 'WARNING']), 'OK');
      assert.equal(await c.call(logAll('b')), 1);
      const bad = await c.call(['CONFIG', 'SET', 'loglevel', 'loud']);
      assert.ok(bad instanceof RespError && bad.message === "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing", String(bad));
      assert.equal(await c.call(['CONFIG', 'SET', 'loglevel', 'nothing']), 'OK');
      assert.equal(await c.call(logAll('c')), 1);
      const bad2 = await c.call(['EVAL', 'redis.log(9, "x")', '0']);
      assert.ok(bad2 instanceof RespError && /Invalid debug level/.test(bad2.message), String(bad2));
    } finally {
      c.close();
      await served.stop();
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; source: string });
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.source]), [
      [20, 'a verbose', 'script'], [30, 'a notice 7', 'script'], [40, 'a warning', 'script'], [40, 'b warning', 'script'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
