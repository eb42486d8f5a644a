// The operation history format of /shared/HISTORY-FORMAT.md (Jepsen/Knossos style JSON Lines).
// One event per line, in the order the events happened.

/** What the operation does to the key's register. */
export type HistoryFunction = 'write' | 'read' | 'delete' | 'cas';

/**
 * `invoke`: the operation starts. `ok`: it completed and took effect. `fail`: it certainly did not
 * and will not take effect. `info`: outcome unknown; it may take effect at any time after its invoke.
 */
export type HistoryEventType = 'invoke' | 'ok' | 'fail' | 'info';

/** `[expected, new]` of a compare-and-set; `null` stands for "absent". */
export type CasValue = [expected: string | null, replacement: string | null];

/**
 * `write`: the string written. `read`: `null` on invoke, the string seen (or `null` for absent) on ok.
 * `delete`: `null`. `cas`: `[expected, new]`.
 */
export type HistoryValue = string | null | CasValue;

export interface HistoryEvent {
  /** Client id; one client has at most one operation outstanding. */
  process: number;
  type: HistoryEventType;
  f: HistoryFunction;
  key: string;
  value: HistoryValue;
  /** Nanoseconds from a monotonic clock (`process.hrtime.bigint()` as a number). */
  time: number;
  /**
   * Optional, reads only: how the read was served when not linearizable by ReadIndex. `'lease'` reads are
   * checked as reads all the same: under the clock assumption (docs/reliability.md) they are linearizable.
   * Stale reads are not linearizable and must not be recorded as reads.
   */
  consistency?: ReadConsistency;
}

/** Read modes a history may hold: both must be linearizable. */
export type ReadConsistency = 'linearizable' | 'lease';
export const READ_CONSISTENCIES: readonly ReadConsistency[] = ['linearizable', 'lease'];

export const HISTORY_FUNCTIONS: readonly HistoryFunction[] = ['write', 'read', 'delete', 'cas'];
export const HISTORY_EVENT_TYPES: readonly HistoryEventType[] = ['invoke', 'ok', 'fail', 'info'];

export const HistoryErrorCode = {
  /** A line is not JSON or not an event of the format. */
  PARSE: 'PARSE',
  /** Events do not pair up: a completion without an invoke, or one for another operation. */
  UNMATCHED: 'UNMATCHED',
  /** The recorder was used wrongly (second outstanding operation, completed twice, closed). */
  MISUSE: 'MISUSE',
} as const;
export type HistoryErrorCode = (typeof HistoryErrorCode)[keyof typeof HistoryErrorCode];

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly code: HistoryErrorCode;
  /** 1-based line of the offending event, when it came from text. */
  readonly line: number | undefined;

  constructor(code: HistoryErrorCode, message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.code = code;
    this.line = line;
  }
}
