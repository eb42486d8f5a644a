// Value codecs: what the public API accepts as a value and how it is stored. The cluster stores strings and
// bytes; a codec maps the caller's values onto them on the main thread, so nodes never see the difference.
import { Packr } from 'msgpackr';
import { ClusterError, ErrorCode } from '../errors.js';
import type { Value } from '../storage/command.js';
import { asBuffer } from '../storage/codec.js';
import { toValue } from './validate.js';

export type CodecName = 'raw' | 'json' | 'msgpack';
export const CODECS: readonly CodecName[] = ['raw', 'json', 'msgpack'];

export interface ValueCodec {
  readonly name: CodecName;
  /** The stored form of `value`, checked against maxValueBytes (INVALID_ARGUMENT otherwise). */
  encode(value: unknown, maxValueBytes: number): Value;
  decode(stored: Value): unknown;
}

/** A stored value this codec cannot read back (written raw by batch(), or by an append onto an encoded value). */
function notDecodable(codec: CodecName, err: unknown): ClusterError {
  return new ClusterError(
    ErrorCode.NOT_DECODABLE,
    `a stored value is not ${codec === 'json' ? 'JSON' : 'msgpack'} (written raw through batch() or append?): ${(err as Error).message}`,
    { cause: err },
  );
}

function invalid(message: string, cause?: unknown): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message, cause === undefined ? {} : { cause });
}

/**
 * Strings and bytes as they are: a value comes back with the type it was written with, bytes as a Buffer whichever
 * way they came (LMDB's reads give Buffers; a node thread's answer arrives as a plain Uint8Array).
 */
const raw: ValueCodec = {
  name: 'raw',
  encode: (value, max) => toValue(value, max, false),
  decode: (stored) => (typeof stored === 'string' ? stored : asBuffer(stored)),
};

/**
 * JSON text, stored as a string. An integer is stored as its decimal digits, which is what incr() reads and
 * writes: incr on a key written as 5 gives 6, and get() returns the number.
 */
const json: ValueCodec = {
  name: 'json',
  encode(value, max) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw invalid(`value is not serialisable as JSON: ${(err as Error).message}`, err);
    }
    if (text === undefined) throw invalid(`value is not serialisable as JSON (${typeof value})`);
    return toValue(text, max, false);
  },
  decode(stored) {
    try {
      return JSON.parse(typeof stored === 'string' ? stored : Buffer.from(stored).toString('utf8'));
    } catch (err) {
      throw notDecodable('json', err);
    }
  },
};

/** Plain msgpack (no records: a stored value never depends on state outside it); buffers are copied out. */
const packr = new Packr({ useRecords: false, copyBuffers: true });
const INTEGER = /^-?\d{1,16}$/;

/**
 * msgpack bytes, except that a safe integer is stored as its decimal digits, as incr() keeps counters; every
 * other value, a string included, is stored as bytes, so a stored string is always an integer.
 */
const msgpack: ValueCodec = {
  name: 'msgpack',
  encode(value, max) {
    if (Number.isSafeInteger(value)) return String(value);
    if (value === undefined) throw invalid('value must not be undefined (undefined means absent)');
    let bytes: Uint8Array;
    try {
      // pack() returns a view of msgpackr's shared buffer, which the next pack() overwrites: copy it.
      bytes = Uint8Array.prototype.slice.call(packr.pack(value));
    } catch (err) {
      throw invalid(`value is not serialisable as msgpack: ${(err as Error).message}`, err);
    }
    return toValue(bytes, max, false);
  },
  decode(stored) {
    if (typeof stored === 'string') return INTEGER.test(stored) ? Number(stored) : stored;
    try {
      return packr.unpack(stored);
    } catch (err) {
      throw notDecodable('msgpack', err);
    }
  },
};

export function codecFor(name: CodecName): ValueCodec {
  return name === 'json' ? json : name === 'msgpack' ? msgpack : raw;
}
