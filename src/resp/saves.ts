// SAVE, BGSAVE and LASTSAVE (./commands/server.ts): what Redis's dump to disk is here. Every acknowledged write is in
// the Raft log already, synced on a majority before it was acknowledged (with LMDB and sync), so a save adds no
// durability: it is a snapshot point on every live node (Cluster.snapshot(): each node's state as applied, its log
// compacted up to there), what Redis's dump is to its AOF. Backup scripts that run BGSAVE and wait for LASTSAVE to
// change, and dashboards that read INFO persistence, find what they expect.
import { unixSeconds } from '../util/clock.js';

/** A save's figures for INFO persistence, as Redis names them. */
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
}

export class Saves {
  private lastSaveTime = unixSeconds();
  private lastStatus: 'ok' | 'err' = 'ok';
  /** When the running BGSAVE started (Date.now()), or undefined when none runs. */
  private startedMs: number | undefined;
  private lastBackgroundSeconds = -1;
  private saves = 0;

  /** `snapshot`: takes a snapshot point on every live node (Cluster.snapshot). */
  constructor(private readonly snapshot: () => Promise<unknown>) {}

  get inProgress(): boolean {
    return this.startedMs !== undefined;
  }

  /** SAVE: resolves once every live node took its snapshot point; rejects with the cluster's error if one did not. */
  async save(): Promise<void> {
    this.saves++;
    await this.snapshot();
    this.lastSaveTime = unixSeconds();
    this.lastStatus = 'ok';
  }

  /** BGSAVE: starts a save that runs on its own (false: one is running already). */
  background(): boolean {
    if (this.startedMs !== undefined) return false;
    this.saves++;
    const startedMs = Date.now();
    void this.snapshot().then(
      () => {
        this.lastSaveTime = unixSeconds();
        this.lastStatus = 'ok';
      },
      () => {
        this.lastStatus = 'err';
      },
    ).finally(() => {
      this.lastBackgroundSeconds = Math.floor((Date.now() - startedMs) / 1000);
      this.startedMs = undefined;
    });
    this.startedMs = startedMs;
    return true;
  }

  /** LASTSAVE's unix time. */
  get lastSave(): number {
    return this.lastSaveTime;
  }

  stats(): SaveStats {
    return {
      inProgress: this.inProgress,
      lastSaveTime: this.lastSaveTime,
      lastStatus: this.lastStatus,
      lastBackgroundSeconds: this.lastBackgroundSeconds,
      currentBackgroundSeconds: this.startedMs === undefined ? -1 : Math.floor((Date.now() - this.startedMs) / 1000),
      saves: this.saves,
    };
  }
}
