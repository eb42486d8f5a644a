// A stand-in for `threadraft serve` in the RESP benchmark's tests: prints the same
// `listening on 127.0.0.1:<port>` line and answers PING, SET, GET and CONFIG GET (which redis-benchmark
// sends first) from a Map. It is not threadraft: it only lets the harness's threadraft path be tested
// before the real server exists. Run by the test as `node fake-serve.js serve --port 0 ...`; does
// nothing when node --test runs this file directly.
import { createServer } from 'node:net';
import { ReplyReader, type RespValue } from '../../bench/resp-proto.js';

function reply(store: Map<string, string>, cmd: RespValue): Buffer {
  if (!Array.isArray(cmd) || cmd.length === 0) return Buffer.from('-ERR Protocol error\r\n');
  const [name, a, b] = cmd.map((x) => String(x));
  switch (name?.toUpperCase()) {
    case 'PING':
      return Buffer.from('+PONG\r\n');
    case 'SET':
      store.set(a ?? '', b ?? '');
      return Buffer.from('+OK\r\n');
    case 'GET': {
      const v = store.get(a ?? '');
      return v === undefined ? Buffer.from('$-1\r\n') : Buffer.from(`$${Buffer.byteLength(v)}\r\n${v}\r\n`);
    }
    case 'CONFIG':
      return Buffer.from('*0\r\n');
    default:
      return Buffer.from(`-ERR unknown command '${name ?? ''}'\r\n`);
  }
}

if (process.argv[2] === 'serve') {
  const store = new Map<string, string>();
  const server = createServer((sock) => {
    // Requests arrive as RESP arrays, which the reply reader parses as well as it parses replies.
    const reader = new ReplyReader();
    sock.on('data', (chunk) => {
      const out = reader.push(chunk).map((cmd) => reply(store, cmd));
      if (out.length > 0) sock.write(Buffer.concat(out));
    });
    sock.on('error', () => sock.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    if (typeof addr === 'object' && addr !== null) process.stdout.write(`listening on 127.0.0.1:${addr.port}\n`);
  });
}
