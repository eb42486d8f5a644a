// CLIENT PAUSE and CLIENT UNPAUSE: the server holds the commands of every connection (all of them, or only those
// that write) until a time or an UNPAUSE, as Redis 7 does. A held connection runs nothing after the held command:
// its later commands wait behind it, in order. The cluster itself is not paused: writes through the Cluster API
// and another server go on, and keys still expire (docs/resp.md, "Differences from Redis").

/** The longest wait of one timer (setTimeout's limit); a later end is reached by waiting again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type PauseMode = 'write' | 'all';

export class ClientPause {
  private mode: PauseMode | undefined;
  private endMs = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The connections waiting for the pause to end (each removes its own when it closes). */
  private readonly waiters = new Set<() => void>();

  /** Whether a pause may be in effect (the cheap test before each command). */
  get on(): boolean {
    return this.mode !== undefined;
  }

  /**
   * CLIENT PAUSE: pause until `endMs` (ms since the epoch). A pause already in effect keeps the later end and the
   * stricter mode (Redis's pauseClients: ALL over WRITE).
   */
  pause(endMs: number, mode: PauseMode): void {
    if (this.mode === undefined) {
      this.mode = mode;
      this.endMs = endMs;
    } else {
      if (mode === 'all') this.mode = 'all';
      this.endMs = Math.max(this.endMs, endMs);
    }
    this.arm();
  }

  /** CLIENT UNPAUSE (and the end of the time): every held connection goes on. */
  unpause(): void {
    this.mode = undefined;
    this.endMs = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Whether a command is held now: every command under ALL, a write (`writes`) under WRITE. */
  holds(writes: boolean): boolean {
    if (this.mode === undefined) return false;
    if (Date.now() >= this.endMs) {
      this.unpause();
      return false;
    }
    return this.mode === 'all' || writes;
  }

  /** Resolves when the pause ends, or when `cancel` (returned through `onCancel`) is called: the connection closed. */
  wait(onCancel: (cancel: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      onCancel(wake);
    });
  }

  /** The server closes: nothing stays held, no timer is left. */
  close(): void {
    this.unpause();
  }

  private arm(): void {
    clearTimeout(this.timer);
    const left = this.endMs - Date.now();
    if (left <= 0) {
      this.unpause();
      return;
    }
    this.timer = setTimeout(() => {
      if (Date.now() >= this.endMs) this.unpause();
      else this.arm();
    }, Math.min(left, MAX_TIMER_MS));
    this.timer.unref();
  }
}
