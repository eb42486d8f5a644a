// Expiry arguments of SET, GETEX and the EXPIRE family, in Redis's units, checked before anything is sent:
// an expiry the cluster would refuse must fail its own command, not the batch it travels in.
import { parseInt64, parseInteger } from './args.js';
import { invalidExpire, NOT_INTEGER } from './errors.js';
import type { ErrorReply } from './reply.js';

/** The cluster's longest time-to-live: 100 years (Redis allows more; docs/resp.md). */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000;

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
