import { Packr } from 'msgpackr';

/**
 * One msgpackr instance for everything we persist or send: plain msgpack (no records, no shared
 * structures), so that what is on disk or on the wire never depends on state kept outside the record.
 * Binary data decodes as a view of the input buffer (no copy).
 */
export const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * msgpackr-encode into a buffer of its own. msgpackr's pack() returns a view of a shared buffer, and
 * Buffer#slice is a view too: posting that view drags (and transferring it detaches) the shared buffer.
 * Uint8Array's slice copies.
 */
export function packCopy(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}

export function unpackBytes<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
