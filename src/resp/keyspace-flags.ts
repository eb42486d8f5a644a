// notify-keyspace-events values: Redis's flag characters as Redis's bits, the ones threadraft delivers
// (./keyspace.ts), and the text CONFIG GET writes back. No imports: the CLI checks --notify-keyspace-events before it
// loads anything.

/** Redis's notification bits (server.h, NOTIFY_*), as a bit set. */
export type KeyspaceFlags = number;

export const NOTIFY = {
  /** K: `__keyspace@0__:<key>` channels, the event as the message. */
  keyspace: 1 << 0,
  /** E: `__keyevent@0__:<event>` channels, the key as the message. */
  keyevent: 1 << 1,
  /** g: the events of commands on any type (del, expire, rename_from, ...). */
  generic: 1 << 2,
  /** $: the events of string commands (set, incrby, append, setbit, ...). */
  string: 1 << 3,
  // l, s, h, z: lists, sets, hashes, sorted sets; threadraft keeps strings only, so none is ever published.
  list: 1 << 4,
  set: 1 << 5,
  hash: 1 << 6,
  zset: 1 << 7,
  /** x: a key that expired. */
  expired: 1 << 8,
  /** e: a key evicted by the cluster's bound. */
  evicted: 1 << 9,
  // t, d: streams, modules; never published here either.
  stream: 1 << 10,
  /** m: a read of a key that is not there ("keymiss"); not in A. */
  keymiss: 1 << 11,
  module: 1 << 13,
} as const;

/** A: every class but m (key misses) and n (new keys), as Redis's NOTIFY_ALL. */
const ALL = NOTIFY.generic | NOTIFY.string | NOTIFY.list | NOTIFY.set | NOTIFY.hash | NOTIFY.zset | NOTIFY.expired | NOTIFY.evicted | NOTIFY.stream | NOTIFY.module;

export const NO_FLAGS: KeyspaceFlags = 0;

/** The classes in the order Redis writes them back, with their characters. */
const CLASSES: Array<[string, number]> = [
  ['g', NOTIFY.generic], ['$', NOTIFY.string], ['l', NOTIFY.list], ['s', NOTIFY.set], ['h', NOTIFY.hash], ['z', NOTIFY.zset],
  ['x', NOTIFY.expired], ['e', NOTIFY.evicted], ['t', NOTIFY.stream], ['d', NOTIFY.module],
];

/** Redis's character that threadraft does not deliver: new keys (n). */
const NOT_DELIVERED: Record<string, string> = { n: 'new keys (n)' };

/** The flags of a notify-keyspace-events value, or the reason it is refused (Redis's text for an unknown class). */
export function parseKeyspaceFlags(text: string): KeyspaceFlags | string {
  let flags = NO_FLAGS;
  for (const ch of text) {
    const bit = ch === 'A' ? ALL : ch === 'K' ? NOTIFY.keyspace : ch === 'E' ? NOTIFY.keyevent : ch === 'm' ? NOTIFY.keymiss : CLASSES.find(([c]) => c === ch)?.[1];
    if (bit !== undefined) flags |= bit;
    else if (NOT_DELIVERED[ch] !== undefined) return `threadraft does not notify ${NOT_DELIVERED[ch]}`;
    else return `Invalid event class character. Use 'Ag$lshzxeKEtmdn'.`;
  }
  return flags;
}

/** As Redis writes the flags back (CONFIG GET): A or the classes, then K, E and m. */
export function keyspaceFlagsText(flags: KeyspaceFlags): string {
  const classes = (flags & ALL) === ALL ? 'A' : CLASSES.filter(([, bit]) => flags & bit).map(([c]) => c).join('');
  return `${classes}${flags & NOTIFY.keyspace ? 'K' : ''}${flags & NOTIFY.keyevent ? 'E' : ''}${flags & NOTIFY.keymiss ? 'm' : ''}`;
}
