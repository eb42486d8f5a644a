// The latency monitor, as Redis 7's (latency.c): once `latency-monitor-threshold` is set (ms; 0, the default, turns
// it off), every command that took at least that long is a sample of its event, `command`, or `fast-command` for a
// command Redis flags fast. An event keeps its latest 160 samples, one per second (the second's highest), and its
// all-time highest. A command's time is the one SLOWLOG and INFO commandstats use (./slowlog.ts): from its dispatch
// to its reply, so a write's includes the cluster's whole round, which is what a spike here usually is.
// Which part of that round is told by events of threadraft's own, one per stage of the write path
// (../cluster/profile.ts, docs/profiling.md): `write-leaderFsync` when a batch's leader sync took at least the
// threshold, `write-replication`, `write-queue`, ...; and `read-indexRound`, a linearizable read's round to the
// leader and its quorum. They are watched only while the monitor is on.
// LATENCY LATEST, HISTORY, RESET, GRAPH and DOCTOR read it (./commands/server.ts).
import type { Stage, StageWatcher } from '../cluster/profile.js';
import { unixSeconds } from '../util/clock.js';
import { fixed2 } from '../util/printf.js';

/** Redis's LATENCY_TS_LEN: the samples an event keeps. */
const SAMPLES = 160;
/** Redis's LATENCY_GRAPH_COLS. */
const GRAPH_COLS = 80;

interface Sample {
  /** Unix time in seconds; 0 for a slot never used. */
  time: number;
  ms: number;
}

interface Series {
  samples: Sample[];
  /** The slot the next second's sample goes in. */
  idx: number;
  /** The highest sample ever, resets aside. */
  max: number;
}

export class LatencyMonitor {
  private threshold = 0;
  /** The events in the order they were first seen (Redis's order is its hash table's). */
  private events = new Map<string, Series>();
  private unwatch: (() => void) | undefined;

  /**
   * `watch`: how to be told the write path's stage times (the cluster's WriteProfile.watchStages) and the read
   * rounds' (Cluster.watchReadRounds).
   */
  constructor(private readonly watch?: { stages(watcher: StageWatcher): () => void; readRounds(watcher: (ms: number) => void): () => void }) {}

  /** Whether the monitor is on (a threshold above 0). */
  get on(): boolean {
    return this.threshold > 0;
  }

  /** Samples of at least this many ms are kept; 0 keeps none (latency-monitor-threshold). */
  get thresholdMs(): number {
    return this.threshold;
  }

  set thresholdMs(ms: number) {
    this.threshold = ms;
    if (ms > 0 && this.unwatch === undefined && this.watch !== undefined) {
      const stop = [this.watch.stages((stage, t) => this.stage(stage, t)), this.watch.readRounds((t) => this.sample('read-indexRound', t))];
      this.unwatch = () => stop.forEach((s) => s());
    }
    if (ms === 0) this.close();
  }

  /** Stops watching the write path's stages (until the monitor is turned on again). */
  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** A command's time: a sample of `fast-command` or `command` when the monitor is on and it reaches the threshold. */
  command(fast: boolean, us: number): void {
    this.sample(fast ? 'fast-command' : 'command', us / 1000);
  }

  /** A write path stage's time: a sample of `write-<stage>`. */
  stage(stage: Stage, ms: number): void {
    this.sample(`write-${stage}`, ms);
  }

  /** A sample of `event` if the monitor is on and the time, in whole ms as Redis counts them, reaches the threshold. */
  private sample(event: string, ms: number): void {
    const whole = Math.floor(ms);
    if (this.threshold > 0 && whole >= this.threshold) this.add(event, whole);
  }

  /** Records a sample of `event` now: a new one each second, the highest of the second otherwise (latencyAddSample). */
  add(event: string, ms: number, now = unixSeconds()): void {
    let s = this.events.get(event);
    if (s === undefined) {
      s = { samples: Array.from({ length: SAMPLES }, () => ({ time: 0, ms: 0 })), idx: 0, max: 0 };
      this.events.set(event, s);
    }
    if (ms > s.max) s.max = ms;
    const prev = s.samples[(s.idx + SAMPLES - 1) % SAMPLES]!;
    if (prev.time === now) {
      if (ms > prev.ms) prev.ms = ms;
      return;
    }
    s.samples[s.idx] = { time: now, ms };
    s.idx = (s.idx + 1) % SAMPLES;
  }

  /** LATENCY LATEST: each event's name, its latest sample's time and ms, and its all-time highest. */
  latest(): Array<[string, number, number, number]> {
    return [...this.events].map(([event, s]) => {
      const last = s.samples[(s.idx + SAMPLES - 1) % SAMPLES]!;
      return [event, last.time, last.ms, s.max];
    });
  }

  /** LATENCY HISTORY: the event's samples, oldest first ([] for an event never seen; its name is matched exactly). */
  history(event: string): Array<[number, number]> {
    const s = this.events.get(event);
    return s === undefined ? [] : inOrder(s).map((x) => [x.time, x.ms]);
  }

  /** LATENCY RESET: forgets the events named (any case), or all of them; how many there were. */
  reset(events?: readonly string[]): number {
    let n = 0;
    for (const event of [...this.events.keys()]) {
      if (events === undefined || events.some((e) => e.toLowerCase() === event.toLowerCase())) {
        this.events.delete(event);
        n++;
      }
    }
    return n;
  }

  /** LATENCY GRAPH: the event's samples as Redis draws them, or undefined for an event never seen. */
  graph(event: string, now = unixSeconds()): string | undefined {
    const s = this.events.get(event);
    if (s === undefined) return undefined;
    const samples = inOrder(s); // never empty: an event is made by its first sample, and RESET forgets it whole
    const values = samples.map((x) => x.ms);
    const high = Math.max(...values);
    const low = Math.min(...values);
    const head = `${event} - high ${high} ms, low ${low} ms (all time high ${s.max} ms)\n${'-'.repeat(GRAPH_COLS)}\n`;
    return head + sparkline(samples.map((x) => ({ value: x.ms, label: ago(now - x.time) })), GRAPH_COLS, 4);
  }

  /**
   * LATENCY DOCTOR: Redis's report (createLatencyReport) on the events here, `command` and `fast-command`, with its
   * advice for them. `slowerThanUs` is slowlog-log-slower-than, which the advice on the slow log reads.
   */
  doctor(slowerThanUs: number, now = unixSeconds()): string {
    if (this.events.size === 0 && this.thresholdMs === 0) return DISABLED;
    if (this.events.size === 0) return NO_SPIKES;
    let report = 'Dave, I have observed latency spikes in this Redis instance. You don\'t mind talking about it, do you Dave?\n\n';
    const advise = { enableSlowlog: false, tuneSlowlog: false, inspectSlowlog: false, scheduler: false, disk: false, largeObjects: false };
    let n = 0;
    for (const [event, s] of this.events) {
      const st = stats(s, now);
      n++;
      report += `${n}. ${event}: ${st.samples} latency spikes (average ${st.avg}ms, mean deviation ${st.mad}ms, period ${fixed2(st.period, st.samples)} sec). Worst all time event ${s.max}ms.\n`;
      if (event === 'command') {
        if (slowerThanUs < 0) advise.enableSlowlog = true;
        else if (Math.trunc(slowerThanUs / 1000) > this.thresholdMs) advise.tuneSlowlog = true;
        advise.inspectSlowlog = true;
        advise.largeObjects = true;
      } else if (event === 'fast-command') {
        advise.scheduler = true;
      } else if (event === 'write-leaderFsync' || event === 'write-replication') {
        advise.disk = true; // a sync of the log, the leader's or the followers' (Redis's advice on AOF fsync)
      } else if (event.startsWith('write-') || event === 'read-indexRound') {
        advise.scheduler = true; // a thread that did not run: the stage's queue, a hop, the apply or a read's round
      }
    }
    if (!Object.values(advise).some((a) => a)) {
      return `${report}\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n`;
    }
    report += '\nI have a few advices for you:\n\n';
    const slower = this.thresholdMs * 1000;
    if (advise.enableSlowlog) report += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${slower}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
    if (advise.tuneSlowlog) report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${slower}'.\n`;
    if (advise.inspectSlowlog) report += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    if (advise.scheduler) report += SCHEDULER;
    if (advise.disk) report += DISK;
    if (advise.largeObjects) report += '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
    return report;
  }
}

const DISABLED = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const NO_SPIKES = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
const SCHEDULER = "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
  + '  1) Lower the system load.\n'
  + '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n'
  + '  3) Check if you have a "noisy neighbour" problem.\n'
  + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
  + '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n';

/** Redis's advice on local disks, SSDs and disk contention, in its order. */
const DISK = '- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n'
  + '- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n'
  + '- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n';

/** The samples kept, oldest first. */
function inOrder(s: Series): Sample[] {
  const out: Sample[] = [];
  for (let j = 0; j < SAMPLES; j++) {
    const x = s.samples[(s.idx + j) % SAMPLES]!;
    if (x.time !== 0) out.push(x);
  }
  return out;
}

/** How long ago, as GRAPH labels a sample: seconds, minutes, hours or days. */
function ago(elapsed: number): string {
  if (elapsed < 60) return `${elapsed}s`;
  if (elapsed < 3600) return `${Math.floor(elapsed / 60)}m`;
  if (elapsed < 86_400) return `${Math.floor(elapsed / 3600)}h`;
  return `${Math.floor(elapsed / 86_400)}d`;
}

/** DOCTOR's figures for an event (analyzeLatencyForEvent): integer ms as Redis's, and the seconds since its oldest sample (at least 1). */
function stats(s: Series, now: number): { samples: number; avg: number; mad: number; period: number } {
  const kept = inOrder(s);
  const n = kept.length;
  const avg = Math.floor(kept.reduce((a, x) => a + x.ms, 0) / n);
  const mad = Math.floor(kept.reduce((a, x) => a + Math.abs(avg - x.ms), 0) / n);
  const oldest = Math.min(...kept.map((x) => x.time));
  return { samples: n, avg, mad, period: Math.max(now - oldest, 1) };
}

/**
 * Redis's sparkline (sparkline.c, filled, linear): `rows` rows of `_o#|` scaled from the lowest value to the highest,
 * then, when a sample has a label, a blank row and the labels written downwards; in blocks of `columns` samples.
 */
export function sparkline(samples: ReadonlyArray<{ value: number; label: string }>, columns: number, rows: number): string {
  const FILL = '_o#';
  const values = samples.map((s) => s.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const relmax = max - min === 0 ? 1 : max - min;
  const steps = FILL.length * rows;
  const labelled = samples.some((s) => s.label !== '');
  const blocks: string[] = [];
  for (let offset = 0; offset < samples.length; offset += columns) {
    const part = samples.slice(offset, offset + columns);
    let out = '';
    for (let row = 0; ; row++) {
      let more = false;
      const chars = new Array<string>(part.length).fill(' ');
      if (row < rows) {
        more = true;
        part.forEach((s, j) => {
          const step = Math.min(Math.max(Math.trunc(Math.trunc((s.value - min) * steps) / relmax), 0), steps - 1);
          const c = step - (rows - row - 1) * FILL.length;
          if (c >= 0 && c < FILL.length) chars[j] = FILL[c]!;
          else if (c >= FILL.length) chars[j] = '|';
        });
      } else if (labelled && row === rows) {
        more = true; // one blank row between the graph and its labels
      } else {
        const at = row - rows - 1;
        part.forEach((s, j) => {
          if (s.label !== '' && s.label.length > at) {
            more = true;
            chars[j] = s.label[at]!;
          }
        });
      }
      if (!more) break;
      out += `${chars.join('')}\n`;
    }
    blocks.push(out);
  }
  return blocks.join('\n');
}
