// Connection commands: PING, ECHO, HELLO, AUTH, CLIENT, SELECT, QUIT, RESET, READONLY/READWRITE.
import { timingSafeEqual } from 'node:crypto';
import { clampInt64, INT64_MAX, keyword, parseInt64, parseInteger, upper } from '../args.js';
import { command, sub, type CommandSpec } from '../command.js';
import type { ConnectionState, Ctx, InputState } from '../context.js';
import { arityError, DB_RANGE, intArg, NOAUTH, NOT_INTEGER, SYNTAX, subcommandSyntax, TIMEOUT_NEGATIVE, TIMEOUT_NOT_INTEGER, unknownSubcommand, WRONGPASS } from '../errors.js';
import type { PauseMode } from '../pause.js';
import { WritePlan } from '../plan.js';
import { ErrorReply, helpReply, MapReply, NO_REPLY, OK, PONG, SetReply, SimpleString, VerbatimReply, type Reply } from '../reply.js';
import { unwatchAll } from './transactions.js';

/** The Redis version clients are told (they enable features by it); threadraft's own is in INFO and HELLO. */
export const REDIS_VERSION = '7.2.0';

const EMPTY = Buffer.alloc(0);

function ping(ctx: Ctx, args: Buffer[]): Reply {
  if (args.length > 2) return arityError('ping');
  // A RESP2 connection in subscribed mode reads arrays only: Redis answers ["pong", the argument or ""].
  if (ctx.conn.protocol === 2 && ctx.conn.subscriptions.active) return ['pong', args[1] ?? EMPTY];
  if (args.length === 2) return args[1]!;
  return PONG;
}

function echo(_ctx: Ctx, args: Buffer[]): Reply {
  return args[1]!;
}

/** Whether `user`/`password` are the default user's credentials (any password when none is required). */
function credentialsOk(ctx: Ctx, user: Buffer, password: Buffer): boolean {
  if (user.toString('utf8') !== 'default') return false;
  const want = ctx.server.options.requirepass;
  if (want === undefined) return true;
  const a = Buffer.from(want, 'utf8');
  return a.length === password.length && timingSafeEqual(a, password);
}

/** CLIENT INFO's line of the connection, as ACL LOG shows it (no newline). */
function clientInfo(ctx: Ctx): string {
  return clientLine(ctx.conn, ctx.server.monitors.has(ctx.conn.id)).slice(0, -1);
}

/**
 * A wrong password for `user` given by command `object` (AUTH, HELLO, as the client named it), logged for ACL LOG:
 * `multi` when EXEC ran it, with the connection's line as it was queued.
 */
function authFailed(ctx: Ctx, object: Buffer, user: Buffer, context: 'toplevel' | 'multi' = 'toplevel', info = clientInfo(ctx)): Reply {
  ctx.server.aclLog.authFailed({ context, object: Buffer.from(object), username: Buffer.from(user), clientInfo: info });
  return WRONGPASS;
}

/** AUTH [username] password. Inside MULTI it runs at EXEC, as Redis runs it (nothing is logged if DISCARD drops it). */
function auth(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  if (args.length > 3) return SYNTAX;
  if (args.length === 2 && ctx.server.options.requirepass === undefined) {
    return new ErrorReply('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const user = args.length === 3 ? args[1]! : Buffer.from('default');
  const run = (context: 'toplevel' | 'multi', info?: string): Reply => {
    if (!credentialsOk(ctx, user, args[args.length - 1]!)) return authFailed(ctx, args[0]!, user, context, info);
    ctx.conn.authenticated = true;
    return OK;
  };
  if (!ctx.conn.multi) return run('toplevel');
  const queued = clientInfo(ctx);
  return new WritePlan([], () => run('multi', queued));
}

function helloMap(ctx: Ctx): MapReply {
  return new MapReply([
    ['server', 'redis'],
    ['version', REDIS_VERSION],
    ['proto', ctx.conn.protocol],
    ['id', ctx.conn.id],
    ['mode', 'standalone'],
    ['role', 'master'],
    ['modules', []],
  ]);
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]]: switches the protocol, replies a map. */
function hello(ctx: Ctx, args: Buffer[]): Reply {
  let protocol = ctx.conn.protocol;
  if (args.length >= 2) {
    const v = parseInteger(args[1]!);
    if (v === null) return new ErrorReply('ERR Protocol version is not an integer or out of range');
    if (v !== 2 && v !== 3) return new ErrorReply('NOPROTO unsupported protocol version');
    protocol = v;
  }
  let name: Buffer | undefined;
  let authed = false;
  for (let i = 2; i < args.length; i++) {
    if (keyword(args[i], 'AUTH') && i + 2 < args.length) {
      if (!credentialsOk(ctx, args[i + 1]!, args[i + 2]!)) return authFailed(ctx, args[0]!, args[i + 1]!);
      authed = true;
      i += 2;
    } else if (keyword(args[i], 'SETNAME') && i + 1 < args.length) {
      name = args[++i]!;
      if (!validName(name)) return badName();
    } else return new ErrorReply(`ERR Syntax error in HELLO option '${args[i]!.toString('utf8', 0, 64)}'`);
  }
  if (authed) ctx.conn.authenticated = true;
  if (!ctx.conn.authenticated) {
    return new ErrorReply('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  }
  if (name) ctx.conn.name = name.toString('utf8');
  ctx.conn.protocol = protocol;
  return helloMap(ctx);
}

/** Redis: client names are printable ASCII without spaces. */
function validName(b: Buffer): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

function badName(): ErrorReply {
  return new ErrorReply('ERR Client names cannot contain spaces, newlines or special characters.');
}

/** A connection's memory as CLIENT LIST counts it: its input, MULTI's queue (multi-mem), its output (omem), their sum (tot-mem). */
export function clientMemory(c: ConnectionState): { input: InputState; multi: number; output: number; total: number } {
  const input = c.input();
  let multi = 0;
  if (c.multi) for (const args of c.multi.args) for (const a of args) multi += a.length + 8;
  const output = c.outputBytes();
  return { input, multi, output, total: input.queryBytes + input.argvBytes + multi + output };
}

/**
 * One line of CLIENT LIST / CLIENT INFO (`monitoring`: MONITOR, flag O): Redis 7.4's fields in its order, with what
 * each measures here. The flags are Redis's that apply (`d`: a write to a watched key was sent since WATCH; `c`: QUIT,
 * closing once answered; `e`, `T`: CLIENT NO-EVICT, NO-TOUCH). `qbuf` is the requests received and not yet
 * dispatched, the one running included (as Redis's query buffer), in RESP; `qbuf-free` 0 (no buffer is kept ahead);
 * `argv-mem` the arguments of the commands dispatched and not answered, and those parsed of a request not complete
 * yet; `multi-mem` those of the commands queued by MULTI, 8 bytes per argument more (Redis's sum); `rbs`, `rbp`, `obl`
 * and `oll` 0: there is no reply buffer besides the socket's, which `omem` is; `tot-mem` the sum of qbuf, argv-mem,
 * multi-mem and omem; `events` `r` while the socket is read, `w` while replies wait in it.
 */
export function clientLine(c: ConnectionState, monitoring: boolean): string {
  const now = Date.now();
  const subs = c.subscriptions;
  const t = c.tracking;
  const flags = `${monitoring ? 'O' : ''}${subs.active ? 'P' : ''}${c.multi ? 'x' : ''}${c.blocked ? 'b' : ''}${t.on ? 't' : ''}${t.brokenRedirect ? 'R' : ''}${t.bcast ? 'B' : ''}` +
    `${c.watched.dirty ? 'd' : ''}${c.closing ? 'c' : ''}${c.readOptions.consistency === 'lease' ? 'r' : ''}${c.noEvict ? 'e' : ''}${c.noTouch ? 'T' : ''}` || 'N';
  const { input, multi: multiMem, output: omem, total } = clientMemory(c);
  const events = `${input.reading ? 'r' : ''}${omem > 0 ? 'w' : ''}`;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} ` +
    `idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${flags} db=0 sub=${subs.channel.size} psub=${subs.pattern.size} ssub=${subs.shard.size} ` +
    `multi=${c.multi ? c.multi.items.length : -1} watch=${c.watched.size} qbuf=${input.queryBytes} qbuf-free=0 argv-mem=${input.argvBytes} ` +
    `multi-mem=${multiMem} rbs=0 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${total} ` +
    `events=${events} cmd=${c.lastCommand} user=default redir=${t.on ? t.redirect : -1} resp=${c.protocol} lib-name=${c.libName} lib-ver=${c.libVer}\n`;
}

function client(ctx: Ctx, args: Buffer[]): Reply {
  const sub = upper(args[1]!);
  const c = ctx.conn;
  const n = args.length;
  switch (sub) {
    case 'ID':
      return n === 2 ? c.id : arityError('client|id');
    case 'GETNAME':
      return n === 2 ? (c.name === '' ? null : c.name) : arityError('client|getname');
    case 'SETNAME':
      if (n !== 3) return arityError('client|setname');
      if (!validName(args[2]!)) return badName();
      c.name = args[2]!.toString('utf8');
      return OK;
    case 'INFO':
      return n === 2 ? new VerbatimReply('txt', clientLine(c, ctx.server.monitors.has(c.id))) : arityError('client|info'); // RESP3: verbatim text, as Redis
    case 'LIST':
      return clientList(ctx, args);
    case 'KILL':
      return n >= 3 ? clientKill(ctx, args) : arityError('client|kill');
    case 'SETINFO': {
      if (n !== 4) return arityError('client|setinfo');
      const attr = upper(args[2]!);
      if (attr !== 'LIB-NAME' && attr !== 'LIB-VER') return new ErrorReply(`ERR Unrecognized option '${args[2]!.toString('utf8', 0, 64)}'`);
      if (!validName(args[3]!)) return new ErrorReply(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
      if (attr === 'LIB-NAME') c.libName = args[3]!.toString('utf8');
      else c.libVer = args[3]!.toString('utf8');
      return OK;
    }
    case 'TRACKING':
      return tracking(ctx, args);
    case 'REPLY': {
      // The connection silences the replies (../connection.ts): OFF's own and those after it, the one after SKIP. SKIP
      // has no reply of its own, as on Redis, but is not silenced: a monitor is fed its own SKIP (../monitor.ts).
      if (n !== 3) return arityError('client|reply');
      const mode = c.reply;
      if (keyword(args[2], 'ON')) {
        mode.off = false;
        mode.skipping = false;
      } else if (keyword(args[2], 'OFF')) mode.off = true;
      else if (keyword(args[2], 'SKIP')) {
        if (!mode.off) mode.skipNext = true;
        return NO_REPLY;
      } else return SYNTAX;
      return OK;
    }
    case 'CACHING': {
      if (n !== 3) return arityError('client|caching');
      const t = c.tracking;
      if (!t.on) return new ErrorReply('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
      if (keyword(args[2], 'YES')) {
        if (!t.optin) return new ErrorReply('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
      } else if (keyword(args[2], 'NO')) {
        if (!t.optout) return new ErrorReply('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
      } else return SYNTAX;
      t.caching = true;
      return OK;
    }
    case 'GETREDIR':
      if (n !== 2) return arityError('client|getredir');
      return c.tracking.on ? c.tracking.redirect : -1;
    case 'TRACKINGINFO': {
      if (n !== 2) return arityError('client|trackinginfo');
      const t = c.tracking;
      const flags: string[] = [t.on ? 'on' : 'off'];
      if (t.bcast) flags.push('bcast');
      if (t.optin) flags.push('optin', ...(t.caching ? ['caching-yes'] : []));
      if (t.optout) flags.push('optout', ...(t.caching ? ['caching-no'] : []));
      if (t.noloop) flags.push('noloop');
      if (t.brokenRedirect) flags.push('broken_redirect');
      return new MapReply([['flags', new SetReply(flags)], ['redirect', t.on ? t.redirect : -1], ['prefixes', [...t.prefixes.values()].sort(Buffer.compare)]]);
    }
    case 'PAUSE':
      return n === 3 || n === 4 ? clientPause(ctx, args) : subcommandSyntax(args[1]!, 'client');
    case 'UNPAUSE':
      ctx.server.pause.unpause();
      return OK;
    case 'UNBLOCK':
      return clientUnblock(ctx, args);
    case 'NO-EVICT':
    case 'NO-TOUCH': {
      // Shown as a flag, nothing more: eviction and recency are decided in apply, never by a client's reads (docs/cache.md).
      if (n !== 3) return arityError(sub === 'NO-EVICT' ? 'client|no-evict' : 'client|no-touch');
      const on = keyword(args[2], 'ON');
      if (!on && !keyword(args[2], 'OFF')) return SYNTAX;
      if (sub === 'NO-EVICT') c.noEvict = on;
      else c.noTouch = on;
      return OK;
    }
    case 'HELP':
      if (n !== 2) return arityError('client|help');
      return helpReply([
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'ID', '    Return the ID of the current connection.',
        'GETNAME', '    Return the name of the current connection.',
        'SETNAME <name>', '    Assign the name <name> to the current connection.',
        'INFO', '    Return information about the current client connection.',
        'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]', '    Return information about client connections.',
        'KILL <ip:port>', '    Kill connection made from <ip:port>.',
        'KILL <option> <value> [<option> <value> [...]]', '    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME (yes|no).',
        'SETINFO <LIB-NAME|LIB-VER> <value>', '    Set client meta attr.',
        'UNPAUSE', '    Stop the current client pause, resuming traffic.',
        'UNBLOCK <clientid> [TIMEOUT|ERROR]', '    Unblock the specified blocked client (one in WAIT).',
        'PAUSE <timeout> [WRITE|ALL]', '    Suspend all, or just write, clients for <timeout> milliseconds.',
        'REPLY (ON|OFF|SKIP)', '    Control the replies sent to the current connection.',
        'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]', '         [OPTIN] [OPTOUT] [NOLOOP]',
        '    Control server assisted client side caching.',
        'CACHING (YES|NO)', '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
        'GETREDIR', '    Return the client ID we are redirecting to when tracking is enabled.',
        'TRACKINGINFO', '    Report tracking status for the current connection.',
        'NO-EVICT (ON|OFF)', '    Accepted; eviction never depends on a client here.',
        'NO-TOUCH (ON|OFF)', '    Accepted; reads never count as use here.',
        'HELP', '    Prints this help.',
      ]);
    default:
      return unknownSubcommand(args[1]!, 'client');
  }
}

/**
 * CLIENT UNBLOCK id [TIMEOUT|ERROR], as Redis 7.0's: a connection blocked in WAIT is answered now, with its count so
 * far (TIMEOUT, the default) or `-UNBLOCKED client unblocked via CLIENT UNBLOCK` (ERROR); 1 if there was one, else 0.
 * A connection held by CLIENT PAUSE is not unblocked (0), as Redis 7.2 refuses it (7.0 stops on an assertion).
 */
function clientUnblock(ctx: Ctx, args: Buffer[]): Reply {
  if (args.length > 4) return subcommandSyntax(args[1]!, 'client');
  if (args.length === 4 && !keyword(args[3], 'TIMEOUT') && !keyword(args[3], 'ERROR')) {
    return new ErrorReply('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  const id = parseInt64(args[2]!);
  if (id === null) return NOT_INTEGER;
  const target = ctx.server.clients.get(clampInt64(id));
  if (target?.unblock === undefined) return 0;
  target.unblock(args.length === 4 && keyword(args[3], 'ERROR'));
  return 1;
}

/**
 * CLIENT PAUSE timeout [WRITE|ALL] (ALL by default): every connection's commands (WRITE: those that write or
 * publish) wait `timeout` ms or until CLIENT UNPAUSE (../pause.ts). The mode is checked before the timeout, as
 * Redis 7.2 checks them.
 */
function clientPause(ctx: Ctx, args: Buffer[]): Reply {
  let mode: PauseMode = 'all';
  if (args.length === 4) {
    if (keyword(args[3], 'WRITE')) mode = 'write';
    else if (!keyword(args[3], 'ALL')) return new ErrorReply('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  const timeout = parseInt64(args[2]!);
  if (timeout === null) return TIMEOUT_NOT_INTEGER;
  if (timeout < 0n) return TIMEOUT_NEGATIVE;
  const now = Date.now();
  if (timeout > INT64_MAX - BigInt(now)) return new ErrorReply('ERR timeout is out of range'); // now + timeout would overflow in Redis
  // 0 is an end already past (Redis: no pause, unless one is in effect).
  ctx.server.pause.pause(timeout === 0n ? 0 : now + Number(timeout), mode);
  return OK;
}

/**
 * CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]: client-side caching
 * (../tracking.ts), its options checked as Redis 7 checks them, in its order and with its errors.
 */
function tracking(ctx: Ctx, args: Buffer[]): Reply {
  const c = ctx.conn;
  let redirect = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: Buffer[] = [];
  for (let j = 3; j < args.length; j++) {
    const more = j < args.length - 1;
    if (keyword(args[j], 'REDIRECT') && more) {
      j++;
      if (redirect !== 0) return new ErrorReply('ERR A client can only redirect to a single other client');
      const id = parseInteger(args[j]!);
      if (id === null) return NOT_INTEGER;
      if (!ctx.server.clients.has(id)) return new ErrorReply('ERR The client ID you want redirect to does not exist');
      redirect = id;
    } else if (keyword(args[j], 'BCAST')) opts.bcast = true;
    else if (keyword(args[j], 'OPTIN')) opts.optin = true;
    else if (keyword(args[j], 'OPTOUT')) opts.optout = true;
    else if (keyword(args[j], 'NOLOOP')) opts.noloop = true;
    else if (keyword(args[j], 'PREFIX') && more) prefixes.push(args[++j]!);
    else return SYNTAX;
  }
  if (keyword(args[2], 'ON')) {
    const t = c.tracking;
    if (!opts.bcast && prefixes.length > 0) return new ErrorReply('ERR PREFIX option requires BCAST mode to be enabled');
    if (t.on && t.bcast !== opts.bcast) {
      return new ErrorReply('ERR You can\'t switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.');
    }
    if (opts.bcast && (opts.optin || opts.optout)) return new ErrorReply('ERR OPTIN and OPTOUT are not compatible with BCAST');
    if (opts.optin && opts.optout) return new ErrorReply('ERR You can\'t specify both OPTIN mode and OPTOUT mode');
    if ((opts.optin && t.optout) || (opts.optout && t.optin)) {
      return new ErrorReply('ERR You can\'t switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.');
    }
    if (opts.bcast) {
      const overlap = prefixOverlap([...t.prefixes.values()], prefixes);
      if (overlap !== undefined) return overlap;
    }
    ctx.server.tracking.enable(c, redirect, opts, prefixes);
  } else if (keyword(args[2], 'OFF')) ctx.server.tracking.disable(c);
  else return SYNTAX;
  return OK;
}

/** Redis's checkPrefixCollisionsOrReply: no new prefix may be a prefix of another, given now or before. */
function prefixOverlap(existing: Buffer[], given: Buffer[]): ErrorReply | undefined {
  const overlaps = (a: Buffer, b: Buffer): boolean => {
    const n = Math.min(a.length, b.length);
    return a.compare(b, 0, n, 0, n) === 0;
  };
  const text = (b: Buffer): string => b.toString('utf8');
  for (let i = 0; i < given.length; i++) {
    // Redis walks the existing ones in byte order (a radix tree).
    for (const e of [...existing].sort(Buffer.compare)) {
      if (overlaps(e, given[i]!)) return new ErrorReply(`ERR Prefix '${text(given[i]!)}' overlaps with an existing prefix '${text(e)}'. Prefixes for a single client must not overlap.`);
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlaps(given[i]!, given[j]!)) return new ErrorReply(`ERR Prefix '${text(given[i]!)}' overlaps with another provided prefix '${text(given[j]!)}'. Prefixes for a single client must not overlap.`);
    }
  }
  return undefined;
}

type ClientType = 'normal' | 'pubsub' | 'other';

/**
 * Redis's client types. A connection subscribed to anything is a pubsub one, every other a normal one: there are no
 * replicas or masters behind this server, so a filter by those matches none. undefined: not a type (Redis: "Unknown
 * client type").
 */
function clientType(arg: Buffer): ClientType | undefined {
  const t = upper(arg);
  if (t === 'NORMAL') return 'normal';
  if (t === 'PUBSUB') return 'pubsub';
  return t === 'MASTER' || t === 'SLAVE' || t === 'REPLICA' ? 'other' : undefined;
}

function typeOf(c: ConnectionState): ClientType {
  return c.subscriptions.active ? 'pubsub' : 'normal';
}

function unknownType(arg: Buffer): ErrorReply {
  return new ErrorReply(`ERR Unknown client type '${arg.toString('utf8', 0, 64)}'`);
}

/** CLIENT LIST [TYPE <type>] | [ID <id> [id ...]], as Redis 7: the lines of the matching connections. */
function clientList(ctx: Ctx, args: Buffer[]): Reply {
  const all = ctx.server.clients;
  let shown: ConnectionState[];
  if (args.length === 2) shown = [...all.values()];
  else if (args.length === 4 && keyword(args[2], 'TYPE')) {
    const type = clientType(args[3]!);
    if (type === undefined) return unknownType(args[3]!);
    shown = [...all.values()].filter((c) => typeOf(c) === type);
  } else if (args.length > 3 && keyword(args[2], 'ID')) {
    shown = [];
    for (let i = 3; i < args.length; i++) {
      const id = parseInt64(args[i]!); // any 64-bit integer, as Redis's: past the ids there are, none shown
      if (id === null) return new ErrorReply('ERR Invalid client ID');
      const c = id <= BigInt(Number.MAX_SAFE_INTEGER) ? all.get(Number(id)) : undefined;
      if (c) shown.push(c);
    }
  } else return SYNTAX;
  return new VerbatimReply('txt', shown.map((c) => clientLine(c, ctx.server.monitors.has(c.id))).join(''));
}

/**
 * CLIENT KILL <ip:port> (the old form: OK, or "No such client"; it may kill the caller) or CLIENT KILL <filter>
 * <value> ... with ID, TYPE, USER, ADDR, LADDR, SKIPME (the number killed; the caller only with SKIPME no), as Redis
 * 7. Another connection is closed at once; the caller after this reply, as QUIT.
 */
function clientKill(ctx: Ctx, args: Buffer[]): Reply {
  const oldForm = args.length === 3;
  let addr: string | undefined;
  let laddr: string | undefined;
  let id: number | undefined;
  let type: ClientType | undefined;
  let skipMe = !oldForm;
  if (oldForm) addr = args[2]!.toString('utf8');
  else {
    for (let i = 2; i < args.length; i += 2) {
      const value = args[i + 1];
      if (value === undefined) return SYNTAX;
      const opt = upper(args[i]!);
      if (opt === 'ID') {
        const v = parseInt64(value); // any 64-bit integer from 1, as Redis's: past the ids there are, it kills none
        if (v === null || v < 1n) return new ErrorReply('ERR client-id should be greater than 0');
        id = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Infinity;
      } else if (opt === 'TYPE') {
        type = clientType(value);
        if (type === undefined) return unknownType(value);
      } else if (opt === 'USER') {
        if (value.toString('utf8') !== 'default') return new ErrorReply(`ERR No such user '${value.toString('utf8', 0, 64)}'`);
      } else if (opt === 'ADDR') addr = value.toString('utf8');
      else if (opt === 'LADDR') laddr = value.toString('utf8');
      else if (opt === 'SKIPME') {
        if (keyword(value, 'YES')) skipMe = true;
        else if (keyword(value, 'NO')) skipMe = false;
        else return SYNTAX;
      } else return SYNTAX;
    }
  }
  let killed = 0;
  for (const c of [...ctx.server.clients.values()]) {
    if (type !== undefined && typeOf(c) !== type) continue;
    if (addr !== undefined && c.addr !== addr) continue;
    if (laddr !== undefined && c.laddr !== laddr) continue;
    if (id !== undefined && c.id !== id) continue;
    if (c === ctx.conn) {
      if (skipMe) continue;
      c.closing = true; // after this reply
    } else c.kill();
    killed++;
  }
  if (!oldForm) return killed;
  return killed > 0 ? OK : new ErrorReply('ERR No such client');
}

function select(_ctx: Ctx, args: Buffer[]): Reply {
  const db = intArg(args[1]!);
  if (db instanceof ErrorReply) return db;
  return db === 0 ? OK : DB_RANGE;
}

function quit(ctx: Ctx): Reply {
  ctx.conn.closing = true;
  return OK;
}

/** RESET: back to a new connection's state (RESP2, no name, not authenticated when a password is set). */
function reset(ctx: Ctx): Reply {
  const c = ctx.conn;
  c.multi = null;
  unwatchAll(ctx);
  ctx.server.pubsub.removeAll(c.subscriptions, c.id);
  ctx.server.tracking.disable(c);
  ctx.server.monitors.remove(c.id);
  c.protocol = 2;
  c.name = '';
  c.readOptions = LINEARIZABLE;
  c.authenticated = ctx.server.options.requirepass === undefined;
  c.reply.off = false; // its own reply is written unless SKIP before it silences the whole command
  c.reply.skipNext = false;
  c.noEvict = false;
  c.noTouch = false;
  return new SimpleString('RESET');
}

export const LINEARIZABLE = { consistency: 'linearizable' } as const;
export const LEASE = { consistency: 'lease' } as const;

/** READONLY: this connection's reads become lease reads (the leader answers while its lease holds; docs/resp.md). */
function readonly(ctx: Ctx): Reply {
  ctx.conn.readOptions = LEASE;
  return OK;
}

function readwrite(ctx: Ctx): Reply {
  ctx.conn.readOptions = LINEARIZABLE;
  return OK;
}

/** The flags of HELLO, AUTH, QUIT and RESET, as Redis 7.2 reports them (COMMAND INFO). */
const CB = ['noscript', 'loading', 'stale', 'fast', 'allow_busy', 'no_auth'];

export const CONNECTION_COMMANDS: CommandSpec[] = [
  command('ping', -1, ['fast'], 'connection', 'Returns the server\'s liveliness response.', ping, { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] }),
  command('echo', 2, ['fast', 'loading', 'stale'], 'connection', 'Returns the given string.', echo),
  command('hello', -1, CB, 'connection', 'Handshakes with the Redis server.', hello, { since: '6.0.0', noAuth: true }),
  command('auth', -2, CB, 'connection', 'Authenticates the connection.', auth, { noAuth: true }),
  command('client', -2, [], 'connection', 'A container for client connection commands.', client, {
    since: '2.4.0',
    subcommands: {
      id: sub(2, ['noscript', 'loading', 'stale'], 'Returns the unique client ID of the connection.', { since: '5.0.0', acl: ['connection'] }),
      getname: sub(2, ['noscript', 'loading', 'stale'], 'Returns the name of the connection.', { since: '2.6.9', acl: ['connection'] }),
      setname: sub(3, ['noscript', 'loading', 'stale'], 'Sets the connection name.', { since: '2.6.9', acl: ['connection'] }),
      info: sub(2, ['noscript', 'loading', 'stale'], 'Returns information about the connection.', { since: '6.2.0', acl: ['connection'], tips: ['nondeterministic_output'] }),
      list: sub(-2, ['admin', 'noscript', 'loading', 'stale'], 'Lists open connections.', { since: '2.4.0', acl: ['connection'], tips: ['nondeterministic_output'] }),
      kill: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Terminates open connections.', { since: '2.4.0', acl: ['connection'] }),
      setinfo: sub(4, ['noscript', 'loading', 'stale'], 'Sets information specific to the client or connection.', { since: '7.2.0', acl: ['connection'], tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] }),
      'no-evict': sub(3, ['admin', 'noscript', 'loading', 'stale'], 'Sets the client eviction mode of the connection.', { since: '7.0.0', acl: ['connection'] }),
      'no-touch': sub(3, ['noscript', 'loading', 'stale'], 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys.', { since: '7.2.0', acl: ['connection'] }),
      tracking: sub(-3, ['noscript', 'loading', 'stale'], 'Controls server-assisted client-side caching for the connection.', { since: '6.0.0', acl: ['connection'] }),
      caching: sub(3, ['noscript', 'loading', 'stale'], 'Instructs the server whether to track the keys in the next request.', { since: '6.0.0', acl: ['connection'] }),
      getredir: sub(2, ['noscript', 'loading', 'stale'], 'Returns the client ID to which the connection\'s tracking notifications are redirected.', { since: '6.0.0', acl: ['connection'] }),
      trackinginfo: sub(2, ['noscript', 'loading', 'stale'], 'Returns information about server-assisted client-side caching for the connection.', { since: '6.2.0', acl: ['connection'] }),
      reply: sub(3, ['noscript', 'loading', 'stale'], 'Instructs the server whether to reply to commands.', { since: '3.2.0', acl: ['connection'] }),
      pause: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Suspends commands processing.', { since: '2.9.50', acl: ['connection'] }),
      unpause: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Resumes processing commands from paused clients.', { since: '6.2.0', acl: ['connection'] }),
      unblock: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Unblocks a client blocked by a blocking command from a different connection.', { since: '5.0.0', acl: ['connection'] }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '5.0.0', acl: ['connection'] }),
    },
  }),
  command('select', 2, ['fast', 'loading', 'stale'], 'connection', 'Changes the selected database.', select),
  command('quit', -1, CB, 'connection', 'Closes the connection.', quit, { noAuth: true, runsInMulti: true }),
  command('reset', 1, CB, 'connection', 'Resets the connection.', reset, { since: '6.2.0', noAuth: true, runsInMulti: true }),
  command('readonly', 1, ['loading', 'stale', 'fast'], 'cluster', 'Enables read-only queries for a connection (here: lease reads).', readonly, { since: '3.0.0', acl: ['connection'] }),
  command('readwrite', 1, ['loading', 'stale', 'fast'], 'cluster', 'Enables read-write queries for a connection (here: linearizable reads).', readwrite, { since: '3.0.0', acl: ['connection'] }),
];
