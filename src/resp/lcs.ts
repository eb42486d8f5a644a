// LCS: Redis 7.0's longest common subsequence of two strings, with the same table walk (t_string.c, lcsCommand),
// so that the subsequence chosen among equally long ones and the IDX ranges are Redis's own.
import { MapReply, type Reply } from './reply.js';

export interface LcsOptions {
  /** LEN: the length only. */
  len: boolean;
  /** IDX: the matching ranges (and the length). */
  idx: boolean;
  /** MINMATCHLEN: ranges shorter than this are left out of IDX's (0: none left out). */
  minMatchLen: number;
  /** WITHMATCHLEN: each IDX range with its length. */
  withMatchLen: boolean;
}

/**
 * The table's bound: (|a| + 1) * (|b| + 1) cells of 4 bytes. Redis's is proto-max-bulk-len (512 MiB); this one is
 * smaller because the table is built on the coordinator's thread: 128 MiB, two values of about 5,800 bytes.
 */
export const LCS_MAX_TABLE_BYTES = 128 * 1024 * 1024;

/** The reply to LCS of `a` and `b`; undefined when the table would pass LCS_MAX_TABLE_BYTES. */
export function lcs(a: Uint8Array, b: Uint8Array, o: LcsOptions): Reply | undefined {
  const alen = a.length;
  const blen = b.length;
  const width = blen + 1;
  if ((alen + 1) * width * 4 > LCS_MAX_TABLE_BYTES) return undefined;
  // table[i * width + j]: the LCS length of a[0..i) and b[0..j).
  const table = new Uint32Array((alen + 1) * width);
  for (let i = 1; i <= alen; i++) {
    const row = i * width;
    const above = row - width;
    const ai = a[i - 1];
    for (let j = 1; j <= blen; j++) {
      if (ai === b[j - 1]) table[row + j] = table[above + j - 1]! + 1;
      else {
        const up = table[above + j]!;
        const left = table[row + j - 1]!;
        table[row + j] = up > left ? up : left;
      }
    }
  }
  const length = table[alen * width + blen]!;
  if (o.len && !o.idx) return length;

  // Walk back from the end: the subsequence's bytes, and the ranges of contiguous matches (alen: none open).
  const result = Buffer.alloc(length);
  const ranges: Reply[] = [];
  let k = length;
  let aStart = alen;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[k - 1] = a[i - 1]!;
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--; // the range extends backwards
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true; // a match at the first byte of either: the walk ends
      k--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (o.idx && (o.minMatchLen === 0 || matchLen >= o.minMatchLen)) {
        const range: Reply[] = [[aStart, aEnd], [bStart, bEnd]];
        if (o.withMatchLen) range.push(matchLen);
        ranges.push(range);
      }
      aStart = alen;
    }
  }
  if (o.idx) return new MapReply([['matches', ranges], ['len', length]]);
  return result;
}
