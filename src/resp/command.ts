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
  extra: { keys?: Keys; since?: string; noAuth?: boolean; runsInMulti?: boolean; subcommands?: Record<string, number> } = {},
): CommandSpec {
  const [firstKey, lastKey, step] = extra.keys ?? (group === 'string' || group === 'generic' ? ONE_KEY : NO_KEYS);
  const spec: CommandSpec = { name, arity, flags, firstKey, lastKey, step, group, summary, since: extra.since ?? '1.0.0', handler };
  if (extra.noAuth) spec.noAuth = true;
  if (extra.runsInMulti) spec.runsInMulti = true;
  if (extra.subcommands) spec.subcommands = new Map(Object.entries(extra.subcommands));
  return spec;
}
