// Structured logs (pino): silent by default; level and destination configurable.
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../node/config.js';

export function createLogger(level: LogLevel, file: string | undefined, bindings: Record<string, unknown> = {}): Logger {
  if (level === 'silent') return pino({ level: 'silent', enabled: false });
  const dest = file ? pino.destination({ dest: file, append: true, sync: true, mkdir: true }) : pino.destination(2);
  return pino({ level, base: { pid: process.pid, ...bindings } }, dest);
}
