// MODULE (src/resp/commands/server.ts): no module is loaded, and none can be; INFO's empty Modules section. Checked
// against what redis-server 7.0.15 answers, and compared with a running redis-server when one is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, sameAsRedis, serve, words, NO_REDIS } from './helpers.js';

/** Each command, and what redis-server 7.0.15 answers (no module loaded). */
const ASKED: Array<[string, RespValue]> = [
  ['MODULE LIST', []],
  ['MODULE HELP', ['MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'LIST', '    Return a list of loaded modules.',
    'LOAD <path> [<arg> ...]', '    Load a module library from <path>, passing to it any optional arguments.',
    'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]', '    Load a module library from <path>, while passing it module configurations and optional arguments.',
    'UNLOAD <name>', '    Unload a module.', 'HELP', '    Prints this help.']],
  ['MODULE bogus', new RespError("ERR unknown subcommand 'bogus'. Try MODULE HELP.")],
  ['MODULE', new RespError("ERR wrong number of arguments for 'module' command")],
  ['MODULE LIST x', new RespError("ERR wrong number of arguments for 'module|list' command")],
  ['MODULE UNLOAD', new RespError("ERR wrong number of arguments for 'module|unload' command")],
  ['MODULE LOAD', new RespError("ERR wrong number of arguments for 'module|load' command")],
];

test('MODULE LIST is empty; LOAD, LOADEX and UNLOAD are refused; INFO has an empty Modules section where Redis has it', async () => {
  const s = await serve({ nodes: 1 });
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    for (const l of ['MODULE LOAD /x.so', 'MODULE LOADEX /x.so', 'MODULE UNLOAD x']) {
      assert.deepEqual(await c.call(words(l)), new RespError('ERR MODULE command not allowed: threadraft loads no modules'), l);
    }
    const info = String(await c.call(['INFO']));
    assert.match(info, /\r\n# CPU\r\n(?:[a-z_]+:[^\r]*\r\n)+\r\n# Modules\r\n\r\n/, 'right after CPU, with no field');
    assert.equal(String(await c.call(['INFO', 'modules'])), '# Modules\r\n');
  } finally {
    c.close();
    await s.stop();
  }
});

test('MODULE compared with redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis, served) => {
  await sameAsRedis(redis, served, { name: 'MODULE', conns: 1, steps: [...ASKED.map(([l]): [number, string[][]] => [0, [words(l)]]), [0, [['INFO', 'modules']]]] });
}));
