// Expiry arguments of SET, GETEX and the EXPIRE family, in Redis's units, checked before anything is sent:
// an expiry the cluster would refuse must fail its own command, not the batch it travels in.
import { INT64_MIN, parseInt64, parseInteger } from './args.js';
import { invalidExpire, NOT_INTEGER } from './errors.js';
import type { ErrorReply } from './reply.js';
// The cluster's longest time-to-live: 100 years (Redis allows more; docs/resp.md).
import { MAX_TTL_MS } from '../cluster/cache-args.js';


export type Expiry = { kind: 'ttl'; ms: number } | { kind: 'at'; ms: number };

/** EX/PX/EXAT/PXAT's argument: `unit` ms per unit; a relative one must be > 0 (SET and GETEX). */
export function expiryArg(b: Buffer | undefined, unit: 1 | 1000, absolute: boolean, command: string): Expiry | ErrorReply {
  if (b === undefined) return invalidExpire(command);
  const n = parseInteger(b);
  // A 64-bit integer past the safe ones is out of the expiry's range either way, as Redis says.
  if (n === null) return parseInt64(b) === null ? NOT_INTEGER : invalidExpire(command);
  if (n <= 0) return invalidExpire(command);
  const ms = n * unit;
  if (!Number.isSafeInteger(ms)) return invalidExpire(command);
  if (absolute) return ms - Date.now() > MAX_TTL_MS ? invalidExpire(command) : { kind: 'at', ms };
  return ms > MAX_TTL_MS ? invalidExpire(command) : { kind: 'ttl', ms };
}

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT's time (`unit` ms per unit; `absolute`: a Unix time) as the expire op's
 * `ttlMs` or `atMs`. Any time at or before now deletes the key (Redis's rule), so it is clamped to 0 (the op's
 * range): a far past time (EXPIREAT k -5) fails neither its batch nor this command. A 64-bit integer past the safe
 * ones is a time beyond the expiry's range, or (negative) one long past, unless in seconds it overflows 64 bits in
 * ms: Redis calls both invalid expire times.
 */
export function expireTimeArg(b: Buffer, unit: 1 | 1000, absolute: boolean, command: string): number | ErrorReply {
  const n = parseInteger(b);
  if (n === null) {
    const big = parseInt64(b);
    if (big === null) return NOT_INTEGER;
    return big > 0n || (unit === 1000 && big < INT64_MIN / 1000n) ? invalidExpire(command) : 0;
  }
  const ms = n * unit;
  const tooLong = absolute ? ms - Date.now() > MAX_TTL_MS : ms > MAX_TTL_MS;
  // A negative time past the safe integers in ms is a time long past, which deletes the key as in Redis.
  if ((ms > 0 && !Number.isSafeInteger(ms)) || tooLong) return invalidExpire(command);
  return Math.max(0, ms);
}
