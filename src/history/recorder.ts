// Records client operations as a JSON Lines history (HISTORY-FORMAT.md). Writes are synchronous and
// in chunks: a bounded buffer of serialized lines is appended to the file when it fills, so memory
// stays bounded on long runs and the file holds events in the order they were recorded.

import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  HISTORY_EVENT_TYPES,
  HISTORY_FUNCTIONS,
  READ_CONSISTENCIES,
  HistoryError,
  HistoryErrorCode,
  type HistoryEvent,
  type HistoryEventType,
  type HistoryFunction,
  type HistoryValue,
  type ReadConsistency,
} from './types.js';

export interface HistoryRecorderOptions {
  /** Events kept in memory before they are written out. Default 1024. */
  maxBufferedEvents?: number;
  /** Clock in nanoseconds. Default `process.hrtime.bigint()` as a number. */
  now?: () => number;
  /** `true` appends to an existing file; default truncates it. */
  append?: boolean;
}

/** One outstanding operation; complete it exactly once. */
export interface OperationHandle {
  readonly process: number;
  readonly f: HistoryFunction;
  readonly key: string;
  /** Completed and took effect. `value` is what a read saw; other operations default to the invoke value. */
  ok(value?: HistoryValue): void;
  /** Certainly did not and will not take effect. */
  fail(): void;
  /** Outcome unknown (timeout, crash, lost reply). */
  info(): void;
}

const DEFAULT_MAX_BUFFERED_EVENTS = 1024;

function hrtimeNs(): number {
  return Number(process.hrtime.bigint());
}

export class HistoryRecorder {
  readonly path: string;
  private readonly fd: number;
  private readonly maxBufferedEvents: number;
  private readonly now: () => number;
  private readonly buffer: string[] = [];
  /** Processes with an operation outstanding: the format allows one per process. */
  private readonly outstanding = new Set<number>();
  private closed = false;
  private written = 0;

  constructor(path: string, opts: HistoryRecorderOptions = {}) {
    const max = opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBufferedEvents must be a positive integer, got ${max}`);
    this.path = path;
    this.maxBufferedEvents = max;
    this.now = opts.now ?? hrtimeNs;
    this.fd = openSync(path, opts.append === true ? 'a' : 'w');
  }

  /** Events recorded so far (written or buffered). */
  get eventCount(): number {
    return this.written + this.buffer.length;
  }

  /** Events waiting in memory; never more than `maxBufferedEvents`. */
  get bufferedEvents(): number {
    return this.buffer.length;
  }

  /** `consistency` (reads only) is written on the invoke and its completion. */
  invoke(process: number, f: HistoryFunction, key: string, value: HistoryValue = null, consistency?: ReadConsistency): OperationHandle {
    this.assertOpen();
    if (consistency !== undefined && (f !== 'read' || !READ_CONSISTENCIES.includes(consistency))) {
      throw new HistoryError(HistoryErrorCode.MISUSE, `consistency ${JSON.stringify(consistency)} on a ${f}: only linearizable or lease reads belong in a history`);
    }
    // What parseHistory would refuse is refused here, before it is written.
    if (!Number.isInteger(process)) throw new HistoryError(HistoryErrorCode.MISUSE, `process must be an integer, got ${typeof process}`);
    if (!HISTORY_FUNCTIONS.includes(f)) throw new HistoryError(HistoryErrorCode.MISUSE, `f must be one of ${HISTORY_FUNCTIONS.join(', ')}, got ${typeof f === 'string' ? JSON.stringify(f) : typeof f}`);
    if (typeof key !== 'string') throw new HistoryError(HistoryErrorCode.MISUSE, `key must be a string, got ${typeof key}`);
    const extra = consistency === undefined ? {} : { consistency };
    if (this.outstanding.has(process)) {
      throw new HistoryError(HistoryErrorCode.MISUSE, `process ${process} already has an operation outstanding`);
    }
    checkValue(f, 'invoke', value);
    this.outstanding.add(process);
    this.push({ process, type: 'invoke', f, key, value, time: this.now(), ...extra });
    let done = false;
    const complete = (type: HistoryEventType, completion: HistoryValue): void => {
      if (done) throw new HistoryError(HistoryErrorCode.MISUSE, `operation of process ${process} completed twice`);
      this.assertOpen();
      checkValue(f, type, completion);
      done = true;
      this.outstanding.delete(process);
      this.push({ process, type, f, key, value: completion, time: this.now(), ...extra });
    };
    return {
      process,
      f,
      key,
      ok: (result?: HistoryValue) => complete('ok', result === undefined ? (f === 'read' ? null : value) : result),
      fail: () => complete('fail', value),
      info: () => complete('info', value),
    };
  }

  /** Writes buffered events to the file. */
  flush(): void {
    if (this.buffer.length === 0) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    const events = this.buffer.length;
    this.buffer.length = 0;
    // writeSync may write less than asked; loop so a chunk is never cut in the middle of a line.
    for (let offset = 0; offset < chunk.length; ) offset += writeSync(this.fd, chunk, offset);
    this.written += events;
  }

  /**
   * Flushes and closes the file. Operations still outstanding stay without completion, which a
   * checker reads as `info` (the run ended first). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private push(event: HistoryEvent): void {
    this.buffer.push(JSON.stringify(event) + '\n');
    if (this.buffer.length >= this.maxBufferedEvents) this.flush();
  }

  private assertOpen(): void {
    if (this.closed) throw new HistoryError(HistoryErrorCode.MISUSE, `recorder for ${this.path} is closed`);
  }
}

function isNullableString(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

/** Throws unless `value` has the shape the format gives `f` on an event of `type`. */
function checkValue(f: HistoryFunction, type: HistoryEventType, value: unknown, line?: number): void {
  let valid: boolean;
  switch (f) {
    case 'write':
      valid = typeof value === 'string';
      break;
    case 'read':
      valid = type === 'ok' ? isNullableString(value) : value === null;
      break;
    case 'delete':
      valid = value === null;
      break;
    case 'cas':
      valid = Array.isArray(value) && value.length === 2 && isNullableString(value[0]) && isNullableString(value[1]);
      break;
  }
  if (!valid) {
    throw new HistoryError(HistoryErrorCode.PARSE, `invalid value for ${f} ${type}: ${JSON.stringify(value)}`, line);
  }
}

/** Validates one decoded JSON value as a history event. */
export function toHistoryEvent(raw: unknown, line?: number): HistoryEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HistoryError(HistoryErrorCode.PARSE, 'event is not an object', line);
  }
  const r = raw as Record<string, unknown>;
  const { process, type, f, key, time } = r;
  if (typeof process !== 'number' || !Number.isInteger(process)) {
    throw new HistoryError(HistoryErrorCode.PARSE, `process must be an integer, got ${JSON.stringify(process)}`, line);
  }
  if (!HISTORY_EVENT_TYPES.includes(type as HistoryEventType)) {
    throw new HistoryError(HistoryErrorCode.PARSE, `unknown type ${JSON.stringify(type)}`, line);
  }
  if (!HISTORY_FUNCTIONS.includes(f as HistoryFunction)) {
    throw new HistoryError(HistoryErrorCode.PARSE, `unknown f ${JSON.stringify(f)}`, line);
  }
  if (typeof key !== 'string') throw new HistoryError(HistoryErrorCode.PARSE, 'key must be a string', line);
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new HistoryError(HistoryErrorCode.PARSE, `time must be a finite number, got ${JSON.stringify(time)}`, line);
  }
  const value = r['value'] === undefined ? null : r['value'];
  checkValue(f as HistoryFunction, type as HistoryEventType, value, line);
  const event: HistoryEvent = {
    process,
    type: type as HistoryEventType,
    f: f as HistoryFunction,
    key,
    value: value as HistoryValue,
    time,
  };
  const consistency = r['consistency'];
  if (consistency !== undefined) {
    if (f !== 'read' || !READ_CONSISTENCIES.includes(consistency as ReadConsistency)) {
      throw new HistoryError(HistoryErrorCode.PARSE, `consistency ${JSON.stringify(consistency)} on a ${String(f)}: only linearizable or lease reads belong in a history`, line);
    }
    event.consistency = consistency as ReadConsistency;
  }
  return event;
}

/** Parses JSON Lines text; blank lines are skipped. Throws `HistoryError` (code PARSE) with the line. */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new HistoryError(HistoryErrorCode.PARSE, `not JSON: ${(e as Error).message}`, i + 1);
    }
    events.push(toHistoryEvent(raw, i + 1));
  }
  return events;
}

export async function readHistory(path: string): Promise<HistoryEvent[]> {
  return parseHistory(await readFile(path, 'utf8'));
}
