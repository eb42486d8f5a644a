// Micro-benchmark: the RESP request parser (src/resp/parser.ts) against redis-parser from npm, on a pipelined
// stream of SET/GET requests fed in 16 KiB chunks. redis-parser is not a dependency: install it anywhere on the
// module path to include it (`npm i --no-save redis-parser`); without it only ours is measured.
// Run: npm run build && node dist/bench/resp-parser.js
import { RequestParser } from '../src/resp/parser.js';

const COMMANDS = 100_000;
const CHUNK = 16 * 1024;
const ROUNDS = 5;

function stream(): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const key = `key:${String(i % 10_000).padStart(6, '0')}`;
    parts.push(i % 2 === 0 ? `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n` : `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`);
  }
  return Buffer.from(parts.join(''));
}

function chunks(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += CHUNK) out.push(b.subarray(i, i + CHUNK));
  return out;
}

function measure(name: string, run: (cs: Buffer[]) => number, cs: Buffer[]): void {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const n = run(cs);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (n !== COMMANDS) throw new Error(`${name} parsed ${n} commands, expected ${COMMANDS}`);
    best = Math.min(best, s);
  }
  console.log(`${name.padEnd(28)} ${Math.round(COMMANDS / best).toLocaleString('en-US').padStart(12)} commands/s (best of ${ROUNDS})`);
}

const cs = chunks(stream());
measure('threadraft RequestParser', (list) => {
  const p = new RequestParser();
  let n = 0;
  for (const c of list) n += p.feed(c).commands.length;
  return n;
}, cs);

interface RedisParserLike {
  execute(b: Buffer): void;
}
type RedisParserCtor = new (o: { returnReply(r: unknown): void; returnError(e: unknown): void; returnBuffers?: boolean; optionReturnBuffers?: boolean }) => RedisParserLike;

const name = 'redis-parser';
try {
  const mod = (await import(name)) as { default: RedisParserCtor };
  for (const returnBuffers of [true, false]) {
    measure(`redis-parser (${returnBuffers ? 'Buffers' : 'strings'})`, (list) => {
      let n = 0;
      const p = new mod.default({ returnReply: () => n++, returnError: () => undefined, returnBuffers });
      for (const c of list) p.execute(c);
      return n;
    }, cs);
  }
} catch (err) {
  console.log(`redis-parser not installed (${(err as Error).message.split('\n')[0]}): only ours measured`);
}
