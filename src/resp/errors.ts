// Error replies: Redis's own texts for Redis's errors (clients and tests match on them), and the cluster's
// errors mapped onto a Redis error prefix that says what a client may do, followed by the stable code.
//
//   BUSY                          -> -TRYAGAIN BUSY ...         (nothing was written: retry)
//   NO_QUORUM, CLUSTER_STOPPED,
//   NODE_UNAVAILABLE              -> -CLUSTERDOWN <CODE> ...    (no leader / stopping: the outcome of a write is unknown)
//   NOT_INTEGER                   -> -ERR value is not an integer or out of range   (Redis's text)
//   NOT_FLOAT, NOT_FINITE         -> -ERR value is not a valid float, -ERR increment would produce NaN or Infinity
//   an incr op's OVERFLOW         -> -ERR increment or decrement would overflow
//   NOT_HLL, INVALID_HLL          -> -WRONGTYPE Key is not a valid HyperLogLog string value., -INVALIDOBJ Corrupted HLL object detected
//   everything else               -> -ERR <CODE> <message>       (TIMEOUT, STORAGE, INVALID_ARGUMENT, ...)
import { ClusterError, ErrorCode } from '../index.js';
import { ErrorReply } from './reply.js';
import { parseInt64 } from './args.js';

export const SYNTAX = new ErrorReply('ERR syntax error');
export const NOT_INTEGER = new ErrorReply('ERR value is not an integer or out of range');
export const NOT_FLOAT = new ErrorReply('ERR value is not a valid float');
export const NOT_FINITE = new ErrorReply('ERR increment would produce NaN or Infinity');
export const INCR_OVERFLOW = new ErrorReply('ERR increment or decrement would overflow');
export const NOAUTH = new ErrorReply('NOAUTH Authentication required.');
export const WRONGPASS = new ErrorReply('WRONGPASS invalid username-password pair or user is disabled.');
export const EXECABORT = new ErrorReply('EXECABORT Transaction discarded because of previous errors.');
export const DB_RANGE = new ErrorReply('ERR DB index is out of range');
export const NOT_HLL = new ErrorReply('WRONGTYPE Key is not a valid HyperLogLog string value.');
export const INVALID_HLL = new ErrorReply('INVALIDOBJ Corrupted HLL object detected');

/**
 * A 32-bit integer argument as Redis's getIntFromObjectOrReply reads it (a database index): `msg` (or
 * NOT_INTEGER) when it is no 64-bit integer; `msg` (or Redis's range text) when it is one outside 32 bits.
 */
export function intArg(b: Buffer, msg?: string): number | ErrorReply {
  const n = parseInt64(b);
  if (n === null) return msg === undefined ? NOT_INTEGER : new ErrorReply(`ERR ${msg}`);
  if (n < -2147483648n || n > 2147483647n) return new ErrorReply(`ERR ${msg ?? 'value is out of range, value must between -2147483648 and 2147483647'}`);
  return Number(n);
}

/** `-ERR wrong number of arguments for 'get' command` (the command's lower-case full name, as Redis 7). */
export function arityError(name: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for '${name}' command`);
}

/** `-ERR unknown command 'x', with args beginning with: 'a' 'b' ` (each argument quoted and followed by a space). */
/** An argument as Redis's `%.*s` prints it: its bytes (as latin1 characters) up to a NUL, at most `max`. */
function printed(b: Buffer, max: number): string {
  const nul = b.indexOf(0);
  return b.toString('latin1', 0, Math.min(nul < 0 ? b.length : nul, max));
}

export function unknownCommand(args: Buffer[]): ErrorReply {
  const name = printed(args[0]!, 128);
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${printed(args[i]!, 128 - rest.length)}' `;
  return new ErrorReply(`ERR unknown command '${name}', with args beginning with: ${rest}`, true);
}

export function unknownSubcommand(sub: Buffer, command: string): ErrorReply {
  return new ErrorReply(`ERR unknown subcommand '${printed(sub, 128)}'. Try ${command.toUpperCase()} HELP.`, true);
}

/** Redis's addReplySubcommandSyntaxError: a subcommand given the wrong arguments, named as the client sent it. */
export function subcommandSyntax(sub: Buffer, command: string): ErrorReply {
  return new ErrorReply(`ERR unknown subcommand or wrong number of arguments for '${printed(sub, 128)}'. Try ${command.toUpperCase()} HELP.`, true);
}

export const TIMEOUT_NOT_INTEGER = new ErrorReply('ERR timeout is not an integer or out of range');
export const TIMEOUT_NEGATIVE = new ErrorReply('ERR timeout is negative');

export function invalidExpire(command: string): ErrorReply {
  return new ErrorReply(`ERR invalid expire time in '${command}' command`);
}

const PREFIX: Partial<Record<string, string>> = {
  [ErrorCode.BUSY]: 'TRYAGAIN',
  [ErrorCode.NO_QUORUM]: 'CLUSTERDOWN',
  [ErrorCode.CLUSTER_STOPPED]: 'CLUSTERDOWN',
  [ErrorCode.NODE_UNAVAILABLE]: 'CLUSTERDOWN',
};

/** The codes whose reply is Redis's own error text. */
const REDIS_TEXT: Partial<Record<string, ErrorReply>> = {
  [ErrorCode.NOT_INTEGER]: NOT_INTEGER,
  [ErrorCode.NOT_FLOAT]: NOT_FLOAT,
  [ErrorCode.NOT_FINITE]: NOT_FINITE,
  [ErrorCode.NOT_HLL]: NOT_HLL,
  [ErrorCode.INVALID_HLL]: INVALID_HLL,
};

/** A cluster call's rejection as an error reply (a bug of ours, not a ClusterError, is `-ERR INTERNAL`). */
export function clusterError(err: unknown): ErrorReply {
  if (err instanceof ClusterError) {
    const redis = REDIS_TEXT[err.code];
    if (redis) return redis;
    return new ErrorReply(`${PREFIX[err.code] ?? 'ERR'} ${err.code} ${err.message}`);
  }
  return new ErrorReply(`ERR INTERNAL ${err instanceof Error ? err.message : String(err)}`);
}

/** The error an op result carries (a state machine refusal of one op that did not reject the rest). */
export function opError(code: string): ErrorReply {
  const redis = REDIS_TEXT[code];
  if (redis) return redis;
  if (code === 'OVERFLOW') return INCR_OVERFLOW;
  if (code === 'VALUE_TOO_LARGE') return new ErrorReply('ERR VALUE_TOO_LARGE string exceeds maximum allowed size (the cluster\'s maxValueBytes, or with its key maxBytes)');
  return new ErrorReply(`ERR ${code} the operation was refused`);
}
