// A command's entry in the table: what COMMAND INFO/DOCS report (arity, flags, key positions, group) and the
// handler. Arity as Redis counts it: the command name included; negative means "at least".
import type { Ctx } from './context.js';
import type { Plan } from './plan.js';
import type { Reply } from './reply.js';

export type Handler = (ctx: Ctx, args: Buffer[]) => Reply | Plan;

export interface CommandSpec {
  /** Lower case, as COMMAND reports it. */
  name: string;
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  group: string;
  summary: string;
  since: string;
  handler: Handler;
  /** Allowed before AUTH when a password is required (AUTH, HELLO, QUIT, RESET). */
  noAuth?: boolean;
  /** Runs at once even inside MULTI (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET) instead of being queued. */
  runsInMulti?: boolean;
  /**
   * A container's subcommands (CLIENT, COMMAND, CONFIG, MEMORY, PUBSUB) and their arities, as Redis 7.2 has them: an
   * unknown one or a wrong number of arguments is refused before anything else is checked, as Redis's command lookup does.
   */
  subcommands?: ReadonlyMap<string, number>;
  /** Its ACL categories, without the `@`, in ACL_CATEGORIES' order (COMMAND INFO, ACL CAT). */
  categories: string[];
}

/** Redis's ACL categories, in its order (ACL CAT; COMMAND INFO lists a command's in this order). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** The category a command of a group has, unless its entry names others (`acl`); a container has none of its own. */
const GROUP_CATEGORY: Record<string, string> = { string: 'string', bitmap: 'bitmap', generic: 'keyspace', transactions: 'transaction', connection: 'connection' };

/**
 * A command's ACL categories as Redis 7 sets them: those it declares (`declared`), and those its flags imply
 * (setImplicitACLCategories in server.c): write, read, admin and dangerous, pubsub, fast, blocking; slow when not fast.
 */
function categories(declared: string[], flags: string[]): string[] {
  const all = new Set(declared);
  if (flags.includes('write')) all.add('write');
  if (flags.includes('readonly')) all.add('read');
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

/** The names of the commands in ACL category `category` (ACL CAT, COMMAND LIST FILTERBY ACLCAT). */
export function commandsIn(category: string, specs: Iterable<CommandSpec>): string[] {
  return [...specs].filter((c) => c.categories.includes(category)).map((c) => c.name);
}

type Keys = [firstKey: number, lastKey: number, step: number];
const NO_KEYS: Keys = [0, 0, 0];
const ONE_KEY: Keys = [1, 1, 1];

export function command(
  name: string,
  arity: number,
  flags: string[],
  group: string,
  summary: string,
  handler: Handler,
  extra: { keys?: Keys; since?: string; noAuth?: boolean; runsInMulti?: boolean; subcommands?: Record<string, number>; acl?: string[] } = {},
): CommandSpec {
  const [firstKey, lastKey, step] = extra.keys ?? (group === 'string' || group === 'generic' ? ONE_KEY : NO_KEYS);
  const byGroup = extra.subcommands ? undefined : GROUP_CATEGORY[group];
  const declared = extra.acl ?? (byGroup === undefined ? [] : [byGroup]);
  const spec: CommandSpec = {
    name, arity, flags, firstKey, lastKey, step, group, summary, since: extra.since ?? '1.0.0', handler, categories: categories(declared, flags),
  };
  if (extra.noAuth) spec.noAuth = true;
  if (extra.runsInMulti) spec.runsInMulti = true;
  if (extra.subcommands) spec.subcommands = new Map(Object.entries(extra.subcommands));
  return spec;
}
