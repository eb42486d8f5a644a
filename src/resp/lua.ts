// The Lua of EVAL: Lua 5.4 compiled to WebAssembly (wasmoon's build, driven through its C API so that strings stay
// bytes), set up as Redis 7.0 sets up its Lua: the base, table, string and math libraries, bit, the redis table
// (call, pcall, error_reply, status_reply, sha1hex, log, setresp, set_repl, replicate_commands), cjson, cmsgpack, struct, Redis's pcall (an
// error table becomes its message), its math.random (the same 48-bit generator, so the same numbers), KEYS and ARGV,
// and globals that cannot be created or read when absent. What a script asks of Redis goes to `ScriptHost.call`.
// Learned from Redis's src/script_lua.c and src/eval.c (7.0.15); the code is ours.
//
// Lua 5.4 is not Redis's Lua 5.1: integers and floats are two kinds of number (10/2 is 5.0, and prints so), and
// 5.1's unpack, loadstring, gcinfo, string.gfind and the math and table functions 5.4 dropped are given back
// (docs/resp.md).
import { createHash } from 'node:crypto';
import { LuaWasm } from 'wasmoon';
import { BoolReply, DoubleReply, ErrorReply, integerReply, MapReply, type Reply, ReplyWriter, SetReply, SimpleString, VerbatimReply } from './reply.js';

type Module = LuaWasm['module'] & {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _lua_tolstring(L: number, idx: number, len: number): number;
  _lua_pushlstring(L: number, p: number, n: number): number;
  _luaL_loadbufferx(L: number, p: number, n: number, name: number, mode: number): number;
  _lua_pcallk(L: number, nargs: number, nresults: number, errfunc: number, ctx: number, k: number): number;
  _lua_error(L: number): number;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_pushcclosure(L: number, f: number, n: number): void;
  _lua_pushlightuserdata(L: number, p: number): void;
  _lua_sethook(L: number, f: number, mask: number, count: number): void;
};

const LUA_REGISTRYINDEX = -1001000;
const T_NIL = 0;
const T_BOOLEAN = 1;
const T_NUMBER = 3;
const T_STRING = 4;
const T_TABLE = 5;
const LUA_MASKCOUNT = 8;
/** The hook runs every this many instructions (Redis's luaMaskCountHook: 100,000). */
const HOOK_EVERY = 100_000;

/** What a script's redis.call reaches: the command's reply; the protocol it is read in is the script's (setresp). */
export interface ScriptHost {
  call(args: Buffer[], protocol: 2 | 3): Reply;
  /** Whether `args` name a command (redis.acl_check_cmd: the default user may run every one). */
  known(args: Buffer[]): boolean;
  /** redis.log(level, ...): the message, its level 0 (debug) to 3 (warning). */
  log(level: number, message: string): void;
}

/** A script stopped by the host (its time ran out, or it must run again): it ends the run whatever the script does. */
export class ScriptAbort {
  constructor(readonly reason: 'timeout' | 'retry', readonly error: ErrorReply | undefined = undefined) {}
}

export interface ScriptOutcome {
  reply: Reply;
  /** The host's abort, when the run was stopped (its reply is then meaningless). */
  aborted?: ScriptAbort;
}

/** Redis 7.0's Lua globals protection and its pcall, 5.1's names, Redis's random and the bit library, in Lua. */
const PRELUDE = `
local G = _G
local dbg = debug
-- What the host calls (the error handler, the libraries' Lua behind their C functions, the globals' proxy): kept in
-- the registry, out of a script's sight. The host's own two functions are taken from the globals here.
local HOST = {}
dbg.getregistry().threadraft = HOST
local aborted, wrap = __threadraft_aborted, __threadraft_wrap
__threadraft_aborted, __threadraft_wrap = nil, nil
local rawpcall, rawerror, type, tostring, select, unpack = pcall, error, type, tostring, select, table.unpack
-- Argument checks as luaL_check* makes them, for the C libraries written here in Lua (cjson, cmsgpack, struct):
-- ABSENT stands for an argument past those given ('no value'; a nil given is 'nil').
local ABSENT = {}
local function typeName(v) if v == ABSENT then return 'no value' end return type(v) end
local function argError(fn, n, msg) rawerror('bad argument #' .. n .. " to '" .. fn .. "' (" .. msg .. ')', 0) end
local function checkString(fn, v, n)
  if type(v) == 'number' then return tostring(v) end
  if type(v) ~= 'string' then argError(fn, n, 'string expected, got ' .. typeName(v)) end
  return v
end
local function checkNumber(fn, v, n)
  local x = (type(v) == 'number' or type(v) == 'string') and tonumber(v) or nil
  if x == nil then argError(fn, n, 'number expected, got ' .. typeName(v)) end
  return x
end
-- luaL_checkinteger: a number truncated toward zero, as 5.1's lua_tointeger does.
local function checkInteger(fn, v, n)
  local x = checkNumber(fn, v, n)
  return math.tointeger(x >= 0 and math.floor(x) or math.ceil(x)) or 0
end
-- A number cmsgpack or struct read, as 5.1's double holds it: an integer past 2^53 a float (its reply and its text
-- are Redis's then).
local function asDouble(v)
  if math.type(v) == 'integer' and (v >= 2^53 or v <= -2^53) then return v + 0.0 end
  return v
end
local utf8char = utf8.char
HOST.err__handler = function(err)
  -- The frame that raised it: past C functions and this prelude's own (the globals' guards), as Redis's C ones are.
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=prelude') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then err['source'] = i.source; err['line'] = i.currentline end
  return err
end
-- Redis's name for it, which a script sees among the globals.
G.__redis__err__handler = HOST.err__handler
G.pcall = function(f, ...)
  local r = table.pack(rawpcall(f, ...))
  if aborted() then rawerror(r[2], 0) end
  if not r[1] and type(r[2]) == 'table' and type(r[2].err) == 'string' then r[2] = r[2].err end
  return unpack(r, 1, r.n)
end
local rawxpcall = xpcall
G.xpcall = function(f, h, ...)
  local r = table.pack(rawxpcall(f, function(e) if aborted() then return e end return h(e) end, ...))
  if aborted() then rawerror(r[2], 0) end
  return unpack(r, 1, r.n)
end
G.unpack = table.unpack
math.pow = function(x, y) return x ^ y end
table.getn = function(t) return #t end
-- The rest of 5.1's functions that 5.4 dropped, as 5.1 answers them (Redis 7.0 has no setfenv, getfenv or newproxy).
G.gcinfo = function() return math.floor(collectgarbage('count')) end
string.gfind = string.gmatch
math.mod = math.fmod
math.log10 = function(x) return math.log(x, 10) end
math.atan2 = function(y, x) return math.atan(y, x) end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x)
  if x > 20 then return 1.0 elseif x < -20 then return -1.0 end
  local a, b = math.exp(x), math.exp(-x)
  return (a - b) / (a + b)
end
math.ldexp = function(m, e)
  e = math.tointeger(e) or math.floor(e)
  local half = e // 2
  return m * 2.0 ^ half * 2.0 ^ (e - half)
end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = 0
  local m = math.abs(x)
  while m >= 1 do m = m / 2 e = e + 1 end
  while m < 0.5 do m = m * 2 e = e - 1 end
  return x < 0 and -m or m, e
end
table.maxn = function(t)
  local max = 0
  for k in next, t do if type(k) == 'number' and k > max then max = k end end
  return max
end
table.foreach = function(t, f)
  for k, v in next, t do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
table.foreachi = function(t, f)
  for i = 1, #t do
    local r = f(i, t[i])
    if r ~= nil then return r end
  end
end
-- table.setn: a C function set by the host around this (its error names the script's line, as 5.1's C one's does).
HOST.table_setn = function() rawerror("'setn' is obsolete", 0) end
-- Redis's redisLrand48: 48 bits, a = 0x5DEECE66D, c = 0xB, seeded as its rand.c is at start.
local state = 0x1234ABCD330E
local function lrand48()
  state = (state * 0x5DEECE66D + 0xB) & 0xFFFFFFFFFFFF
  return state >> 17
end
math.random = function(...)
  local r = (lrand48() % 0x7FFFFFFF) / 0x7FFFFFFF
  local n = select('#', ...)
  if n == 0 then return r end
  local l, u
  if n == 1 then l, u = 1, math.tointeger(math.floor(...)) else l, u = math.tointeger(math.floor((...))), math.tointeger(math.floor(select(2, ...))) end
  if n > 2 then rawerror('wrong number of arguments', 2) end
  if l > u then rawerror("bad argument #" .. n .. " to 'random' (interval is empty)", 2) end
  return math.floor(r * (u - l + 1)) + l
end
math.randomseed = function(x)
  state = ((math.tointeger(math.floor(x)) & 0xFFFFFFFF) << 16) | 0x330E
end
-- LuaBitOp on 32-bit integers.
local function tobit(x)
  x = math.tointeger(math.floor(x)) & 0xFFFFFFFF
  if x >= 0x80000000 then x = x - 0x100000000 end
  return x
end
local function fold(op)
  return function(x, ...)
    local r = tobit(x)
    for i = 1, select('#', ...) do r = op(r, tobit((select(i, ...)))) end
    return tobit(r)
  end
end
G.bit = {
  tobit = tobit,
  bnot = function(x) return tobit(~tobit(x)) end,
  band = fold(function(a, b) return a & b end),
  bor = fold(function(a, b) return a | b end),
  bxor = fold(function(a, b) return a ~ b end),
  lshift = function(x, n) return tobit(tobit(x) << (tobit(n) & 31)) end,
  rshift = function(x, n) return tobit((tobit(x) & 0xFFFFFFFF) >> (tobit(n) & 31)) end,
  arshift = function(x, n) return tobit(tobit(x) >> (tobit(n) & 31) | (tobit(x) < 0 and ~(0xFFFFFFFF >> (tobit(n) & 31)) or 0)) end,
  rol = function(x, n) n = tobit(n) & 31; x = tobit(x) & 0xFFFFFFFF; return tobit((x << n) | (x >> (32 - n))) end,
  ror = function(x, n) n = tobit(n) & 31; x = tobit(x) & 0xFFFFFFFF; return tobit((x >> n) | (x << (32 - n))) end,
  bswap = function(x) x = tobit(x) & 0xFFFFFFFF; return tobit(((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24)) end,
  tohex = function(x, n)
    n = n or 8
    local up = n < 0
    if up then n = -n end
    local s = string.format(up and '%08X' or '%08x', tobit(x) & 0xFFFFFFFF)
    return s:sub(-n)
  end,
}
-- lua-cjson 2.1.0 as Redis ships it: encode (numbers as %.14g, '/' escaped, arrays of keys 1..n, at most twice as
-- many slots as items past 10) and decode (strtod's numbers, inf, nan and hex ones too; its error words), and its
-- settings (encode_sparse_array, encode_max_depth, decode_max_depth, encode_number_precision, encode_keep_buffer,
-- encode_invalid_numbers, decode_invalid_numbers), each module's own (cjson.new() makes another); cjson.null is set
-- from the host (a null light userdata).
do
  local escapes = { ['"'] = '\\\\"', ['\\\\'] = '\\\\\\\\', ['/'] = '\\\\/', ['\\b'] = '\\\\b', ['\\f'] = '\\\\f', ['\\n'] = '\\\\n', ['\\r'] = '\\\\r', ['\\t'] = '\\\\t' }
  local function str(s)
    return '"' .. (s:gsub('[%c"\\\\/\\127]', function(c) return escapes[c] or string.format('\\\\u%04x', c:byte()) end)) .. '"'
  end
  -- strtod: the number at p of s (a sign, then inf, infinity, nan, a hex or a decimal number), and the position
  -- after it; nil when there is none.
  local function strtod(s, p)
    local i, negative = p, false
    local c = s:sub(i, i)
    if c == '+' or c == '-' then
      negative = c == '-'
      i = i + 1
    end
    local word = s:sub(i, i + 7):lower()
    if word == 'infinity' then return negative and -math.huge or math.huge, i + 8 end
    if word:sub(1, 3) == 'inf' then return negative and -math.huge or math.huge, i + 3 end
    if word:sub(1, 3) == 'nan' then
      local j = i + 3
      local tag = s:match('^%([%w_]*%)', j)
      if tag then j = j + #tag end
      local nan = -(0 / 0)
      return negative and -nan or nan, j
    end
    local text
    if word:sub(1, 2) == '0x' and s:match('^%.?%x', i + 2) then
      text = s:match('^0[xX]%x*%.?%x*', i)
      local e = s:match('^[pP][+-]?%d+', i + #text)
      if e then text = text .. e end
    else
      text = s:match('^%d*%.?%d*', i)
      if not text:find('%d') then return nil end
      local e = s:match('^[eE][+-]?%d+', i + #text)
      if e then text = text .. e end
    end
    local v = tonumber(text)
    if negative then v = -v end
    return v, i + #text
  end
  -- lua-cjson's json_is_invalid_number: a number strict JSON refuses (a plus sign, hex, leading zeros, inf, nan).
  local function invalidNumber(s, p)
    local c = s:sub(p, p)
    if c == '+' then return true end
    if c == '-' then p = p + 1 c = s:sub(p, p) end
    if c == '0' then
      local c2 = s:sub(p + 1, p + 1)
      return c2 == 'x' or c2 == 'X' or c2:match('%d') ~= nil
    end
    if c == '' or c <= '9' then return false end
    local w = s:sub(p, p + 2):lower()
    return w == 'inf' or w == 'nan'
  end
  local function makeModule()
    local cfg = {}
    local function reset()
      for k, v in pairs({ sparseConvert = 0, sparseRatio = 2, sparseSafe = 10, encodeDepth = 1000, decodeDepth = 1000, encodeInvalid = 0, decodeInvalid = 1, keepBuffer = 1, precision = 14 }) do cfg[k] = v end
    end
    reset()
    local function num(x)
      if x ~= x or x == math.huge or x == -math.huge then
        if cfg.encodeInvalid == 0 then rawerror('Cannot serialise number: must not be NaN or Inf', 0) end
        if cfg.encodeInvalid == 2 then return 'null' end
        if x ~= x then return 'nan' end
      end
      return string.format('%.' .. cfg.precision .. 'g', x)
    end
    local encode
    local function arrayLength(t)
      local max, items = 0, 0
      for k in pairs(t) do
        if type(k) == 'number' and k > 0 and math.floor(k) == k then
          if k > max then max = k end
          items = items + 1
        else
          return -1
        end
      end
      if cfg.sparseRatio > 0 and max > items * cfg.sparseRatio and max > cfg.sparseSafe then
        if cfg.sparseConvert == 0 then rawerror('Cannot serialise table: excessively sparse array', 0) end
        return -1
      end
      return max
    end
    encode = function(v, depth)
      local t = type(v)
      if t == 'string' then return str(v) end
      if t == 'number' then return num(v) end
      if t == 'boolean' then return v and 'true' or 'false' end
      if t == 'nil' or v == G.cjson.null then return 'null' end
      if t ~= 'table' then rawerror('Cannot serialise ' .. t .. ': type not supported', 0) end
      if depth > cfg.encodeDepth then rawerror('Cannot serialise, excessive nesting (' .. depth .. ')', 0) end
      local n = arrayLength(v)
      local out = {}
      if n > 0 then
        for i = 1, n do out[i] = encode(v[i], depth + 1) end
        return '[' .. table.concat(out, ',') .. ']'
      end
      for k, x in pairs(v) do
        local kt = type(k)
        local key
        if kt == 'string' then key = str(k) elseif kt == 'number' then key = '"' .. num(k) .. '"'
        else rawerror('Cannot serialise ' .. kt .. ': table key must be a number or string', 0) end
        out[#out + 1] = key .. ':' .. encode(x, depth + 1)
      end
      return '{' .. table.concat(out, ',') .. '}'
    end
    local function decoder(s)
      local pos = 1
      local scanString
      local function token()
        local p = s:find('[^ \\t\\n\\r]', pos) or (#s + 1)
        pos = p
        local c = s:sub(p, p)
        if c == '' or c == '\\0' then return 'T_END', p end
        if c == '{' then return 'T_OBJ_BEGIN', p elseif c == '}' then return 'T_OBJ_END', p
        elseif c == '[' then return 'T_ARR_BEGIN', p elseif c == ']' then return 'T_ARR_END', p
        elseif c == ':' then return 'T_COLON', p elseif c == ',' then return 'T_COMMA', p
        elseif c == '"' then
          local v, after, at = scanString(p)
          if v == nil then return after, at end
          return 'T_STRING', p, v, after
        elseif c:match('[%-0-9]') then
          if cfg.decodeInvalid == 0 and invalidNumber(s, p) then return 'invalid number', p end
          return strtod(s, p) and 'T_NUMBER' or 'invalid number', p
        elseif s:sub(p, p + 3) == 'true' or s:sub(p, p + 4) == 'false' then return 'T_BOOLEAN', p
        elseif s:sub(p, p + 3) == 'null' then return 'T_NULL', p
        elseif cfg.decodeInvalid ~= 0 and invalidNumber(s, p) then return strtod(s, p) and 'T_NUMBER' or 'invalid number', p end
        return 'invalid token', p
      end
      local function fail(what, found, at) rawerror('Expected ' .. what .. ' but found ' .. found .. ' at character ' .. at, 0) end
      -- A string token at p, as lua-cjson reads one (a NUL ends the input): its value and the position after it, or
      -- nil, the error word and where it was found.
      scanString = function(p)
        local out, i = {}, p + 1
        while true do
          local c = s:sub(i, i)
          if c == '' or c == '\\0' then return nil, 'unexpected end of string', i end
          if c == '"' then return table.concat(out), i + 1 end
          if c == '\\\\' then
            local e = s:sub(i + 1, i + 1)
            local simple = ({ ['"'] = '"', ['\\\\'] = '\\\\', ['/'] = '/', b = '\\b', f = '\\f', n = '\\n', r = '\\r', t = '\\t' })[e]
            if simple then out[#out + 1] = simple i = i + 2
            elseif e == 'u' then
              local hex = s:sub(i + 2, i + 5)
              if not hex:match('^%x%x%x%x$') then return nil, 'invalid unicode escape code', i end
              local cp = tonumber(hex, 16)
              local len = 6
              if cp & 0xF800 == 0xD800 then
                local lo = s:sub(i + 6, i + 7) == '\\\\u' and s:sub(i + 8, i + 11):match('^%x%x%x%x$') and tonumber(s:sub(i + 8, i + 11), 16)
                if cp & 0x400 ~= 0 or not lo or lo & 0xFC00 ~= 0xDC00 then return nil, 'invalid unicode escape code', i end
                cp = (((cp & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000
                len = 12
              end
              out[#out + 1] = utf8char(cp)
              i = i + len
            else return nil, 'invalid escape code', i end
          else
            out[#out + 1] = c
            i = i + 1
          end
        end
      end
      local value
      value = function(depth)
        local t, p, str, after = token()
        if (t == 'T_OBJ_BEGIN' or t == 'T_ARR_BEGIN') and depth > cfg.decodeDepth then rawerror('Found too many nested data structures (' .. depth .. ') at character ' .. p, 0) end
        if t == 'T_STRING' then
          pos = after
          return str
        end
        if t == 'T_NUMBER' then
          local n, after = strtod(s, p)
          pos = after
          return math.tointeger(n) or n
        end
        if t == 'T_BOOLEAN' then
          if s:sub(p, p + 3) == 'true' then pos = p + 4 return true end
          pos = p + 5
          return false
        end
        if t == 'T_NULL' then pos = p + 4 return G.cjson.null end
        if t == 'T_OBJ_BEGIN' then
          pos = p + 1
          local obj = {}
          local k, kp, key, kafter = token()
          if k == 'T_OBJ_END' then pos = kp + 1 return obj end
          while true do
            if k ~= 'T_STRING' then fail('object key string', k, kp) end
            pos = kafter
            local c, cp = token()
            if c ~= 'T_COLON' then fail('colon', c, cp) end
            pos = cp + 1
            obj[key] = value(depth + 1)
            local e, ep = token()
            if e == 'T_OBJ_END' then pos = ep + 1 return obj end
            if e ~= 'T_COMMA' then fail('comma or object end', e, ep) end
            pos = ep + 1
            k, kp, key, kafter = token()
          end
        end
        if t == 'T_ARR_BEGIN' then
          pos = p + 1
          local arr = {}
          local e, ep = token()
          if e == 'T_ARR_END' then pos = ep + 1 return arr end
          local i = 1
          while true do
            arr[i] = value(depth + 1)
            i = i + 1
            e, ep = token()
            if e == 'T_ARR_END' then pos = ep + 1 return arr end
            if e ~= 'T_COMMA' then fail('comma or array end', e, ep) end
            pos = ep + 1
          end
        end
        fail('value', t, p)
      end
      local v = value(1)
      local t, p = token()
      if t ~= 'T_END' then fail('the end', t, p) end
      return v
    end
    local m = {}
    m.encode = function(v) return encode(v, 1) end
    m.decode = function(v)
      v = checkString('decode', v, 1)
      -- A NUL among the first two bytes: UTF-16 or UTF-32, as lua-cjson guesses.
      if #v >= 2 and (v:byte(1) == 0 or v:byte(2) == 0) then rawerror('JSON parser does not support UTF-16 or UTF-32', 0) end
      return decoder(v)
    end
    -- The settings, as lua-cjson's: no argument (or nil) reads one, a value sets it; each answers the setting.
    local function argInit(fn, given, args) if given > args then argError(fn, args + 1, 'found too many arguments') end end
    local function integer(fn, n, v, current, min, max)
      if v == nil then return current end
      local x = checkInteger(fn, v, n)
      if x < min or x > max then argError(fn, 1, 'expected integer between ' .. min .. ' and ' .. max) end
      return x
    end
    local BOOL = { 'off', 'on' }
    local function enum(fn, n, v, current, options)
      if v == nil then return current end
      if type(v) == 'boolean' then return v and 1 or 0 end
      if type(v) ~= 'string' and type(v) ~= 'number' then argError(fn, n, 'string expected, got ' .. typeName(v)) end
      for i, o in ipairs(options) do if o == tostring(v) then return i - 1 end end
      argError(fn, n, "invalid option '" .. tostring(v) .. "'")
    end
    local function enumValue(setting, options) if setting <= 1 then return setting == 1 end return options[setting + 1] end
    local INT_MAX = 2147483647
    m.encode_sparse_array = function(...)
      argInit('encode_sparse_array', select('#', ...), 3)
      local convert, ratio, safe = ...
      cfg.sparseConvert = enum('encode_sparse_array', 1, convert, cfg.sparseConvert, BOOL)
      cfg.sparseRatio = integer('encode_sparse_array', 2, ratio, cfg.sparseRatio, 0, INT_MAX)
      cfg.sparseSafe = integer('encode_sparse_array', 3, safe, cfg.sparseSafe, 0, INT_MAX)
      return enumValue(cfg.sparseConvert, BOOL), cfg.sparseRatio, cfg.sparseSafe
    end
    local function integerSetting(name, key, min, max)
      m[name] = function(...)
        argInit(name, select('#', ...), 1)
        cfg[key] = integer(name, 1, (...), cfg[key], min, max)
        return cfg[key]
      end
    end
    integerSetting('encode_max_depth', 'encodeDepth', 1, INT_MAX)
    integerSetting('decode_max_depth', 'decodeDepth', 1, INT_MAX)
    integerSetting('encode_number_precision', 'precision', 1, 14)
    local function enumSetting(name, key, options)
      m[name] = function(...)
        argInit(name, select('#', ...), 1)
        cfg[key] = enum(name, 1, (...), cfg[key], options)
        return enumValue(cfg[key], options)
      end
    end
    enumSetting('encode_keep_buffer', 'keepBuffer', BOOL)
    enumSetting('encode_invalid_numbers', 'encodeInvalid', { 'off', 'on', 'null' })
    enumSetting('decode_invalid_numbers', 'decodeInvalid', BOOL)
    return m, reset
  end
  -- cjson.new(): another module, with settings of its own (its functions C functions, as the module's).
  local function newModule()
    local t = { _NAME = 'cjson', _VERSION = '2.1.0', null = G.cjson.null, new = newModule }
    for name, f in pairs(makeModule()) do
      t[name] = wrap(function(...)
        if (name == 'encode' or name == 'decode') and select('#', ...) ~= 1 then argError(name, 1, 'expected 1 argument') end
        return f(...)
      end)
    end
    return t
  end
  -- The module's functions are C functions set by the host around these (a script's error line, as lua-cjson's).
  local main, reset = makeModule()
  for name, f in pairs(main) do HOST['cjson_' .. name] = f end
  -- SCRIPT FLUSH: the settings as at start (Redis makes a new Lua state).
  HOST.cjson_reset = reset
  HOST.cjson_new = newModule
  G.cjson = { _NAME = 'cjson', _VERSION = '2.1.0' }
end
-- lua-cmsgpack 0.4.0 as Redis ships it: pack (a number that is an integer, as Lua 5.1 sees it, in the shortest
-- integer form; another as a float when one holds it exactly, else a double; a table of keys 1..n an array, any other
-- a map, in next()'s order; a table nested 16 deep, and any other type, nil), unpack, unpack_one, unpack_limit (the
-- values of a stream: arrays and maps as tables; bin, ext and 0xc1 are a bad format, as this version knows them not).
do
  local spack, sunpack, mtype, tointeger, char = string.pack, string.unpack, math.type, math.tointeger, string.char
  local function int(n)
    if n >= 0 then
      if n <= 127 then return char(n) end
      if n <= 0xff then return spack('>BB', 0xcc, n) end
      if n <= 0xffff then return spack('>BI2', 0xcd, n) end
      if n <= 0xffffffff then return spack('>BI4', 0xce, n) end
      return spack('>Bi8', 0xcf, n)
    end
    if n >= -32 then return spack('b', n) end
    if n >= -128 then return spack('>Bb', 0xd0, n) end
    if n >= -32768 then return spack('>Bi2', 0xd1, n) end
    if n >= -2147483648 then return spack('>Bi4', 0xd2, n) end
    return spack('>Bi8', 0xd3, n)
  end
  local function header(n, fix, b16, b32)
    if n <= 15 then return char(fix | n) end
    if n <= 0xffff then return spack('>BI2', b16, n) end
    return spack('>BI4', b32, n)
  end
  local function isArray(t)
    local count, max = 0, 0
    for k in next, t do
      if mtype(k) ~= 'integer' or k <= 0 then return false end
      if k > max then max = k end
      count = count + 1
    end
    return max == count
  end
  local encode
  encode = function(v, level, out)
    local t = type(v)
    if t == 'table' and level == 16 then t = 'nil' end
    if t == 'string' then
      local n = #v
      if n < 32 then out[#out + 1] = char(0xa0 | n)
      elseif n <= 0xff then out[#out + 1] = spack('>BB', 0xd9, n)
      elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xda, n)
      else out[#out + 1] = spack('>BI4', 0xdb, n) end
      out[#out + 1] = v
    elseif t == 'boolean' then out[#out + 1] = char(v and 0xc3 or 0xc2)
    elseif t == 'number' then
      local i = mtype(v) == 'integer' and v or tointeger(v)
      if i then out[#out + 1] = int(i)
      elseif sunpack('>f', spack('>f', v)) == v then out[#out + 1] = spack('>Bf', 0xca, v)
      else out[#out + 1] = spack('>Bd', 0xcb, v) end
    elseif t == 'table' then
      if isArray(v) then
        local n = rawlen(v)
        out[#out + 1] = header(n, 0x90, 0xdc, 0xdd)
        for j = 1, n do encode(v[j], level + 1, out) end
      else
        local n = 0
        for _ in next, v do n = n + 1 end
        out[#out + 1] = header(n, 0x80, 0xde, 0xdf)
        for k, x in next, v do
          encode(k, level + 1, out)
          encode(x, level + 1, out)
        end
      end
    else out[#out + 1] = char(0xc0) end
  end
  -- The decoder: the value at pos of s, and the position after it; an error word ('eof', 'fmt') for a bad one.
  local decode
  local function need(s, pos, n) if pos + n - 1 > #s then error('eof', 0) end end
  local function str(s, pos, n)
    need(s, pos, n)
    return s:sub(pos, pos + n - 1), pos + n
  end
  local function array(s, pos, n)
    local t = {}
    for i = 1, n do t[i], pos = decode(s, pos) end
    return t, pos
  end
  local function map(s, pos, n)
    local t = {}
    for _ = 1, n do
      local k, v
      k, pos = decode(s, pos)
      v, pos = decode(s, pos)
      t[k] = v
    end
    return t, pos
  end
  local fixed = {
    [0xcc] = { 1, '>B' }, [0xd0] = { 1, '>b' }, [0xcd] = { 2, '>I2' }, [0xd1] = { 2, '>i2' }, [0xce] = { 4, '>I4' },
    [0xd2] = { 4, '>i4' }, [0xd3] = { 8, '>i8' }, [0xca] = { 4, '>f' }, [0xcb] = { 8, '>d' },
    -- uint 64 as lua-cmsgpack pushes it (lua_pushinteger of the unsigned value): past 2^63, wrapped around.
    [0xcf] = { 8, '>i8' },
  }
  decode = function(s, pos)
    need(s, pos, 1)
    local b = s:byte(pos)
    local f = fixed[b]
    if f then
      need(s, pos, 1 + f[1])
      return asDouble((sunpack(f[2], s, pos + 1))), pos + 1 + f[1]
    end
    if b == 0xc0 then return nil, pos + 1 end
    if b == 0xc3 then return true, pos + 1 end
    if b == 0xc2 then return false, pos + 1 end
    if b == 0xd9 then need(s, pos, 2) return str(s, pos + 2, s:byte(pos + 1)) end
    if b == 0xda then need(s, pos, 3) return str(s, pos + 3, (sunpack('>I2', s, pos + 1))) end
    if b == 0xdb then need(s, pos, 5) return str(s, pos + 5, (sunpack('>I4', s, pos + 1))) end
    if b == 0xdc then need(s, pos, 3) return array(s, pos + 3, (sunpack('>I2', s, pos + 1))) end
    if b == 0xdd then need(s, pos, 5) return array(s, pos + 5, (sunpack('>I4', s, pos + 1))) end
    if b == 0xde then need(s, pos, 3) return map(s, pos + 3, (sunpack('>I2', s, pos + 1))) end
    if b == 0xdf then need(s, pos, 5) return map(s, pos + 5, (sunpack('>I4', s, pos + 1))) end
    if b < 0x80 then return b, pos + 1 end
    if b >= 0xe0 then return b - 256, pos + 1 end
    if b >= 0xa0 and b < 0xc0 then return str(s, pos + 1, b & 0x1f) end
    if b >= 0x90 and b < 0xa0 then return array(s, pos + 1, b & 0x0f) end
    if b >= 0x80 and b < 0x90 then return map(s, pos + 1, b & 0x0f) end
    error('fmt', 0)
  end
  -- Up to limit values (every one when limit and offset are 0) from byte offset: the values, and the offset after them
  -- first when not decoding every one (-1 once the input is used up).
  local function unpackFull(name, s, limit, offset)
    local all = limit == 0 and offset == 0
    if offset < 0 or limit < 0 then rawerror('Invalid request to unpack with offset of ' .. offset .. ' and limit of ' .. #s .. '.', 0) end
    if offset > #s then rawerror('Start offset ' .. offset .. ' greater than input length ' .. #s .. '.', 0) end
    local out, pos, n = {}, offset + 1, 0
    while pos <= #s and (all or n < limit) do
      local ok, v, after = pcall(decode, s, pos)
      if not ok then
        if v == 'eof' then rawerror('Missing bytes in input.', 0) end
        if v == 'fmt' then rawerror('Bad data format in input.', 0) end
        error(v, 0)
      end
      n = n + 1
      out[n] = v
      pos = after
    end
    if all then return table.unpack(out, 1, n) end
    return pos > #s and -1 or pos - 1, table.unpack(out, 1, n)
  end
  -- The library's functions are C functions set by the host around these (an error then names the script's line).
  HOST.cmsgpack_pack = function(...)
    local n = select('#', ...)
    if n == 0 then rawerror("bad argument #0 to 'pack' (MessagePack pack needs input.)", 0) end
    local out = {}
    for i = 1, n do encode((select(i, ...)), 0, out) end
    return table.concat(out)
  end
  -- Arguments past those given are ABSENT ('no value'), a nil given is 'nil', as luaL_check* tells them apart.
  HOST.cmsgpack_unpack = function(...)
    local s = select('#', ...) < 1 and ABSENT or ...
    return unpackFull('unpack', checkString('unpack', s, 1), 0, 0)
  end
  HOST.cmsgpack_unpack_one = function(...)
    local s, offset = ...
    s = checkString('unpack_one', select('#', ...) < 1 and ABSENT or s, 1)
    return unpackFull('unpack_one', s, 1, offset == nil and 0 or checkInteger('unpack_one', offset, 2))
  end
  HOST.cmsgpack_unpack_limit = function(...)
    local given = select('#', ...)
    local s, limit, offset = ...
    s = checkString('unpack_limit', given < 1 and ABSENT or s, 1)
    return unpackFull('unpack_limit', s, checkInteger('unpack_limit', given < 2 and ABSENT or limit, 2), offset == nil and 0 or checkInteger('unpack_limit', offset, 3))
  end
  G.cmsgpack = { _NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0', _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo', _DESCRIPTION = 'MessagePack C implementation for Lua' }
end
-- The struct library as Redis ships it (Roberto Ierusalimschy's, for Lua 5.1, on x86-64): pack, unpack and size of
-- its formats ('<' '>' '!n' 'x' 'b' 'B' 'h' 'H' 'l' 'L' 'T' 'in' 'In' 'cn' 's' 'f' 'd'; little-endian and no
-- alignment by default; integers of up to 32 bytes, of which the 64 low bits carry the value), its errors.
do
  local spack, sunpack, char, byte = string.pack, string.unpack, string.char, string.byte
  -- (A value pack lacks is 'nil', not ABSENT: the C library marks the end of its arguments with a nil.)
  -- A number as the 64 bits C's (unsigned long) of it holds (negative ones through a long: two's complement).
  local function bits(x)
    if math.type(x) == 'integer' then return x end
    if x ~= x then return math.mininteger end
    if x < 0 then return math.tointeger(math.ceil(x)) or math.mininteger end
    if x < 2^63 then return math.tointeger(math.floor(x)) end
    if x < 2^64 then return math.tointeger(math.floor(x - 2^63)) | math.mininteger end
    return 0
  end
  local function getnum(f, default)
    local digits = f.s:match('^%d+', f.i)
    if digits == nil then return default end
    f.i = f.i + #digits
    local a = tonumber(digits)
    if a > 2147483647 then rawerror('integral size overflow', 0) end
    return math.tointeger(a)
  end
  local SIZES = { B = 1, b = 1, H = 2, h = 2, L = 8, l = 8, T = 8, f = 4, d = 8, x = 1 }
  local INTEGERS = { b = true, B = true, h = true, H = true, l = true, L = true, T = true, i = true, I = true }
  local function optsize(opt, f)
    if SIZES[opt] then return SIZES[opt] end
    if opt == 'c' then return getnum(f, 1) end
    if opt == 'i' or opt == 'I' then
      local size = getnum(f, 4)
      if size > 32 then rawerror('integral size ' .. size .. ' is larger than limit of 32', 0) end
      return size
    end
    return 0
  end
  local function toalign(len, h, opt, size)
    if size == 0 or opt == 'c' then return 0 end
    if size > h.align then size = h.align end
    return (size - (len & (size - 1))) & (size - 1)
  end
  local function control(fn, opt, f, h)
    if opt == ' ' then return end
    if opt == '>' then h.little = false return end
    if opt == '<' then h.little = true return end
    if opt == '!' then
      local a = getnum(f, 8)
      if not (a > 0 and (a & (a - 1)) == 0) then rawerror('alignment ' .. a .. ' is not a power of 2', 0) end
      h.align = a
      return
    end
    argError(fn, 1, "invalid format option '" .. opt .. "'")
  end
  local function option(f)
    local opt = f.s:sub(f.i, f.i)
    f.i = f.i + 1
    return opt
  end
  HOST.struct_pack = function(...)
    local fmt = checkString('pack', select('#', ...) == 0 and ABSENT or (...), 1)
    local args = table.pack(select(2, ...))
    local h, f = { little = true, align = 1 }, { s = fmt, i = 1 }
    local out, total, arg = {}, 0, 2
    while f.i <= #fmt do
      local opt = option(f)
      local size = optsize(opt, f)
      local pad = toalign(total, h, opt, size)
      total = total + pad
      if pad > 0 then out[#out + 1] = char(0):rep(pad) end
      if INTEGERS[opt] then
        local v = bits(checkNumber('pack', args[arg - 1], arg))
        arg = arg + 1
        local b = {}
        for i = 1, size do
          b[h.little and i or size - i + 1] = char(v & 0xff)
          v = v >> 8
        end
        out[#out + 1] = table.concat(b)
      elseif opt == 'x' then out[#out + 1] = char(0)
      elseif opt == 'f' or opt == 'd' then
        out[#out + 1] = spack((h.little and '<' or '>') .. opt, checkNumber('pack', args[arg - 1], arg))
        arg = arg + 1
      elseif opt == 'c' or opt == 's' then
        local v = checkString('pack', args[arg - 1], arg)
        arg = arg + 1
        if size == 0 then size = #v end
        if #v < size then argError('pack', arg, 'string too short') end
        out[#out + 1] = v:sub(1, size)
        if opt == 's' then
          out[#out + 1] = char(0)
          size = size + 1
        end
      else control('pack', opt, f, h) end
      total = total + size
    end
    return table.concat(out)
  end
  HOST.struct_unpack = function(...)
    local given = select('#', ...)
    local fmt, data, init = ...
    fmt = checkString('unpack', given < 1 and ABSENT or fmt, 1)
    data = checkString('unpack', given < 2 and ABSENT or data, 2)
    local pos = 1
    if init ~= nil then pos = checkInteger('unpack', init, 3) end
    if pos == 0 then argError('unpack', 3, 'offset must be 1 or greater') end
    pos = pos - 1
    local ld = #data
    local h, f = { little = true, align = 1 }, { s = fmt, i = 1 }
    local out, n = {}, 0
    while f.i <= #fmt do
      local opt = option(f)
      local size = optsize(opt, f)
      pos = pos + toalign(pos, h, opt, size)
      if pos < 0 or size > ld or pos > ld - size then argError('unpack', 2, 'data string too short') end
      if INTEGERS[opt] then
        local l = 0
        for i = 1, size do l = (l << 8) | byte(data, pos + (h.little and size - i + 1 or i)) end
        if opt:lower() == opt then
          local mask = -1 << ((size * 8 - 1) & 63)
          if l & mask ~= 0 then l = l | mask end
        elseif l < 0 then
          l = (l >> 1) * 2.0 + (l & 1)
        end
        n = n + 1
        out[n] = asDouble(l)
      elseif opt == 'f' or opt == 'd' then
        n = n + 1
        out[n] = sunpack((h.little and '<' or '>') .. opt, data, pos + 1)
      elseif opt == 'c' then
        if size == 0 then
          local prev = out[n]
          if n == 0 or not ((type(prev) == 'number' or type(prev) == 'string') and tonumber(prev)) then rawerror("format 'c0' needs a previous size", 0) end
          size = math.tointeger(math.floor(tonumber(prev))) or 0
          out[n] = nil
          n = n - 1
          if size > ld or pos > ld - size then argError('unpack', 2, 'data string too short') end
        end
        n = n + 1
        out[n] = data:sub(pos + 1, pos + size)
      elseif opt == 's' then
        local e = data:find(char(0), pos + 1, true)
        if e == nil then rawerror('unfinished string in data', 0) end
        size = e - pos
        n = n + 1
        out[n] = data:sub(pos + 1, e - 1)
      elseif opt ~= 'x' then control('unpack', opt, f, h) end
      pos = pos + size
    end
    out[n + 1] = pos + 1
    return table.unpack(out, 1, n + 1)
  end
  HOST.struct_size = function(...)
    local fmt = checkString('size', select('#', ...) == 0 and ABSENT or (...), 1)
    local h, f, pos = { little = true, align = 1 }, { s = fmt, i = 1 }, 0
    while f.i <= #fmt do
      local opt = option(f)
      local size = optsize(opt, f)
      pos = pos + toalign(pos, h, opt, size)
      if opt == 's' then argError('size', 1, "option 's' has no fixed size")
      elseif opt == 'c' and size == 0 then argError('size', 1, "option 'c0' has no fixed size") end
      if not opt:match('%w') then control('size', opt, f, h) end
      pos = pos + size
    end
    return pos
  end
  G.struct = {}
end
-- Readonly tables, as Redis 7.0's (its Lua's lua_enablereadonlytable): a script sees the globals and every table
-- reachable from them (string, table, math, redis, bit, cjson, coroutine, _G) and the strings' metatable through a
-- proxy that refuses writes, so no script changes what the next one runs. rawset, setmetatable, rawget, rawequal,
-- rawlen, next, getmetatable and load see through the proxies; pairs and # go to the table.
do
  local proxyOf, original = {}, {}
  local rawgetmetatable, rawsetmetatable, rawrawset, rawrawget, rawrawequal, rawrawlen, rawnext, rawload =
    getmetatable, setmetatable, rawset, rawget, rawequal, rawlen, next, load
  local function wrap(v) if v == nil then return nil end return proxyOf[v] or v end
  local function unwrap(v) if v == nil then return nil end return original[v] or v end
  local function iterate(t) return function(_, k) local nk, nv = rawnext(t, k) return nk, wrap(nv) end end
  -- The globals a script sees: reading an absent one or writing any is an error, as Redis 7.0's are.
  local env = {}
  proxyOf[G], original[env] = env, G
  local envMeta = {
    __index = function(_, k)
      local v = G[k]
      if v == nil then rawerror("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
      return wrap(v)
    end,
    __newindex = function() rawerror('Attempt to modify a readonly table', 2) end,
    __pairs = function(p) return iterate(G), p, nil end,
    __metatable = false,
  }
  rawsetmetatable(env, envMeta)
  local function protect(t)
    if proxyOf[t] then return end
    local p = {}
    proxyOf[t], original[p] = p, t
    rawsetmetatable(p, {
      __index = function(_, k) return wrap(t[k]) end,
      __newindex = function() rawerror('Attempt to modify a readonly table', 2) end,
      __pairs = function(q) return iterate(t), q, nil end,
      __len = function() return #t end,
    })
    for _, v in rawnext, t do if type(v) == 'table' then protect(v) end end
  end
  for _, v in rawnext, G do if type(v) == 'table' then protect(v) end end
  protect(rawgetmetatable(''))
  -- What getmetatable(_G) gives, as Redis 7.0's: a readonly table whose __index refuses an absent global.
  local globalsMeta = { __index = envMeta.__index }
  protect(globalsMeta)
  local function readonly(t) return original[t] ~= nil or proxyOf[t] ~= nil end
  G.rawset = function(t, k, v)
    if readonly(t) then rawerror('Attempt to modify a readonly table', 0) end
    return rawrawset(t, k, v)
  end
  G.setmetatable = function(t, mt)
    if readonly(t) then rawerror('Attempt to modify a readonly table', 0) end
    return rawsetmetatable(t, mt)
  end
  G.getmetatable = function(v)
    if v == env or v == G then return wrap(globalsMeta) end
    return wrap(rawgetmetatable(unwrap(v)))
  end
  G.rawget = function(t, k) return wrap(rawrawget(unwrap(t), k)) end
  G.rawequal = function(a, b) return rawrawequal(unwrap(a), unwrap(b)) end
  G.rawlen = function(t) return rawrawlen(unwrap(t)) end
  G.next = function(t, k)
    local nk, nv = rawnext(unwrap(t), k)
    return nk, wrap(nv)
  end
  -- A chunk a script loads runs in the script's globals (text only: a binary chunk could break the VM).
  G.load = function(chunk, name, _, e) return rawload(chunk, name, 't', e or env) end
  G.loadstring = G.load
  HOST.env = env
end
debug = nil
print, dofile, loadfile, require, io, os, package, utf8, warn = nil, nil, nil, nil, nil, nil, nil, nil, nil
`;

/** C's "%.17g": how Redis writes a number a script passes to redis.call. */
export function g17(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant, expText] = n.toExponential(16).split('e') as [string, string];
  const e = Number(expText);
  const strip = (t: string): string => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (e < -4 || e >= 17) return `${strip(mant)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return strip(n.toFixed(16 - e));
}

/** Redis's REDIS_VERSION_NUM: major, minor and patch of 'x.y.z' in one byte each (0x070200 for 7.2.0). */
function versionNum(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return (major << 16) | (minor << 8) | patch;
}

/** One Lua state for a server's scripts, their compiled functions kept by SHA1 in its registry. */
export class LuaRuntime {
  private readonly m: Module;
  private readonly L: number;
  private readonly lenPtr: number;
  private host: ScriptHost | undefined;
  private protocol: 2 | 3 = 2;
  private aborted: ScriptAbort | undefined;
  private deadline = 0;
  private readonly loaded = new Set<string>();

  private constructor(private readonly wasm: LuaWasm, redisVersion: string) {
    this.m = wasm.module as Module;
    const m = this.m;
    this.L = wasm.luaL_newstate() as unknown as number;
    this.lenPtr = m._malloc(8);
    const L = this.L;
    wasm.luaL_openlibs(L as never);
    this.pushFunction(() => {
      wasm.lua_pushboolean(L as never, this.aborted === undefined ? 0 : 1);
      return 1;
    });
    wasm.lua_setglobal(L as never, '__threadraft_aborted');
    const redis = [
      ['call', () => this.redisCall(true)],
      ['pcall', () => this.redisCall(false)],
      ['sha1hex', () => this.sha1hex()],
      ['acl_check_cmd', () => this.aclCheckCmd()],
      ['error_reply', () => this.singleField('err')],
      ['status_reply', () => this.singleField('ok')],
      ['log', () => this.log()],
      ['setresp', () => this.setresp()],
      ['set_repl', () => 0],
      ['replicate_commands', () => {
        wasm.lua_pushboolean(L as never, 1);
        return 1;
      }],
      ['breakpoint', () => {
        wasm.lua_pushboolean(L as never, 0);
        return 1;
      }],
      ['debug', () => 0],
    ] as const;
    wasm.lua_createtable(L as never, 0, redis.length + 10);
    for (const [name, f] of redis) {
      this.pushFunction(f);
      wasm.lua_setfield(L as never, -2, name);
    }
    const constants: Array<[string, number | string]> = [
      ['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3],
      ['REPL_NONE', 0], ['REPL_AOF', 1], ['REPL_SLAVE', 2], ['REPL_REPLICA', 2], ['REPL_ALL', 3],
      ['REDIS_VERSION', redisVersion], ['REDIS_VERSION_NUM', versionNum(redisVersion)],
    ];
    for (const [name, v] of constants) {
      if (typeof v === 'number') wasm.lua_pushinteger(L as never, BigInt(v));
      else this.pushBytes(Buffer.from(v));
      wasm.lua_setfield(L as never, -2, name);
    }
    wasm.lua_setglobal(L as never, 'redis');
    // __threadraft_wrap(f): f as a C function (errors raised where the script called it, as a C library's are).
    const wrapped = m.addFunction(() => this.guard(() => this.callUpvalue()), 'ii');
    this.pushFunction(() => {
      m._lua_settop(L, 1);
      m._lua_pushcclosure(L, wrapped, 1);
      return 1;
    });
    wasm.lua_setglobal(L as never, '__threadraft_wrap');
    if (this.load(Buffer.from(PRELUDE), '=prelude') !== undefined || m._lua_pcallk(L, 0, 0, 0, 0, 0) !== 0) {
      throw new Error(`the Lua prelude failed: ${this.text(-1)}`);
    }
    // cjson: C functions around the prelude's Lua (an error then names the script's line, as lua-cjson's C does:
    // a Lua function would replace the script's frame when called in a tail call), and null a null light userdata.
    wasm.lua_getglobal(L as never, 'cjson');
    for (const name of ['encode', 'decode'] as const) {
      this.pushFunction(() => this.cjson(name));
      wasm.lua_setfield(L as never, -2, name);
    }
    for (const name of ['encode_sparse_array', 'encode_max_depth', 'decode_max_depth', 'encode_number_precision', 'encode_keep_buffer', 'encode_invalid_numbers', 'decode_invalid_numbers', 'new']) {
      this.pushFunction(() => this.hosted(`cjson_${name}`));
      wasm.lua_setfield(L as never, -2, name);
    }
    m._lua_pushlightuserdata(L, 0);
    wasm.lua_setfield(L as never, -2, 'null');
    m._lua_settop(L, -2);
    wasm.lua_getglobal(L as never, 'table');
    this.pushFunction(() => this.hosted('table_setn'));
    wasm.lua_setfield(L as never, -2, 'setn');
    m._lua_settop(L, -2);
    wasm.lua_getglobal(L as never, 'struct');
    for (const name of ['pack', 'unpack', 'size'] as const) {
      this.pushFunction(() => this.hosted(`struct_${name}`));
      wasm.lua_setfield(L as never, -2, name);
    }
    m._lua_settop(L, -2);
    wasm.lua_getglobal(L as never, 'cmsgpack');
    for (const name of ['pack', 'unpack', 'unpack_one', 'unpack_limit'] as const) {
      this.pushFunction(() => this.hosted(`cmsgpack_${name}`));
      wasm.lua_setfield(L as never, -2, name);
    }
    m._lua_settop(L, -2);
    // The hook: a script past its time is stopped (its end is the host's: ScriptAbort).
    const hook = m.addFunction(() => {
      if (this.aborted === undefined && Date.now() > this.deadline) this.aborted = new ScriptAbort('timeout');
      if (this.aborted !== undefined) {
        this.stopped();
        m._lua_error(L);
      }
    }, 'vii');
    m._lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
  }

  /** `redisVersion`: what redis.REDIS_VERSION says (INFO's redis_version, so that a script sees what clients see). */
  static async create(redisVersion: string): Promise<LuaRuntime> {
    return new LuaRuntime(await LuaWasm.initialize(), redisVersion);
  }

  /** SHA1 of a script body, as Redis names it (40 lower-case hex digits). */
  static sha(body: Uint8Array): string {
    return createHash('sha1').update(body).digest('hex');
  }

  /** Whether the script `sha` is compiled here. */
  has(sha: string): boolean {
    return this.loaded.has(sha);
  }

  /** Compile `body` as the function of `sha` (SCRIPT LOAD, a first EVAL): undefined, or Redis's compile error. */
  compile(sha: string, body: Buffer): ErrorReply | undefined {
    if (this.loaded.has(sha)) return undefined;
    const w = this.wasm;
    const L = this.L as never;
    // Redis compiles "function f_<sha>() <body> end"; the body as a chunk of its own gives the same lines.
    const problem = this.load(body, '@user_script');
    // Lua 5.1 quotes the end of the script as a token, 5.4 does not: Redis's words.
    if (problem !== undefined) return new ErrorReply(`ERR Error compiling script (new function): ${problem.replace(/near <eof>$/, "near '<eof>'")}`);
    this.pushHost('env');
    if (w.lua_setupvalue(L, -2, 1) === null) w.lua_settop(L, -2);
    w.lua_setfield(L, LUA_REGISTRYINDEX, `f_${sha}`);
    this.loaded.add(sha);
    return undefined;
  }

  /** The compiled script `sha` dropped (evicted: ./commands/scripting.ts). */
  drop(sha: string): void {
    if (!this.loaded.delete(sha)) return;
    this.wasm.lua_pushnil(this.L as never);
    this.wasm.lua_setfield(this.L as never, LUA_REGISTRYINDEX, `f_${sha}`);
  }

  /** How many scripts are compiled (INFO's number_of_cached_scripts). */
  get size(): number {
    return this.loaded.size;
  }

  /** SCRIPT FLUSH: every compiled function dropped. */
  flush(): void {
    for (const sha of this.loaded) {
      this.wasm.lua_pushnil(this.L as never);
      this.wasm.lua_setfield(this.L as never, LUA_REGISTRYINDEX, `f_${sha}`);
    }
    this.loaded.clear();
    // cjson's settings go back to lua-cjson's defaults, as Redis's new Lua state has them.
    this.pushHost('cjson_reset');
    if (this.m._lua_pcallk(this.L, 0, 0, 0, 0, 0) !== 0) this.m._lua_settop(this.L, -2);
  }

  /** Run the compiled script `sha` with `keys` and `args` (KEYS, ARGV) and `host` for its calls, for at most `timeMs`. */
  run(sha: string, keys: Buffer[], args: Buffer[], host: ScriptHost, timeMs: number): ScriptOutcome {
    const w = this.wasm;
    const m = this.m;
    const L = this.L;
    this.host = host;
    this.protocol = 2;
    this.aborted = undefined;
    this.deadline = Date.now() + timeMs;
    const top = m._lua_gettop(L);
    try {
      this.pushArray(keys);
      w.lua_setglobal(L as never, 'KEYS');
      this.pushArray(args);
      w.lua_setglobal(L as never, 'ARGV');
      this.pushHost('err__handler');
      w.lua_getfield(L as never, LUA_REGISTRYINDEX, `f_${sha}`);
      const rc = m._lua_pcallk(L, 0, 1, top + 1, 0, 0);
      if (this.aborted !== undefined) return { reply: null, aborted: this.aborted };
      if (rc !== 0) return { reply: this.errorOf(sha) };
      return { reply: this.toReply(-1) };
    } finally {
      m._lua_settop(L, top);
      this.host = undefined;
    }
  }

  // ── the redis table ──

  /**
   * A JS function as a Lua one. No JS exception may cross the Lua state, and lua_error (a longjmp, which the
   * WebAssembly build makes a JS exception) must not be caught here: `f` returns RAISE to raise the error table it
   * pushed, and an exception it throws (the host's ScriptAbort, a bug) stops the run.
   */
  private guard(f: () => number): number {
    let n: number;
    try {
      n = f();
    } catch (err) {
      if (err instanceof ScriptAbort) this.aborted ??= err;
      else this.aborted ??= new ScriptAbort('retry', new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`));
      n = this.stopped();
    }
    return n === RAISE ? this.m._lua_error(this.L) : n;
  }

  /** The error a stopped run raises at each step (the host's outcome replaces it). */
  private stopped(): number {
    this.pushErrorTable('-ERR script stopped');
    return RAISE;
  }

  /** Push `f` as a Lua function (a C closure), guarded. */
  private pushFunction(f: () => number): void {
    this.m._lua_pushcclosure(this.L, this.m.addFunction(() => this.guard(f), 'ii'), 0);
  }

  /** The arguments of a redis lib call as a command's (Redis's luaArgsToRedisArgv), or the error pushed (raised or not). */
  private commandArgs(raise: boolean): Buffer[] | number {
    const L = this.L;
    const n = this.m._lua_gettop(L);
    if (n === 0) return this.callError('Please specify at least one argument for this redis lib call', raise);
    const args: Buffer[] = [];
    for (let i = 1; i <= n; i++) {
      const t = this.wasm.lua_type(L as never, i) as number;
      if (t === T_NUMBER) args.push(Buffer.from(g17(this.wasm.lua_tonumberx(L as never, i, null)), 'latin1'));
      else if (t === T_STRING) args.push(this.bytes(i));
      else return this.callError('Lua redis lib command arguments must be strings or integers', raise);
    }
    this.m._lua_settop(L, 0);
    return args;
  }

  /** redis.call (raise) and redis.pcall: the command's reply, or an error table (raised by call). */
  private redisCall(raise: boolean): number {
    if (this.aborted !== undefined) return this.stopped();
    const args = this.commandArgs(raise);
    if (typeof args === 'number') return args;
    const reply = this.host!.call(args, this.protocol);
    if (reply instanceof ErrorReply) return this.failCall(reply, raise);
    this.pushReply(reply);
    return 1;
  }

  /** redis.acl_check_cmd(command, ...): whether the user may run it (true: ACL here is the default user's), or an error for an unknown command. */
  private aclCheckCmd(): number {
    const args = this.commandArgs(true);
    if (typeof args === 'number') return args;
    if (!this.host!.known(args)) return this.raise('Invalid command passed to redis.acl_check_cmd()');
    this.wasm.lua_pushboolean(this.L as never, 1);
    return 1;
  }

  /**
   * The Lua function `push` pushes, called with this C function's arguments, its results returned; its error raised
   * where the script called, as a C library's is (a Lua function called in a tail call would leave no line).
   */
  private callAsLibrary(push: () => void): number {
    const w = this.wasm;
    const L = this.L;
    const n = this.m._lua_gettop(L);
    push();
    w.lua_rotate(L as never, 1, 1);
    if (this.m._lua_pcallk(L, n, -1, 0, 0, 0) !== 0) {
      w.luaL_where(L as never, 1);
      w.lua_rotate(L as never, -2, 1);
      w.lua_concat(L as never, 2);
      return RAISE;
    }
    return this.m._lua_gettop(L);
  }

  /** A library function of the prelude's (its `name` for the host: cmsgpack's, struct's, cjson's settings). */
  private hosted(name: string): number {
    return this.callAsLibrary(() => this.pushHost(name));
  }

  /** Push the prelude's `name` for the host (its registry table, out of a script's sight). */
  private pushHost(name: string): void {
    const w = this.wasm;
    w.lua_getfield(this.L as never, LUA_REGISTRYINDEX, 'threadraft');
    w.lua_getfield(this.L as never, -1, name);
    w.lua_rotate(this.L as never, -2, 1);
    this.m._lua_settop(this.L, -2);
  }

  /** A C closure made by __threadraft_wrap: its Lua function (upvalue 1) called as a library function. */
  private callUpvalue(): number {
    return this.callAsLibrary(() => this.wasm.lua_pushvalue(this.L as never, LUA_REGISTRYINDEX - 1));
  }

  /** cjson.encode / cjson.decode: the prelude's function of one argument, called as a library function. */
  private cjson(name: 'encode' | 'decode'): number {
    const w = this.wasm;
    const L = this.L;
    if (this.m._lua_gettop(L) !== 1) {
      w.luaL_where(L as never, 1);
      this.pushBytes(Buffer.from(`bad argument #1 to '${name}' (expected 1 argument)`));
      w.lua_concat(L as never, 2);
      return RAISE;
    }
    return this.callAsLibrary(() => this.pushHost(`cjson_${name}`));
  }

  /**
   * A command's error reply (its text has its code): raised by redis.call, the table returned by redis.pcall; marked
   * as counted in INFO errorstats already (when the command answered it), as Redis's ignore_error_stats_update.
   */
  private failCall(e: ErrorReply, raise: boolean): number {
    this.pushErrorTable(`-${e.text}`);
    this.wasm.lua_pushboolean(this.L as never, 1);
    this.wasm.lua_setfield(this.L as never, -2, 'ignore_error_stats_update');
    return raise ? RAISE : 1;
  }

  /** Raise a message of Redis's own (no code: ERR). */
  private raise(message: string): number {
    return this.callError(message, true);
  }

  /** An error table of a message of Redis's own: raised, or (redis.pcall) returned. */
  private callError(message: string, raise: boolean): number {
    this.pushErrorTable(message);
    return raise ? RAISE : 1;
  }

  /**
   * Redis's luaPushErrorBuff: {err = "CODE message"}. "-CODE message" gives its code (none without a space: ERR);
   * a text without the '-' is a message of Redis's own, coded ERR. A line end at the end is cut.
   */
  private pushErrorTable(text: string): void {
    let msg: string;
    if (text.startsWith('-')) {
      const space = text.indexOf(' ');
      msg = space < 0 ? `ERR ${text.slice(1)}` : `${text.slice(1, space)} ${text.slice(space + 1)}`;
    } else msg = `ERR ${text}`;
    msg = msg.replace(/[\r\n]+$/, '');
    this.wasm.lua_createtable(this.L as never, 0, 1);
    this.pushBytes(Buffer.from(msg, 'latin1'));
    this.wasm.lua_setfield(this.L as never, -2, 'err');
  }

  private sha1hex(): number {
    const L = this.L;
    if (this.m._lua_gettop(L) !== 1) return this.raise('wrong number of arguments');
    const t = this.wasm.lua_type(L as never, 1) as number;
    const body = t === T_STRING || t === T_NUMBER ? this.bytes(1) : Buffer.alloc(0);
    this.pushBytes(Buffer.from(LuaRuntime.sha(body), 'latin1'));
    return 1;
  }

  /** redis.error_reply and redis.status_reply: a one-field table; a bad argument gives an error table back. */
  private singleField(field: 'err' | 'ok'): number {
    const L = this.L;
    if (this.m._lua_gettop(L) !== 1 || (this.wasm.lua_type(L as never, 1) as number) !== T_STRING) {
      this.pushErrorTable('wrong number or type of arguments');
      return 1;
    }
    const text = this.bytes(1);
    if (field === 'err') {
      // Redis's error_reply adds the '-' the error text lacks, then reads the code from it.
      const s = text.toString('latin1');
      this.pushErrorTable(s.startsWith('-') ? s : `-${s}`);
      return 1;
    }
    this.wasm.lua_createtable(L as never, 0, 1);
    this.pushBytes(text);
    this.wasm.lua_setfield(L as never, -2, 'ok');
    return 1;
  }

  private log(): number {
    const L = this.L;
    const n = this.m._lua_gettop(L);
    if (n < 2) return this.raise('redis.log() requires two arguments or more.');
    if ((this.wasm.lua_type(L as never, 1) as number) !== T_NUMBER) return this.raise('First argument must be a number (log level).');
    const level = Math.trunc(this.wasm.lua_tonumberx(L as never, 1, null));
    if (level < 0 || level > 3) return this.raise('Invalid debug level.');
    const parts: string[] = [];
    for (let i = 2; i <= n; i++) {
      const t = this.wasm.lua_type(L as never, i) as number;
      if (t === T_STRING || t === T_NUMBER) parts.push(this.bytes(i).toString('utf8'));
    }
    this.host!.log(level, parts.join(' '));
    return 0;
  }

  private setresp(): number {
    const L = this.L;
    if (this.m._lua_gettop(L) !== 1) return this.raise('redis.setresp() requires one argument.');
    const v = Math.trunc(this.wasm.lua_tonumberx(L as never, 1, null));
    if (v !== 2 && v !== 3) return this.raise('RESP version must be 2 or 3.');
    this.protocol = v;
    return 0;
  }

  // ── values between Lua and replies ──

  /** A reply as Redis hands it to a script: encoded in the script's protocol, then read back as Lua values. */
  private pushReply(reply: Reply): void {
    const w = new ReplyWriter(this.protocol);
    w.write(reply);
    const bytes = Buffer.concat(w.take());
    const end = this.pushParsed(bytes, 0);
    if (end !== bytes.length) throw new Error(`a reply of ${bytes.length} bytes read as ${end}`);
  }

  /** Redis's redisProtocolToLuaType: one RESP value from `b` at `at` pushed; where it ends. */
  private pushParsed(b: Buffer, at: number): number {
    const w = this.wasm;
    const L = this.L as never;
    const eol = b.indexOf('\r\n', at, 'latin1');
    const line = b.toString('latin1', at + 1, eol);
    const next = eol + 2;
    switch (b[at]) {
      case 0x3a: // ':' integer: a number
        w.lua_pushinteger(L, BigInt(line));
        return next;
      case 0x24: { // '$' bulk, or null ($-1): false
        const n = Number(line);
        if (n < 0) {
          w.lua_pushboolean(L, 0);
          return next;
        }
        this.pushBytes(b.subarray(next, next + n));
        return next + n + 2;
      }
      case 0x2b: // '+' status: {ok = ...}
        w.lua_createtable(L, 0, 1);
        this.pushBytes(b.subarray(at + 1, eol));
        w.lua_setfield(L, -2, 'ok');
        return next;
      case 0x2d: // '-' error: {err = ...}
        this.pushErrorTable(`-${b.toString('latin1', at + 1, eol)}`);
        return next;
      case 0x2a: // '*' array, or null (*-1): false
      case 0x7e: // '~' set: {set = {member = true}}
      case 0x3e: { // '>' push
        const n = Number(line);
        if (n < 0) {
          w.lua_pushboolean(L, 0);
          return next;
        }
        let p = next;
        w.lua_createtable(L, b[at] === 0x7e ? 0 : n, 0);
        if (b[at] === 0x7e) {
          w.lua_createtable(L, 0, n);
          for (let i = 0; i < n; i++) {
            p = this.pushParsed(b, p);
            w.lua_pushboolean(L, 1);
            w.lua_rawset(L, -3);
          }
          w.lua_setfield(L, -2, 'set');
          return p;
        }
        for (let i = 1; i <= n; i++) {
          p = this.pushParsed(b, p);
          w.lua_rawseti(L, -2, BigInt(i));
        }
        return p;
      }
      case 0x25: { // '%' map: {map = {k = v}}
        const n = Number(line);
        let p = next;
        w.lua_createtable(L, 0, 1);
        w.lua_createtable(L, 0, n);
        for (let i = 0; i < n; i++) {
          p = this.pushParsed(b, p);
          p = this.pushParsed(b, p);
          w.lua_rawset(L, -3);
        }
        w.lua_setfield(L, -2, 'map');
        return p;
      }
      case 0x5f: // '_' null: nil
        w.lua_pushnil(L);
        return next;
      case 0x23: // '#' boolean
        w.lua_pushboolean(L, line === 't' ? 1 : 0);
        return next;
      case 0x2c: // ',' double: {double = n}
        w.lua_createtable(L, 0, 1);
        w.lua_pushnumber(L, Number(line === 'inf' ? Infinity : line === '-inf' ? -Infinity : line));
        w.lua_setfield(L, -2, 'double');
        return next;
      case 0x28: // '(' big number: {big_number = "..."}
        w.lua_createtable(L, 0, 1);
        this.pushBytes(Buffer.from(line, 'latin1'));
        w.lua_setfield(L, -2, 'big_number');
        return next;
      case 0x3d: { // '=' verbatim: {verbatim_string = {format = ..., string = ...}}
        const n = Number(line);
        w.lua_createtable(L, 0, 1);
        w.lua_createtable(L, 0, 2);
        this.pushBytes(b.subarray(next, next + 3));
        w.lua_setfield(L, -2, 'format');
        this.pushBytes(b.subarray(next + 4, next + n));
        w.lua_setfield(L, -2, 'string');
        w.lua_setfield(L, -2, 'verbatim_string');
        return next + n + 2;
      }
      default:
        throw new Error(`a reply starting with ${String(b[at])}`);
    }
  }

  /** Redis's luaReplyToRedisReply: the Lua value at `idx` as the script's reply. */
  private toReply(idx: number, depth = 0): Reply {
    const w = this.wasm;
    const L = this.L as never;
    const i = w.lua_absindex(L, idx);
    switch (w.lua_type(L, i) as number) {
      case T_STRING:
        return this.bytes(i);
      case T_BOOLEAN:
        return this.protocol === 2 ? (w.lua_toboolean(L, i) ? 1 : null) : new BoolReply(w.lua_toboolean(L, i) !== 0);
      case T_NUMBER:
        return this.integer(i);
      case T_TABLE:
        if (depth > 1000) return new ErrorReply('ERR reached lua stack limit');
        return this.tableReply(i, depth);
      default:
        return null;
    }
  }

  /**
   * A number as Redis's (long long) of it: truncated; NaN and numbers past the 64-bit range are the lowest integer,
   * as x86's conversion gives them.
   */
  private integer(i: number): Reply {
    const w = this.wasm;
    if (w.lua_isinteger(this.L as never, i)) return integerReply(this.bytes(i).toString('latin1')); // exact, any 64-bit integer
    const x = w.lua_tonumberx(this.L as never, i, null);
    const t = Math.trunc(x);
    if (Number.isSafeInteger(t)) return t;
    return integerReply(Number.isNaN(x) || x >= 2 ** 63 || x < -(2 ** 63) ? '-9223372036854775808' : BigInt(t).toString());
  }

  private tableReply(i: number, depth: number): Reply {
    const w = this.wasm;
    const L = this.L as never;
    const field = (name: string): number => {
      this.pushBytes(Buffer.from(name, 'latin1'));
      return w.lua_rawget(L, i) as number;
    };
    if (field('err') === T_STRING) {
      const text = this.bytes(-1).toString('latin1');
      w.lua_settop(L, -2);
      field('ignore_error_stats_update');
      const counted = w.lua_toboolean(L, -1) !== 0;
      w.lua_settop(L, -2);
      return new ErrorReply(text, true, counted);
    }
    w.lua_settop(L, -2);
    if (field('ok') === T_STRING) {
      const text = this.bytes(-1).toString('latin1');
      w.lua_settop(L, -2);
      return new SimpleString(text);
    }
    w.lua_settop(L, -2);
    if (field('double') === T_NUMBER) {
      const x = w.lua_tonumberx(L, -1, null);
      w.lua_settop(L, -2);
      return new DoubleReply(x);
    }
    w.lua_settop(L, -2);
    if (field('big_number') === T_STRING) {
      const text = this.bytes(-1);
      w.lua_settop(L, -2);
      return text; // RESP3's big number written as its digits in a bulk string, as RESP2 has it
    }
    w.lua_settop(L, -2);
    if (field('verbatim_string') === T_TABLE) {
      const v = w.lua_absindex(L, -1);
      this.pushBytes(Buffer.from('format'));
      const ft = w.lua_rawget(L, v) as number;
      this.pushBytes(Buffer.from('string'));
      const st = w.lua_rawget(L, v) as number;
      if (ft === T_STRING && st === T_STRING) {
        const reply = new VerbatimReply(this.bytes(-2).toString('latin1'), this.bytes(-1).toString('utf8'));
        w.lua_settop(L, -4);
        return reply;
      }
      w.lua_settop(L, -3);
    }
    w.lua_settop(L, -2);
    if (field('map') === T_TABLE) {
      const entries: Array<[Reply, Reply]> = [];
      const t = w.lua_absindex(L, -1);
      w.lua_pushnil(L);
      while (w.lua_next(L, t) !== 0) {
        entries.push([this.toReply(-2, depth + 1), this.toReply(-1, depth + 1)]);
        w.lua_settop(L, -2);
      }
      w.lua_settop(L, -2);
      return new MapReply(entries);
    }
    w.lua_settop(L, -2);
    if (field('set') === T_TABLE) {
      const items: Reply[] = [];
      const t = w.lua_absindex(L, -1);
      w.lua_pushnil(L);
      while (w.lua_next(L, t) !== 0) {
        items.push(this.toReply(-2, depth + 1));
        w.lua_settop(L, -2);
      }
      w.lua_settop(L, -2);
      return new SetReply(items);
    }
    w.lua_settop(L, -2);
    const items: Reply[] = [];
    for (let j = 1; ; j++) {
      if ((w.lua_rawgeti(L, i, BigInt(j)) as number) === T_NIL) {
        w.lua_settop(L, -2);
        break;
      }
      items.push(this.toReply(-1, depth + 1));
      w.lua_settop(L, -2);
    }
    return items;
  }

  /** The error a script ended with, as Redis words it: the message, then which script and line when known. */
  private errorOf(sha: string): ErrorReply {
    const w = this.wasm;
    const L = this.L as never;
    if ((w.lua_type(L, -1) as number) !== T_TABLE) return new ErrorReply(`ERR Error running script ${sha}, ${this.text(-1).slice(0, 100)}`);
    const t = w.lua_absindex(L, -1);
    const get = (name: string): string | undefined => {
      this.pushBytes(Buffer.from(name));
      const type = w.lua_rawget(L, t) as number;
      const s = type === T_STRING || type === T_NUMBER ? this.bytes(-1).toString('latin1') : undefined;
      w.lua_settop(L, -2);
      return s;
    };
    const msg = get('err') ?? 'ERR unknown error';
    const source = get('source');
    const line = get('line');
    this.pushBytes(Buffer.from('ignore_error_stats_update'));
    w.lua_rawget(L, t);
    const counted = w.lua_toboolean(L, -1) !== 0;
    w.lua_settop(L, -2);
    return new ErrorReply(source !== undefined && line !== undefined ? `${msg} script: ${sha}, on ${source}:${line}.` : msg, true, counted);
  }

  // ── the C API with bytes ──

  /** luaL_loadbuffer: undefined when compiled (the function pushed), else the message (nothing pushed). */
  private load(body: Buffer, name: string): string | undefined {
    const m = this.m;
    const p = m._malloc(body.length || 1);
    m.HEAPU8.set(body, p);
    const nameBytes = Buffer.from(`${name}\0`, 'latin1');
    const np = m._malloc(nameBytes.length);
    m.HEAPU8.set(nameBytes, np);
    const rc = m._luaL_loadbufferx(this.L, p, body.length, np, 0);
    m._free(p);
    m._free(np);
    if (rc === 0) return undefined;
    const msg = this.text(-1);
    m._lua_settop(this.L, -2);
    return msg;
  }

  private bytes(idx: number): Buffer {
    const m = this.m;
    const p = m._lua_tolstring(this.L, idx, this.lenPtr);
    if (p === 0) return Buffer.alloc(0);
    return Buffer.from(m.HEAPU8.subarray(p, p + m.HEAPU32[this.lenPtr >> 2]!));
  }

  private text(idx: number): string {
    return this.bytes(idx).toString('latin1');
  }

  private pushBytes(b: Uint8Array): void {
    const m = this.m;
    const p = m._malloc(b.length || 1);
    m.HEAPU8.set(b, p);
    m._lua_pushlstring(this.L, p, b.length);
    m._free(p);
  }

  private pushArray(items: Buffer[]): void {
    this.wasm.lua_createtable(this.L as never, items.length, 0);
    items.forEach((b, i) => {
      this.pushBytes(b);
      this.wasm.lua_rawseti(this.L as never, -2, BigInt(i + 1));
    });
  }
}

/** What a JS function returns to raise the error table it pushed (guard raises it: never a count of results). */
const RAISE = -1;
