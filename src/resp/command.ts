// A command's entry in the table: what COMMAND INFO/DOCS report (arity, flags, key positions, group) and the
// handler. Arity as Redis counts it: the command name included; negative means "at least".
import type { Ctx } from './context.js';
import type { Plan } from './plan.js';
import type { Reply } from './reply.js';

export type Handler = (ctx: Ctx, args: Buffer[]) => Reply | Plan;

/** One argument as COMMAND DOCS describes it (a `oneof` or `block` holds its own): ./command-docs.ts. */
export interface ArgDoc {
  name: string;
  type: string;
  keySpecIndex?: number;
  token?: string;
  summary?: string;
  since?: string;
  deprecatedSince?: string;
  flags?: string[];
  arguments?: ArgDoc[];
}

/** What COMMAND DOCS gives of a command beyond its summary, since and group, as Redis has it: ./command-docs.ts. */
export interface CommandDoc {
  complexity?: string;
  docFlags?: string[];
  deprecatedSince?: string;
  replacedBy?: string;
  history?: Array<[string, string]>;
  arguments?: ArgDoc[];
}

export interface CommandSpec {
  /** Lower case, as COMMAND reports it; a subcommand's is `container|sub`. */
  name: string;
  arity: number;
  flags: string[];
  /** The legacy key range COMMAND INFO reports beside the key specs, derived from them as Redis derives it. */
  firstKey: number;
  lastKey: number;
  step: number;
  group: string;
  summary: string;
  since: string;
  /** A subcommand's is its container's: the container's handler runs it. */
  handler: Handler;
  /** Allowed before AUTH when a password is required (AUTH, HELLO, QUIT, RESET). */
  noAuth?: boolean;
  /** Runs at once even inside MULTI (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET) instead of being queued. */
  runsInMulti?: boolean;
  /**
   * A container's subcommands (CLIENT, COMMAND, CONFIG, ...) by their own lower-case names, each with its own arity,
   * flags, categories and keys, as Redis 7 has them: an unknown one or a wrong number of arguments is refused before
   * anything else is checked, as Redis's command lookup does, and its flags are the ones that count (OBJECT ENCODING
   * reads a key; OBJECT does not).
   */
  subcommands?: ReadonlyMap<string, CommandSpec>;
  /** Its ACL categories, without the `@`, in ACL_CATEGORIES' order (COMMAND INFO, ACL CAT). */
  categories: string[];
  /** Redis's command tips (COMMAND INFO): how a cluster proxy routes it, whether its output is deterministic. */
  tips: string[];
  /** Where its keys are (COMMAND INFO, COMMAND GETKEYS, client-side caching), as Redis 7's key specs. */
  keySpecs: KeySpec[];
  /**
   * For a command whose key spec says `variable_flags` (SET, BITFIELD): its key's flags for these arguments, as
   * Redis's getkeys procedure gives them to COMMAND GETKEYSANDFLAGS.
   */
  keyFlags?: (argv: Buffer[]) => string[];
}

/**
 * Where a command's keys are, as one of Redis 7's key specs: the first at argument `index` (begin_search index), the
 * last `lastKey` after it (negative: counted from the end), every `keyStep`-th (find_keys range, no limit); or, with
 * `keynum` (EVAL), as many keys as the argument `keynumIdx` after `index` says, from `firstKey` after it. These are
 * the only kinds threadraft's commands need.
 */
export interface KeySpec {
  /** Redis's key flags, in its order: RO, RW, OW or RM; access, update, insert, delete; not_key; variable_flags. */
  flags: string[];
  index: number;
  lastKey: number;
  keyStep: number;
  keynum?: { keynumIdx: number; firstKey: number; keyStep: number };
  /** Redis's note on the spec, where it has one. */
  notes?: string;
}

export function keySpec(flags: string, index: number, lastKey = 0, keyStep = 1, notes?: string): KeySpec {
  const spec: KeySpec = { flags: flags.split(' '), index, lastKey, keyStep };
  if (notes !== undefined) spec.notes = notes;
  return spec;
}

/** A container's subcommand, as its `subcommands` entry declares it (the container's `command` call builds its spec). */
export interface SubcommandDecl {
  arity: number;
  flags: string[];
  summary: string;
  since: string;
  /** Its declared ACL categories (its flags imply more, as a command's). */
  acl?: string[];
  tips?: string[];
  keys?: KeySpec[];
}

export function sub(arity: number, flags: string[], summary: string, extra: Omit<SubcommandDecl, 'arity' | 'flags' | 'summary'>): SubcommandDecl {
  return { arity, flags, summary, ...extra };
}

/** Redis's ACL categories, in its order (ACL CAT; COMMAND INFO lists a command's in this order). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** The category a command of a group has, unless its entry names others (`acl`); a container has none of its own. */
const GROUP_CATEGORY: Record<string, string> = { string: 'string', bitmap: 'bitmap', hyperloglog: 'hyperloglog', generic: 'keyspace', transactions: 'transaction', connection: 'connection' };

/**
 * A command's ACL categories as Redis 7 sets them: those it declares (`declared`), and those its flags imply
 * (setImplicitACLCategories in server.c): write, read, admin and dangerous, pubsub, fast, blocking; slow when not fast.
 */
function categories(declared: string[], flags: string[]): string[] {
  const all = new Set(declared);
  if (flags.includes('write')) all.add('write');
  if (flags.includes('readonly') && !all.has('scripting')) all.add('read'); // Redis keeps scripts out of @read
  if (flags.includes('admin')) {
    all.add('admin');
    all.add('dangerous');
  }
  if (flags.includes('pubsub')) all.add('pubsub');
  if (flags.includes('fast')) all.add('fast');
  if (flags.includes('blocking')) all.add('blocking');
  if (!all.has('fast')) all.add('slow');
  return ACL_CATEGORIES.filter((c) => all.has(c));
}

/** Whether `n` arguments (the command name included) fit `arity` as Redis counts it: negative means "at least". */
export function arityOk(arity: number, n: number): boolean {
  return arity >= 0 ? n === arity : n >= -arity;
}

/** The names of the commands (subcommands too) in ACL category `category` (ACL CAT, COMMAND LIST FILTERBY ACLCAT). */
export function commandsIn(category: string, specs: Iterable<CommandSpec>): string[] {
  return [...everyCommand(specs)].filter((c) => c.categories.includes(category)).map((c) => c.name);
}

export function command(
  name: string,
  arity: number,
  flags: string[],
  group: string,
  summary: string,
  handler: Handler,
  extra: {
    keys?: KeySpec[]; keyFlags?: (argv: Buffer[]) => string[]; tips?: string[]; since?: string; noAuth?: boolean; runsInMulti?: boolean;
    subcommands?: Record<string, SubcommandDecl>; acl?: string[];
  } = {},
): CommandSpec {
  const byGroup = extra.subcommands ? undefined : GROUP_CATEGORY[group];
  const declared = extra.acl ?? (byGroup === undefined ? [] : [byGroup]);
  const spec = specOf(name, arity, flags, group, summary, extra.since ?? '1.0.0', handler, declared, extra.tips ?? [], extra.keys ?? []);
  if (extra.keyFlags) spec.keyFlags = extra.keyFlags;
  if (extra.noAuth) spec.noAuth = true;
  if (extra.runsInMulti) spec.runsInMulti = true;
  if (extra.subcommands) {
    spec.subcommands = new Map(Object.entries(extra.subcommands).map(([s, d]) => [
      s, specOf(`${name}|${s}`, d.arity, d.flags, group, d.summary, d.since, handler, d.acl ?? [], d.tips ?? [], d.keys ?? []),
    ]));
  }
  return spec;
}

/** Redis's command flags in the order COMMAND INFO lists them (addReplyFlagsForCommand). */
const FLAG_ORDER = [
  'write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor',
  'skip_slowlog', 'asking', 'fast', 'no_auth', 'may_replicate', 'sentinel', 'only_sentinel', 'no_mandatory_keys',
  'protected', 'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy',
];

function specOf(
  name: string, arity: number, flags: string[], group: string, summary: string, since: string, handler: Handler,
  declared: string[], tips: string[], keySpecs: KeySpec[],
): CommandSpec {
  const [firstKey, lastKey, step] = legacyRange(name, keySpecs);
  const unknown = flags.find((f) => !FLAG_ORDER.includes(f));
  if (unknown !== undefined) throw new Error(`${name}: flag ${unknown} is not one of Redis's`);
  flags = FLAG_ORDER.filter((f) => flags.includes(f));
  return { name, arity, flags, firstKey, lastKey, step, group, summary, since, handler, categories: categories(declared, flags), tips, keySpecs };
}

/**
 * COMMAND INFO's first key, last key and step, from the key specs as Redis derives them
 * (populateCommandLegacyRangeSpec): one spec is itself; several, contiguous with a step of 1, are their union.
 */
function legacyRange(name: string, specs: KeySpec[]): [number, number, number] {
  if (specs.length === 0 || specs.some((s) => s.keynum !== undefined)) return [0, 0, 0]; // movablekeys
  if (specs.length === 1) {
    const [s] = specs as [KeySpec];
    return [s.index, s.lastKey >= 0 ? s.index + s.lastKey : s.lastKey, s.keyStep];
  }
  let first = Infinity;
  let last = 0;
  for (const s of specs) {
    // Redis sets movablekeys for any other shape; no command here has one, so it is a mistake in the table.
    if (s.keyStep !== 1 || (last !== 0 && last !== s.index - 1)) throw new Error(`${name}: key specs that Redis would flag movablekeys`);
    first = Math.min(first, s.index);
    const abs = s.lastKey >= 0 ? s.index + s.lastKey : s.lastKey;
    if (last >= 0 && (abs < 0 || abs > last)) last = abs; // a negative (from the end) last key is past any absolute one
  }
  return [first, last, 1];
}

/**
 * The command `argv` names, as Redis's lookupCommand finds it: a container's subcommand when there is an argument
 * after the container's name (undefined for an unknown one), else the command itself.
 */
export function lookupCommand(table: ReadonlyMap<string, CommandSpec>, argv: Buffer[]): CommandSpec | undefined {
  const spec = table.get(argv[0]!.toString('latin1').toLowerCase());
  if (spec?.subcommands === undefined || argv.length === 1) return spec;
  return spec.subcommands.get(argv[1]!.toString('latin1').toLowerCase());
}

/** The command named `name`, `container|sub` for a subcommand, any case, as COMMAND INFO and DOCS look it up. */
export function commandNamed(table: ReadonlyMap<string, CommandSpec>, name: string): CommandSpec | undefined {
  const [base, sub, more] = name.toLowerCase().split('|');
  if (more !== undefined) return undefined;
  const spec = table.get(base!);
  if (sub === undefined) return spec;
  return spec?.subcommands?.get(sub);
}

/** Every command, each container followed by its subcommands, as COMMAND LIST and ACL CAT walk Redis's table. */
export function* everyCommand(specs: Iterable<CommandSpec>): Generator<CommandSpec> {
  for (const c of specs) {
    yield c;
    if (c.subcommands) yield* c.subcommands.values();
  }
}

/** A key argument and its flags, as COMMAND GETKEYSANDFLAGS gives them. */
export interface KeyArg {
  key: Buffer;
  flags: string[];
}

/**
 * The keys of `argv` (the command's name and arguments) by the command's key specs, shard channels (not_key) left
 * out, as Redis's getKeysFromCommandWithSpecs finds them; undefined when a spec reaches past the arguments (Redis's
 * invalid spec). A command with variable flags gives its key's flags for these arguments.
 */
export function keysOf(spec: CommandSpec, argv: Buffer[]): KeyArg[] | undefined {
  const out: KeyArg[] = [];
  for (const s of spec.keySpecs) {
    if (s.flags.includes('not_key')) continue;
    if (s.keynum !== undefined) {
      const { keynumIdx, firstKey, keyStep } = s.keynum;
      const text = argv[s.index + keynumIdx]?.toString('latin1') ?? '';
      const n = /^(0|[1-9][0-9]{0,8})$/.test(text) ? Number(text) : -1;
      const from = s.index + firstKey;
      if (n < 0 || from + (n - 1) * keyStep >= argv.length) return undefined;
      const flags = spec.keyFlags?.(argv) ?? s.flags;
      for (let i = 0; i < n; i++) out.push({ key: argv[from + i * keyStep]!, flags });
      continue;
    }
    const first = s.index;
    const last = s.lastKey >= 0 ? first + s.lastKey : argv.length + s.lastKey;
    if (last >= argv.length || last < first || first >= argv.length) return undefined;
    const flags = spec.keyFlags?.(argv) ?? s.flags;
    for (let i = first; i <= last; i += s.keyStep) out.push({ key: argv[i]!, flags });
  }
  return out;
}

/** Whether the command has keys: a key spec that is not a shard channel's (Redis's doesCommandHaveKeys). */
export function hasKeys(spec: CommandSpec): boolean {
  return spec.keySpecs.some((s) => !s.flags.includes('not_key'));
}
