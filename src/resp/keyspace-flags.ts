// notify-keyspace-events values: Redis's flag characters, the ones threadraft delivers (./keyspace.ts), and the text
// CONFIG GET writes back. No imports: the CLI checks --notify-keyspace-events before it loads anything.

export interface KeyspaceFlags {
  /** K: `__keyspace@0__:<key>` channels. */
  keyspace: boolean;
  /** E: `__keyevent@0__:<event>` channels. */
  keyevent: boolean;
  /** x: "expired". */
  expired: boolean;
  /** e: "evicted". */
  evicted: boolean;
}

export const NO_FLAGS: KeyspaceFlags = { keyspace: false, keyevent: false, expired: false, evicted: false };

/** Redis's event class characters (`Ag$lshzxeKEtmdn`), to tell an unknown one from one threadraft cannot deliver. */
const REDIS_CLASSES = 'Ag$lshzxeKEtmdn';

/** The flags of a notify-keyspace-events value, or the reason it is refused (Redis's text for an unknown class). */
export function parseKeyspaceFlags(text: string): KeyspaceFlags | string {
  const f = { ...NO_FLAGS };
  for (const ch of text) {
    if (ch === 'K') f.keyspace = true;
    else if (ch === 'E') f.keyevent = true;
    else if (ch === 'x') f.expired = true;
    else if (ch === 'e') f.evicted = true;
    else if (REDIS_CLASSES.includes(ch)) return `threadraft notifies expired (x) and evicted (e) events only, not class '${ch}'`;
    else return `Invalid event class character. Use '${REDIS_CLASSES}'.`;
  }
  return f;
}

/** As Redis writes the flags back (CONFIG GET): the classes, then K, then E. */
export function keyspaceFlagsText(f: KeyspaceFlags): string {
  return `${f.expired ? 'x' : ''}${f.evicted ? 'e' : ''}${f.keyspace ? 'K' : ''}${f.keyevent ? 'E' : ''}`;
}
