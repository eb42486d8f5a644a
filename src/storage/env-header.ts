// An LMDB file's two meta pages, checked before lmdb-js opens it. When LMDB refuses to open a file
// (MDB_INVALID, MDB_VERSION_MISMATCH, a short read), lmdb-js 3.5's failed-open path frees the environment's
// extension twice and the whole process dies with SIGSEGV: every node of the cluster and the application
// around it. So whatever LMDB's mdb_env_read_header would refuse is refused here first, with a reason:
// a file too short for two meta pages, a first page that is not a meta page, a wrong magic or version. Both
// meta pages are held to it (LMDB checks the first and picks the newer of the two, so a damaged second page
// would be trusted), with a page size LMDB can have. Only fields that never change after LMDB created the file
// are read, so the check cannot race a commit of another thread that has the environment open.
//
// What this does not see: LMDB has no checksums, so damage inside the tree's pages is not detected, by this
// or by LMDB (docs/storage.md, "Damaged files").

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** mdb.c's layout on 64-bit builds: the page header, then MDB_meta. */
const PAGE_HEADER = 24;
const FLAGS_AT = 18;
const P_META = 0x08;
const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const MAGIC_AT = PAGE_HEADER;
const VERSION_AT = PAGE_HEADER + 4;
/** mm_dbs[0] (the free-page tree) starts after mm_address and mm_mapsize; its md_pad is the page size. */
const PAGE_SIZE_AT = PAGE_HEADER + 24;
/** What LMDB reads of each meta page (sizeof(MDB_metabuf): the header, then 144 bytes): a shorter read is MDB_INVALID. */
const META_BYTES = PAGE_HEADER + 144;
const MIN_PAGE = 512;
const MAX_PAGE = 65536;

/**
 * Why LMDB would refuse the file at `path`, or could be misled by it; undefined when it is absent, empty (LMDB
 * creates it) or its meta pages are sound.
 */
export function envHeaderProblem(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const first = readMeta(fd, 0, size);
    if (typeof first === 'string') return `meta page 0: ${first}`;
    const pageSize = first.readUInt32LE(PAGE_SIZE_AT);
    if (pageSize < MIN_PAGE || pageSize > MAX_PAGE || (pageSize & (pageSize - 1)) !== 0) return `meta page 0: page size ${pageSize} is not a power of two from ${MIN_PAGE} to ${MAX_PAGE}`;
    const second = readMeta(fd, pageSize, size);
    if (typeof second === 'string') return `meta page 1: ${second}`;
    if (second.readUInt32LE(PAGE_SIZE_AT) !== pageSize) return `meta page 1: page size ${second.readUInt32LE(PAGE_SIZE_AT)}, meta page 0 says ${pageSize}`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** One meta page's bytes, or what is wrong with it. */
function readMeta(fd: number, at: number, size: number): Buffer | string {
  if (size < at + META_BYTES) return `the file ends at byte ${size}, before the page does (a truncated or partly written file)`;
  const b = Buffer.alloc(META_BYTES);
  readSync(fd, b, 0, META_BYTES, at);
  if ((b.readUInt16LE(FLAGS_AT) & P_META) === 0) return 'not a meta page (the file is not an LMDB environment, or its start was overwritten)';
  const magic = b.readUInt32LE(MAGIC_AT);
  if (magic !== MAGIC) return `magic 0x${magic.toString(16)}, LMDB writes 0x${MAGIC.toString(16)}`;
  const version = b.readUInt32LE(VERSION_AT) & 0xffff;
  if (version !== DATA_VERSION) return `LMDB data version ${version}, this LMDB reads ${DATA_VERSION}`;
  return b;
}
