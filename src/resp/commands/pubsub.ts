// Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH
// and PUBSUB, answering as Redis 7.0 does. The registry and delivery are ../pubsub.ts.
//
// PUBLISH is answered (and its message delivered) once the connection's commands before it have their replies: a
// subscriber told about a SET pipelined before the PUBLISH reads the value written, as on Redis. Inside MULTI it is
// delivered when EXEC's batch is applied, and not at all when the transaction does not apply.
import { arityError, unknownSubcommand } from '../errors.js';
import { command, keySpec, sub, type CommandSpec } from '../command.js';
import type { Ctx } from '../context.js';
import { WritePlan } from '../plan.js';
import type { Kind } from '../pubsub.js';
import { ErrorReply, helpReply, PushReply, Replies, type Reply } from '../reply.js';
import { upper } from '../args.js';

/** The commands a RESP2 connection may send while subscribed (Redis's list; with RESP3 there is no limit). */
export const SUBSCRIBED_MODE_COMMANDS = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);

/** The count a confirmation reports: shard channels apart from channels and patterns, as Redis. */
function countFor(ctx: Ctx, kind: Kind): number {
  const s = ctx.conn.subscriptions;
  return kind === 'shard' ? s.shard.size : s.count;
}

const CONFIRM: Record<Kind, [subscribe: string, unsubscribe: string]> = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
};

function subscriber(kind: Kind) {
  return (ctx: Ctx, args: Buffer[]): Reply => {
    const mine = ctx.conn.subscriptions[kind];
    const out: Reply[] = [];
    for (let i = 1; i < args.length; i++) {
      const name = args[i]!;
      const key = name.toString('latin1');
      if (!mine.has(key)) {
        mine.set(key, name);
        ctx.server.pubsub.add(kind, key, name, ctx.conn);
      }
      out.push(new PushReply([CONFIRM[kind][0], name, countFor(ctx, kind)]));
    }
    return new Replies(out);
  };
}

/** (P|S)UNSUBSCRIBE [name ...]: the names given, or every one of the kind; one confirmation each (a null name when there were none). */
function unsubscriber(kind: Kind) {
  return (ctx: Ctx, args: Buffer[]): Reply => {
    const mine = ctx.conn.subscriptions[kind];
    const names = args.length > 1 ? args.slice(1) : [...mine.values()];
    if (names.length === 0) return new PushReply([CONFIRM[kind][1], null, countFor(ctx, kind)]);
    const out: Reply[] = [];
    for (const name of names) {
      const key = name.toString('latin1');
      if (mine.delete(key)) ctx.server.pubsub.remove(kind, key, ctx.conn.id);
      out.push(new PushReply([CONFIRM[kind][1], name, countFor(ctx, kind)]));
    }
    return new Replies(out);
  };
}

/** PUBLISH / SPUBLISH: the number of subscriptions the message reached, once the commands before it are answered. */
function publisher(shard: boolean) {
  return (ctx: Ctx, args: Buffer[]): WritePlan => {
    const [, channel, message] = args as [Buffer, Buffer, Buffer];
    return new WritePlan([], () => ctx.server.pubsub.publish(channel, message, shard));
  };
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]', "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT', '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]', '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]', "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]', '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP', '    Prints this help.',
];

function pubsub(ctx: Ctx, args: Buffer[]): Reply {
  const sub = upper(args[1]!);
  const n = args.length;
  const { pubsub: registry } = ctx.server;
  switch (sub) {
    case 'CHANNELS':
    case 'SHARDCHANNELS':
      if (n > 3) return new ErrorReply(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.toString('latin1')}'. Try PUBSUB HELP.`, true);
      return registry.names(sub === 'CHANNELS' ? 'channel' : 'shard', args[2]);
    case 'NUMSUB':
    case 'SHARDNUMSUB': {
      const out: Reply[] = [];
      for (let i = 2; i < n; i++) out.push(args[i]!, registry.subscribers(sub === 'NUMSUB' ? 'channel' : 'shard', args[i]!));
      return out;
    }
    case 'NUMPAT':
      return n === 2 ? registry.size('pattern') : arityError('pubsub|numpat');
    case 'HELP':
      return n === 2 ? helpReply(PUBSUB_HELP) : arityError('pubsub|help');
    default:
      return unknownSubcommand(args[1]!, 'pubsub');
  }
}

const S = ['pubsub', 'noscript', 'loading', 'stale'];
const P = ['pubsub', 'loading', 'stale', 'fast'];

export const PUBSUB_COMMANDS: CommandSpec[] = [
  command('subscribe', -2, S, 'pubsub', 'Listens for messages published to channels.', subscriber('channel'), { since: '2.0.0' }),
  command('unsubscribe', -1, S, 'pubsub', 'Stops listening to messages posted to channels.', unsubscriber('channel'), { since: '2.0.0' }),
  command('psubscribe', -2, S, 'pubsub', 'Listens for messages published to channels that match one or more patterns.', subscriber('pattern'), { since: '2.0.0' }),
  command('punsubscribe', -1, S, 'pubsub', 'Stops listening to messages published to channels that match one or more patterns.', unsubscriber('pattern'), { since: '2.0.0' }),
  command('ssubscribe', -2, S, 'pubsub', 'Listens for messages published to shard channels.', subscriber('shard'), { keys: [keySpec('not_key', 1, -1)], since: '7.0.0' }),
  command('sunsubscribe', -1, S, 'pubsub', 'Stops listening to messages posted to shard channels.', unsubscriber('shard'), { keys: [keySpec('not_key', 1, -1)], since: '7.0.0' }),
  command('publish', 3, P, 'pubsub', 'Posts a message to a channel.', publisher(false), { since: '2.0.0' }),
  command('spublish', 3, P, 'pubsub', 'Post a message to a shard channel', publisher(true), { keys: [keySpec('not_key', 1)], since: '7.0.0' }),
  command('pubsub', -2, [], 'pubsub', 'A container for Pub/Sub commands.', pubsub, {
    since: '2.8.0',
    subcommands: {
      channels: sub(-2, ['pubsub', 'loading', 'stale'], 'Returns the active channels.', { since: '2.8.0' }),
      numsub: sub(-2, ['pubsub', 'loading', 'stale'], 'Returns a count of subscribers to channels.', { since: '2.8.0' }),
      numpat: sub(2, ['pubsub', 'loading', 'stale'], 'Returns a count of unique pattern subscriptions.', { since: '2.8.0' }),
      shardchannels: sub(-2, ['pubsub', 'loading', 'stale'], 'Returns the active shard channels.', { since: '7.0.0' }),
      shardnumsub: sub(-2, ['pubsub', 'loading', 'stale'], 'Returns the count of subscribers of shard channels.', { since: '7.0.0' }),
      help: sub(2, ['loading', 'stale'], 'Returns helpful text about the different subcommands.', { since: '6.2.0' }),
    },
  }),
];
