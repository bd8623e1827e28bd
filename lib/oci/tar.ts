/**
 * A small tar writer for archives kiln composes itself from a few known entries (an OCI image layout, a
 * containerDisk's layer): directories and regular files, in the order given, with the owner, mode and time
 * the caller sets (nothing read from the host), so the bytes depend on the content alone. POSIX ustar
 * headers; a pax extended header carries what ustar cannot hold (names over 100 bytes, sizes of 8 GiB and
 * more). Trees of the host are archived by GNU tar (lib/output/formats/tar.ts), not here.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';

export interface TarEntry {
  /** Path inside the archive, relative, '/'-separated; a directory's is written with a trailing '/'. */
  readonly name: string;
  readonly type: 'dir' | 'file';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since 1970. */
  readonly mtime: number;
  /** A file's content: a path on the host (streamed) or the bytes. */
  readonly source?: string | Buffer;
}

const BLOCK = 512;
/** The largest size an 11-digit octal ustar field holds. */
const MAX_OCTAL = 0o77777777777;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One header block; the checksum is computed over it with the checksum field as spaces (POSIX). */
function ustarBlock(f: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, 'utf8');
  b.write(octal(f.mode, 8), 100, 'latin1');
  b.write(octal(f.uid, 8), 108, 'latin1');
  b.write(octal(f.gid, 8), 116, 'latin1');
  b.write(octal(Math.min(f.size, MAX_OCTAL), 12), 124, 'latin1');
  b.write(octal(f.mtime, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(f.typeflag, 156, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** A pax record `LEN key=value\n`, LEN counting the whole record in bytes. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block(s) of an entry of `size` bytes: a pax header first when ustar cannot hold it. */
export function tarHeader(e: TarEntry, size: number): Buffer {
  const name = e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  const records: string[] = [];
  const longName = Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name);
  if (longName) records.push(paxRecord('path', name));
  if (size > MAX_OCTAL) records.push(paxRecord('size', String(size)));
  const own = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
  const main = ustarBlock({ ...own, name: longName ? name.replace(/[^\x20-\x7e]/g, '_').slice(0, 99) : name, size, typeflag: e.type === 'dir' ? '5' : '0' });
  if (records.length === 0) return main;
  const pax = Buffer.from(records.join(''), 'utf8');
  return Buffer.concat([ustarBlock({ ...own, name: 'PaxHeaders/entry', mode: 0o644, size: pax.length, typeflag: 'x' }), pax, padding(pax.length), main]);
}

function sizeOf(e: TarEntry): number {
  if (e.type === 'dir' || e.source === undefined) return 0;
  return typeof e.source === 'string' ? fs.statSync(e.source).size : e.source.length;
}

async function* tarChunks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const size = sizeOf(e);
    yield tarHeader(e, size);
    if (e.type === 'dir' || e.source === undefined) continue;
    if (typeof e.source !== 'string') yield e.source;
    else {
      let read = 0;
      for await (const chunk of fs.createReadStream(e.source, { highWaterMark: 1 << 20 })) {
        read += (chunk as Buffer).length;
        if (read > size) throw new Error(`${e.source} grew while it was archived`);
        yield chunk as Buffer;
      }
      if (read !== size) throw new Error(`${e.source} shrank while it was archived (${read} of ${size} bytes)`);
    }
    yield padding(size);
  }
  // The end of an archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

/** The archive of `entries`, in their order, as a stream. */
export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(tarChunks(entries), { objectMode: false });
}
