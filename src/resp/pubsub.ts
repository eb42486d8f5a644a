// Pub/Sub: which connections of this server listen to which channels, patterns and shard channels, and the
// delivery of PUBLISH and SPUBLISH. As on Redis it is fire and forget: a message is neither stored nor replicated;
// it reaches the connections subscribed when it is published (docs/resp.md, Pub/Sub).
//
// Names are bytes; the maps key them by their latin1 text (one character per byte, so distinct bytes stay distinct).
import { globMatch } from './glob.js';
import { PushReply } from './reply.js';

/** Plain channels (SUBSCRIBE), patterns (PSUBSCRIBE) and shard channels (SSUBSCRIBE): three separate namespaces. */
export type Kind = 'channel' | 'pattern' | 'shard';

export interface Subscriber {
  readonly id: number;
  /**
   * Deliver a message (`bytes`: its channel, pattern and payload, for the output bound): after the replies answered
   * so far, and with `after` 'current' after the reply to the command being answered now too (a client-side caching
   * message about the connection's own write).
   */
  push(message: PushReply, bytes: number, after?: 'current'): void;
}

/** One connection's subscriptions, by kind, in the order they were made. */
export class Subscriptions {
  readonly channel = new Map<string, Buffer>();
  readonly pattern = new Map<string, Buffer>();
  readonly shard = new Map<string, Buffer>();

  /** What (P)SUBSCRIBE and (P)UNSUBSCRIBE report: channels and patterns together, as Redis counts them. */
  get count(): number {
    return this.channel.size + this.pattern.size;
  }

  /** Subscribed to anything: a RESP2 connection is then in subscribed mode (only the pub/sub commands, PING, QUIT, RESET). */
  get active(): boolean {
    return this.channel.size + this.pattern.size + this.shard.size > 0;
  }
}

interface Topic {
  readonly name: Buffer;
  readonly subscribers: Map<number, Subscriber>;
}

export class PubSubRegistry {
  private readonly topics: Record<Kind, Map<string, Topic>> = { channel: new Map(), pattern: new Map(), shard: new Map() };

  /** Subscribe `sub` to `name` of `kind` (its own map says whether it already was). */
  add(kind: Kind, key: string, name: Buffer, sub: Subscriber): void {
    const map = this.topics[kind];
    let t = map.get(key);
    if (t === undefined) map.set(key, (t = { name, subscribers: new Map() }));
    t.subscribers.set(sub.id, sub);
  }

  remove(kind: Kind, key: string, id: number): void {
    const map = this.topics[kind];
    const t = map.get(key);
    if (t === undefined) return;
    t.subscribers.delete(id);
    if (t.subscribers.size === 0) map.delete(key);
  }

  /** Every subscription of `subs` ends (the connection closed). */
  removeAll(subs: Subscriptions, id: number): void {
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const key of subs[kind].keys()) this.remove(kind, key, id);
      subs[kind].clear();
    }
  }

  /**
   * PUBLISH (`shard` false) or SPUBLISH: the message to each subscriber of the channel, then (PUBLISH only) to each
   * subscription of a matching pattern, as Redis does; returns how many it was delivered to. `afterReplyOf`: the
   * connection whose command's reply goes before the message (a keyspace event Redis publishes after the reply).
   */
  publish(channel: Buffer, payload: Buffer, shard: boolean, afterReplyOf?: number): number {
    let n = 0;
    const bytes = channel.length + payload.length;
    const t = this.topics[shard ? 'shard' : 'channel'].get(channel.toString('latin1'));
    if (t !== undefined) {
      const message = new PushReply([shard ? 'smessage' : 'message', channel, payload]);
      for (const s of t.subscribers.values()) s.push(message, bytes, s.id === afterReplyOf ? 'current' : undefined);
      n += t.subscribers.size;
    }
    if (shard) return n;
    for (const p of this.topics.pattern.values()) {
      if (!globMatch(p.name, channel)) continue;
      const message = new PushReply(['pmessage', p.name, channel, payload]);
      for (const s of p.subscribers.values()) s.push(message, bytes + p.name.length, s.id === afterReplyOf ? 'current' : undefined);
      n += p.subscribers.size;
    }
    return n;
  }

  /** The channels of `kind` with a subscriber, those matching `pattern` when given (PUBSUB CHANNELS, SHARDCHANNELS). */
  names(kind: 'channel' | 'shard', pattern: Buffer | undefined): Buffer[] {
    const out: Buffer[] = [];
    for (const t of this.topics[kind].values()) if (pattern === undefined || globMatch(pattern, t.name)) out.push(t.name);
    return out;
  }

  /** Subscribers of one channel (PUBSUB NUMSUB, SHARDNUMSUB). */
  subscribers(kind: 'channel' | 'shard', name: Buffer): number {
    return this.topics[kind].get(name.toString('latin1'))?.subscribers.size ?? 0;
  }

  /** Channels, patterns or shard channels with at least one subscriber (INFO, PUBSUB NUMPAT). */
  size(kind: Kind): number {
    return this.topics[kind].size;
  }
}
