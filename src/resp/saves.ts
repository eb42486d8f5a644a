// SAVE, BGSAVE, LASTSAVE and BGREWRITEAOF (./commands/server.ts): what Redis's dump to disk is here. Every acknowledged write is in
// the Raft log already, synced on a majority before it was acknowledged (with LMDB and sync), so a save adds no
// durability: it is a snapshot point on every live node (Cluster.snapshot(): each node's state as applied, its log
// compacted up to there), what Redis's dump is to its AOF. Backup scripts that run BGSAVE and wait for LASTSAVE to
// change, and dashboards that read INFO persistence, find what they expect.
import { unixSeconds } from '../util/clock.js';

/** A save's figures for INFO persistence, as Redis names them (rdb_* and aof_*). */
export interface SaveStats {
  inProgress: boolean;
  /** Unix seconds of the last successful save (the server's start before any, as Redis counts its data saved then). */
  lastSaveTime: number;
  lastStatus: 'ok' | 'err';
  /** Seconds the last background save took (-1: none yet), and the running one so far (-1: none running). */
  lastBackgroundSeconds: number;
  currentBackgroundSeconds: number;
  /** Saves started, SAVE and BGSAVE. */
  saves: number;
  /** BGREWRITEAOF: running, scheduled, its seconds as a BGSAVE's, its status, rewrites started, failures in a row. */
  rewrite: { inProgress: boolean; scheduled: boolean; lastSeconds: number; currentSeconds: number; lastStatus: 'ok' | 'err'; started: number; consecutiveFailures: number };
}

/** One kind of background job, BGSAVE or BGREWRITEAOF (Redis's child processes): what runs, what waits, how it went. */
class Job {
  /** When the running one started (Date.now()), or undefined when none runs. */
  startedMs: number | undefined;
  /** To start once the other kind ends (Redis's rdb_bgsave_scheduled, aof_rewrite_scheduled). */
  scheduled = false;
  lastSeconds = -1;
  lastStatus: 'ok' | 'err' = 'ok';
  started = 0;
  consecutiveFailures = 0;

  get running(): boolean {
    return this.startedMs !== undefined;
  }

  currentSeconds(): number {
    return this.startedMs === undefined ? -1 : Math.floor((Date.now() - this.startedMs) / 1000);
  }
}

/** BGSAVE's outcome: started, scheduled after a running BGREWRITEAOF, refused while a BGSAVE runs, or while a rewrite runs without SCHEDULE. */
export type BackgroundStart = 'started' | 'scheduled' | 'in-progress' | 'busy';

export class Saves {
  private lastSaveTime = unixSeconds();
  private lastStatus: 'ok' | 'err' = 'ok';
  private saves = 0;
  private readonly bgsave = new Job();
  /**
   * BGREWRITEAOF: what rewriting Redis's append-only file is here, the log compacted up to a snapshot point on every
   * node: the same snapshot as a save's, which does not move LASTSAVE.
   */
  private readonly aofRewrite = new Job();

  /** `snapshot`: takes a snapshot point on every live node (Cluster.snapshot). */
  constructor(private readonly snapshot: () => Promise<unknown>) {}

  /** A BGSAVE runs. */
  get inProgress(): boolean {
    return this.bgsave.running;
  }

  /** SAVE: resolves once every live node took its snapshot point; rejects with the cluster's error if one did not. */
  async save(): Promise<void> {
    this.saves++;
    await this.snapshot();
    this.lastSaveTime = unixSeconds();
    this.lastStatus = 'ok';
  }

  /**
   * BGSAVE: starts a save that runs on its own, as Redis's bgsaveCommand decides: refused while one runs; while a
   * rewrite runs, scheduled after it with `schedule` (SCHEDULE, or inside EXEC), else refused.
   */
  background(schedule: boolean): BackgroundStart {
    if (this.bgsave.running) return 'in-progress';
    if (this.aofRewrite.running) {
      if (!schedule) return 'busy';
      this.bgsave.scheduled = true;
      return 'scheduled';
    }
    this.start(this.bgsave);
    return 'started';
  }

  /** BGREWRITEAOF, as Redis's: refused while one runs; scheduled after a running BGSAVE; else started. */
  rewrite(): 'started' | 'scheduled' | 'in-progress' {
    if (this.aofRewrite.running) return 'in-progress';
    if (this.bgsave.running) {
      this.aofRewrite.scheduled = true;
      return 'scheduled';
    }
    this.start(this.aofRewrite);
    return 'started';
  }

  /** Runs `job`; when it ends, the other kind if it was scheduled. */
  private start(job: Job): void {
    const isSave = job === this.bgsave;
    if (isSave) this.saves++;
    job.started++;
    job.scheduled = false;
    const startedMs = Date.now();
    job.startedMs = startedMs;
    void this.snapshot().then(
      () => {
        job.lastStatus = 'ok';
        job.consecutiveFailures = 0;
        if (isSave) {
          this.lastSaveTime = unixSeconds();
          this.lastStatus = 'ok';
        }
      },
      () => {
        job.lastStatus = 'err';
        job.consecutiveFailures++;
        if (isSave) this.lastStatus = 'err';
      },
    ).finally(() => {
      job.lastSeconds = Math.floor((Date.now() - startedMs) / 1000);
      job.startedMs = undefined;
      const other = isSave ? this.aofRewrite : this.bgsave;
      if (other.scheduled) this.start(other);
    });
  }

  /** LASTSAVE's unix time. */
  get lastSave(): number {
    return this.lastSaveTime;
  }

  stats(): SaveStats {
    const r = this.aofRewrite;
    return {
      inProgress: this.bgsave.running,
      lastSaveTime: this.lastSaveTime,
      lastStatus: this.lastStatus,
      lastBackgroundSeconds: this.bgsave.lastSeconds,
      currentBackgroundSeconds: this.bgsave.currentSeconds(),
      saves: this.saves,
      rewrite: { inProgress: r.running, scheduled: r.scheduled, lastSeconds: r.lastSeconds, currentSeconds: r.currentSeconds(), lastStatus: r.lastStatus, started: r.started, consecutiveFailures: r.consecutiveFailures },
    };
  }
}
