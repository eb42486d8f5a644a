// ACL: the one user there is, `default`, as Redis 7.2 describes it (with or without `requirepass`), and ACL LOG's
// failed authentications (../acl-log.ts). Users cannot be added or changed: SETUSER is refused, LOAD and SAVE give
// Redis's refusal without an ACL file, DELUSER removes none.
import { createHash, randomBytes } from 'node:crypto';
import { parseInt64, upper } from '../args.js';
import { ACL_CATEGORIES, arityOk, command, commandsIn, lookupCommand, sub, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { arityError, NOT_INTEGER, subcommandSyntax, unknownSubcommand } from '../errors.js';
import { WritePlan } from '../plan.js';
import { DoubleReply, ErrorReply, helpReply, MapReply, OK, SetReply, type Reply } from '../reply.js';

const DEFAULT_USER = 'default';

/** Redis's default user's rules: every key, channel and command. */
const RULES = '~* &* +@all';

const ACL_HELP = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]', '    List all commands that belong to <category>, or all command categories', '    when no category is specified.',
  'DELUSER <username> [<username> ...]', '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]', '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>', '    Get the user\'s details.',
  'GENPASS [<bits>]', '    Generate a secure 256-bit user password. The optional `bits` argument can', '    be used to specify a different size.',
  'LIST', '    Show users details in config file format.',
  'LOAD', '    Reload users from the ACL file.',
  'LOG [<count> | RESET]', '    Show the ACL log entries.',
  'SAVE', '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]', '    Create or modify a user with the specified attributes.',
  'USERS', '    List all the registered usernames.',
  'WHOAMI', '    Return the current connection username.',
  'HELP', '    Prints this help.',
];

const NO_ACL_FILE = new ErrorReply('ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.');
const GENPASS_RANGE = new ErrorReply('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
const GENPASS_MAX_BITS = 4096n;

/** The default user's password as Redis keeps it: its SHA-256 in hex (none without `requirepass`). */
function passwords(ctx: Ctx): string[] {
  const p = ctx.server.options.requirepass;
  return p === undefined ? [] : [createHash('sha256').update(p, 'utf8').digest('hex')];
}

/** ACL GETUSER default: flags (a set), passwords, then the root selector's commands, keys and channels; no selectors. */
function getuser(ctx: Ctx, name: Buffer): Reply {
  if (name.toString('latin1') !== DEFAULT_USER) return null;
  const hashes = passwords(ctx);
  return new MapReply([
    ['flags', new SetReply(hashes.length === 0 ? ['on', 'nopass'] : ['on'])],
    ['passwords', hashes],
    ['commands', '+@all'],
    ['keys', '~*'],
    ['channels', '&*'],
    ['selectors', []],
  ]);
}

/**
 * ACL DRYRUN default <command> [arg ...]: OK when the command exists and has a valid number of arguments (the default
 * user may run any), with Redis's errors else: the command (or a container's subcommand) looked up as Redis's
 * lookupCommand does, not found naming the command as given.
 */
function dryrun(table: () => ReadonlyMap<string, CommandSpec>, args: Buffer[]): Reply {
  const user = args[2]!.toString('latin1');
  if (user !== DEFAULT_USER) return new ErrorReply(`ERR User '${user}' not found`, true);
  const argv = args.slice(3);
  const spec = lookupCommand(table(), argv);
  if (spec === undefined) return new ErrorReply(`ERR Command '${argv[0]!.toString('latin1')}' not found`, true);
  if (!arityOk(spec.arity, argv.length)) return arityError(spec.name);
  return OK;
}

/** ACL LOG [count | RESET]: in the connection's order (inside MULTI: at EXEC), as LATENCY and SLOWLOG RESET. */
function log(ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  if (args.length > 3) return subcommandSyntax(args[1]!, 'acl');
  const acl = ctx.server.aclLog;
  if (args.length === 3 && upper(args[2]!) === 'RESET') {
    return new WritePlan([], () => {
      acl.reset();
      return OK;
    });
  }
  let count = 10;
  if (args.length === 3) {
    const n = parseInt64(args[2]!);
    if (n === null) return NOT_INTEGER;
    count = n < 0n ? 0 : n > 1_000_000n ? 1_000_000 : Number(n);
  }
  return new WritePlan([], () => {
    const now = Date.now();
    return acl.newest(count).map((e) => new MapReply([
      ['count', e.count], ['reason', e.reason], ['context', e.context], ['object', e.object], ['username', e.username],
      ['age-seconds', new DoubleReply((now - e.updatedAt) / 1000)], ['client-info', e.clientInfo],
      ['entry-id', e.entryId], ['timestamp-created', e.createdAt], ['timestamp-last-updated', e.updatedAt],
    ]));
  });
}

function acl(table: () => ReadonlyMap<string, CommandSpec>, ctx: Ctx, args: Buffer[]): Reply | WritePlan {
  const n = args.length;
  switch (upper(args[1]!)) {
    case 'WHOAMI':
      return DEFAULT_USER;
    case 'USERS':
      return [DEFAULT_USER];
    case 'LIST': {
      const hashes = passwords(ctx);
      return [`user ${DEFAULT_USER} on ${hashes.length === 0 ? 'nopass' : `#${hashes[0]}`} ${RULES}`];
    }
    case 'GETUSER':
      return getuser(ctx, args[2]!);
    case 'CAT': {
      if (n === 2) return [...ACL_CATEGORIES];
      if (n > 3) return subcommandSyntax(args[1]!, 'acl');
      const category = args[2]!.toString('latin1').toLowerCase();
      if (!ACL_CATEGORIES.includes(category)) return new ErrorReply(`ERR Unknown category '${args[2]!.toString('latin1', 0, 128)}'`, true);
      return commandsIn(category, table().values());
    }
    case 'GENPASS': {
      if (n > 3) return subcommandSyntax(args[1]!, 'acl');
      let bits = 256n;
      if (n === 3) {
        const b = parseInt64(args[2]!);
        if (b === null) return NOT_INTEGER;
        bits = b;
      }
      if (bits <= 0n || bits > GENPASS_MAX_BITS) return GENPASS_RANGE;
      const chars = Number((bits + 3n) / 4n);
      return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
    }
    case 'DRYRUN':
      return dryrun(table, args);
    case 'LOG':
      return log(ctx, args);
    case 'DELUSER':
      // No user but the default one, which Redis never removes: none is deleted.
      return args.slice(2).some((u) => u.toString('latin1') === DEFAULT_USER) ? new ErrorReply("ERR The 'default' user cannot be removed") : 0;
    case 'SETUSER':
      return new ErrorReply('ERR threadraft has the default user only: ACL SETUSER is not supported (AUTH with requirepass)');
    case 'LOAD':
    case 'SAVE':
      return NO_ACL_FILE;
    case 'HELP':
      return helpReply(ACL_HELP);
    default:
      return unknownSubcommand(args[1]!, 'acl');
  }
}

export function aclCommands(table: () => ReadonlyMap<string, CommandSpec>): CommandSpec[] {
  return [
    command('acl', -2, [], 'server', 'A container for Access List Control commands.', (ctx, args) => acl(table, ctx, args), {
      since: '6.0.0',
      subcommands: {
        cat: sub(-2, ['noscript', 'loading', 'stale'], 'Lists the ACL categories, or the commands inside a category.', { since: '6.0.0' }),
        deluser: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Deletes ACL users, and terminates their connections.', { since: '6.0.0' }),
        dryrun: sub(-4, ['admin', 'noscript', 'loading', 'stale'], 'Simulates the execution of a command by a user, without executing the command.', { since: '7.0.0' }),
        genpass: sub(-2, ['noscript', 'loading', 'stale'], 'Generates a pseudorandom, secure password that can be used to identify ACL users.', { since: '6.0.0' }),
        getuser: sub(3, ['admin', 'noscript', 'loading', 'stale'], 'Lists the ACL rules of a user.', { since: '6.0.0' }),
        help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '6.0.0' }),
        list: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Dumps the effective rules in ACL file format.', { since: '6.0.0' }),
        load: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Reloads the rules from the configured ACL file.', { since: '6.0.0' }),
        log: sub(-2, ['admin', 'noscript', 'loading', 'stale'], 'Lists recent security events generated due to ACL rules.', { since: '6.0.0' }),
        save: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Saves the effective ACL rules in the configured ACL file.', { since: '6.0.0' }),
        setuser: sub(-3, ['admin', 'noscript', 'loading', 'stale'], 'Creates and modifies an ACL user and its rules.', { since: '6.0.0' }),
        users: sub(2, ['admin', 'noscript', 'loading', 'stale'], 'Lists all ACL users.', { since: '6.0.0' }),
        whoami: sub(2, ['noscript', 'loading', 'stale'], 'Returns the authenticated username of the current connection.', { since: '6.0.0' }),
      },
    }),
  ];
}
