// The server's log, as Redis's `loglevel` and `logfile`: what scripts write with redis.log, as pino lines (the
// house's structured logs) on stderr or appended to a file. Redis's four levels map onto pino's: debug -> trace,
// verbose -> debug, notice -> info, warning -> warn; `nothing` writes nothing.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

/** Redis's loglevel values, least to most severe; `nothing` is none. */
export const LOG_LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const PINO_LEVEL = { debug: 'trace', verbose: 'debug', notice: 'info', warning: 'warn' } as const;

export class ServerLog {
  private logger: Logger | undefined;
  private destination: ReturnType<typeof pino.destination> | undefined;

  /** `file` '' (Redis's default): standard error here (Redis writes to standard output, where serve prints its port). */
  constructor(public level: LogLevelName, readonly file: string) {}

  /**
   * Throws unless `file` can be appended to (its directory made if need be), as Redis will not start with a log file
   * it cannot open: the server checks it when it starts, not at the first line a script logs.
   */
  static check(file: string): void {
    if (file === '') return;
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  }

  /** redis.log(level, message): `level` 0 (LOG_DEBUG) to 3 (LOG_WARNING), written when at least the server's level. */
  script(level: number, message: string): void {
    const name = LOG_LEVELS[level];
    if (name === undefined || name === 'nothing' || level < LOG_LEVELS.indexOf(this.level)) return;
    this.open()[PINO_LEVEL[name]]({ source: 'script' }, message);
  }

  /** Opened on the first line: a server that logs nothing opens nothing. */
  private open(): Logger {
    if (this.logger === undefined) {
      this.destination = this.file === '' ? pino.destination({ fd: 2, sync: true }) : pino.destination({ dest: this.file, append: true, sync: true, mkdir: true });
      this.logger = pino({ level: 'trace', base: { pid: process.pid } }, this.destination);
    }
    return this.logger;
  }

  /** The server closes: a log file is closed (standard error is left open). */
  close(): void {
    if (this.file !== '') this.destination?.end();
    this.logger = undefined;
    this.destination = undefined;
  }
}
