/**
 * What a disk image file is, read from its own bytes before any tool opens it: its format (never its name,
 * never qemu's probing) and every other file its header names. A qcow2 with a backing file or an external
 * data file, a VMDK descriptor's extents or parent, a VHD differencing disk's parent: qemu-img and QEMU
 * open whatever host file those name, on the image's say-so (the attack behind OpenStack's advisories on
 * image handling; Glance and Nova inspect images before use). kiln reads only self-contained images, and
 * always tells qemu the format found here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DISK_FORMATS, type DiskFormat } from '../boot/types.js';
import { invalid } from '../errors/index.js';

/** Formats qemu reads that kiln does not (refused by name rather than read as raw). */
export type OtherFormat = 'qcow' | 'qed' | 'vhdx' | 'vdi' | 'vmdk3' | 'luks' | 'parallels' | 'dmg';

export interface ImageFileHeader {
  readonly format: DiskFormat | OtherFormat;
  /** The other files the header refers to, each described ('backing file "/x"'); empty when self-contained. */
  readonly references: readonly string[];
  /** The backing file (qcow2, QED) or parent (VMDK) among them: its name as written, and its description there. */
  readonly backing?: { readonly name: string; readonly reference: string };
  /** The file's size in bytes. */
  readonly bytes: number;
}

const HEAD = 64 * 1024;

/** Reads the file's headers (a few KiB from its start and end) and describes it; never follows a reference. */
export function inspectImageFile(file: string): ImageFileHeader {
  const fd = fs.openSync(file, 'r');
  try {
    const st = fs.fstatSync(fd);
    const bytes = st.isBlockDevice() ? blockDeviceBytes(st.rdev) : st.size;
    const read = (offset: number, length: number): Buffer => {
      if (offset < 0 || offset >= bytes || length <= 0) return Buffer.alloc(0);
      const buf = Buffer.alloc(Math.min(length, bytes - offset));
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    };
    return { ...classify(read(0, HEAD), read, bytes), bytes };
  } finally {
    fs.closeSync(fd);
  }
}

type Reader = (offset: number, length: number) => Buffer;

type Header = Omit<ImageFileHeader, 'bytes'>;

function classify(head: Buffer, read: Reader, bytes: number): Header {
  const ascii = (at: number, s: string) => head.length >= at + s.length && head.toString('latin1', at, at + s.length) === s;
  if (ascii(0, 'QFI\xfb')) return qcow(head, read);
  if (ascii(0, 'KDMV')) return vmdkSparse(head, read);
  if (ascii(0, 'COWD')) return { format: 'vmdk3', references: [] };
  if (ascii(0, 'conectix')) return vhd(head, read);
  if (ascii(0, 'QED\0')) return qed(head, read);
  if (ascii(0, 'vhdxfile')) return { format: 'vhdx', references: [] };
  if (ascii(0, 'LUKS\xba\xbe')) return { format: 'luks', references: [] };
  if (ascii(0, 'WithoutFreeSpace') || ascii(0, 'WithouFreSpacExt')) return { format: 'parallels', references: [] };
  if (head.length >= 68 && head.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi', references: [] };
  if (isVmdkDescriptor(head)) return { format: 'vmdk', references: descriptorReferences(head.toString('latin1'), true) };
  const tail = read(bytes - 512, 512);
  if (tail.toString('latin1', 0, 8) === 'conectix') return { format: 'vpc', references: [] }; // a fixed VHD: raw data and a footer
  if (tail.toString('latin1', 0, 4) === 'koly') return { format: 'dmg', references: [] };
  return { format: 'raw', references: [] };
}

const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;
const QCOW2_EXT_DATA_FILE = 0x44415441;

function qcow(head: Buffer, read: Reader): Header {
  // Too short to name anything: qemu-img refuses it itself (and says why).
  if (head.length < 72) return { format: 'qcow2', references: [] };
  const version = head.readUInt32BE(4);
  const refs: string[] = [];
  const backingOffset = head.readBigUInt64BE(8);
  const backingSize = head.readUInt32BE(16);
  let backing: Header['backing'];
  if (backingOffset !== 0n) {
    const name = read(Number(backingOffset), Math.min(backingSize, 4096)).toString('utf8');
    backing = { name, reference: `backing file "${name}"` };
    refs.push(backing.reference);
  }
  if (version === 1) return { format: 'qcow', references: refs };
  if (version >= 3 && head.length >= 104) {
    const dataFile = (head.readBigUInt64BE(72) & QCOW2_INCOMPAT_DATA_FILE) !== 0n;
    const name = extension(head, head.readUInt32BE(100), QCOW2_EXT_DATA_FILE);
    if (dataFile || name !== undefined) refs.push(`external data file ${name === undefined ? '(named by the caller)' : `"${name}"`}`);
  }
  return { format: 'qcow2', references: refs, ...(backing ? { backing } : {}) };
}

/** The data of a qcow2 header extension of `type`, read from the header's first bytes. */
function extension(head: Buffer, start: number, type: number): string | undefined {
  let at = start;
  while (at + 8 <= head.length) {
    const t = head.readUInt32BE(at);
    const len = head.readUInt32BE(at + 4);
    if (t === 0) return undefined;
    if (t === type) return head.toString('utf8', at + 8, Math.min(head.length, at + 8 + len));
    at += 8 + Math.ceil(len / 8) * 8;
  }
  return undefined;
}

function vmdkSparse(head: Buffer, read: Reader): Header {
  if (head.length < 44) return { format: 'vmdk', references: [] };
  const capacity = head.readBigUInt64LE(12);
  const descOffset = Number(head.readBigUInt64LE(28));
  const descSize = Number(head.readBigUInt64LE(36));
  const text = descOffset > 0 ? read(descOffset * 512, Math.min(descSize * 512, 1 << 20)).toString('latin1').replace(/\0.*$/s, '') : '';
  // qemu looks for the parent in the 10 KiB at 0x200 whatever the header says, anywhere in the text.
  const parentArea = `${read(0x200, 20 * 512).toString('latin1')}\n${text}`;
  // A sparse extent with capacity 0 is a descriptor in disguise: qemu opens the extents it lists.
  const references = descriptorReferences(text, capacity === 0n, parentArea);
  const parent = parentName(parentArea);
  return { format: 'vmdk', references, ...(parent ? { backing: { name: parent, reference: `parent "${parent}"` } } : {}) };
}

/** qemu's test for a text VMDK descriptor: comment and blank lines, then version=N. */
function isVmdkDescriptor(head: Buffer): boolean {
  for (const line of head.toString('latin1', 0, Math.min(head.length, 4096)).split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.startsWith('#') || l.trim() === '') continue;
    return /^version=[123]$/.test(l);
  }
  return false;
}

/** The name in a VMDK descriptor's parentFileNameHint="…", if written that way. */
function parentName(text: string): string | undefined {
  return /parentFileNameHint\s*=\s*"([^"]*)"/.exec(text)?.[1];
}

/** The parent (named anywhere in `parentArea`, as qemu finds it) and, when they are opened, the extents a VMDK descriptor names. */
function descriptorReferences(text: string, extentsOpened: boolean, parentArea = text): string[] {
  const refs: string[] = [];
  if (parentArea.includes('parentFileNameHint')) refs.push(`parent "${parentName(parentArea) ?? '(unreadable)'}"`);
  if (extentsOpened) {
    const extents = [...text.matchAll(/^(?:RW|RDONLY|NOACCESS)\s+\d+\s+\w+\s+"([^"]*)"/gm)].map((m) => `extent "${m[1] as string}"`);
    refs.push(...(extents.length > 0 ? extents : ['a VMDK descriptor (its disk is in other files)']));
  }
  return refs;
}

/** QED (little-endian): features bit 0 means a backing file, named at the offset and size in the header. */
function qed(head: Buffer, read: Reader): Header {
  if (head.length < 64) return { format: 'qed', references: [] };
  if ((head.readBigUInt64LE(16) & 1n) === 0n) return { format: 'qed', references: [] };
  const name = read(head.readUInt32LE(56), Math.min(head.readUInt32LE(60), 4096)).toString('utf8');
  return { format: 'qed', references: [`backing file "${name}"`], backing: { name, reference: `backing file "${name}"` } };
}

/** A block device's size, from sysfs (fstat gives 0). */
function blockDeviceBytes(rdev: number): number {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);
  try {
    return Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * 512;
  } catch {
    return 0;
  }
}

const VHD_DIFFERENCING = 4;

function vhd(head: Buffer, read: Reader): Header {
  if (head.length < 64 || head.readUInt32BE(60) !== VHD_DIFFERENCING) return { format: 'vpc', references: [] };
  // The dynamic header (at the footer's data offset) holds the parent's name, UTF-16 big-endian.
  const dyn = read(Number(head.readBigUInt64BE(16)), 1024);
  const raw = dyn.length >= 64 + 512 ? Buffer.from(dyn.subarray(64, 64 + 512)).swap16().toString('utf16le').replace(/\0.*$/s, '') : '';
  return { format: 'vpc', references: [`parent ${raw ? `"${raw}"` : '(a differencing disk)'}`] };
}

/**
 * The format of a disk image kiln may hand to qemu-img or QEMU: one it reads, referring to no other file.
 * Anything else is bad input (exit 2) naming the file and what it refers to; nothing has read it but this.
 * With `allowBacking` (`kiln boot --allow-backing-file`: an overlay of an image the user trusts), a backing
 * file is accepted when it exists and is itself such an image (checked down the chain); any other
 * reference (a data file, extents) still is not.
 */
export function selfContainedDisk(file: string, what: string, opts: { allowBacking?: boolean } = {}, depth = 0): { format: DiskFormat; bytes: number } {
  let h: ImageFileHeader;
  try {
    h = inspectImageFile(file);
  } catch (e) {
    throw invalid(`${what} "${file}" cannot be read: ${(e as Error).message}`);
  }
  if (opts.allowBacking && h.backing !== undefined) {
    const backing = path.resolve(path.dirname(file), h.backing.name);
    if (depth >= 16) throw invalid(`${what} "${file}": its chain of backing files is longer than 16`);
    if (!fs.existsSync(backing)) throw invalid(`${what} "${file}": its backing file "${backing}" does not exist`);
    selfContainedDisk(backing, `the backing file of "${file}"`, opts, depth + 1);
    h = { ...h, references: h.references.filter((r) => r !== h.backing?.reference) };
  }
  if (h.references.length > 0) {
    throw invalid(
      `${what} "${file}" (${h.format}) refers to other files: ${h.references.join(', ')}; kiln reads only self-contained images`,
      'flatten it where those files are trusted (qemu-img convert -O qcow2 IMAGE FLAT.qcow2) and give kiln the flat copy',
    );
  }
  const format = DISK_FORMATS.find((f) => f === h.format);
  if (!format) throw invalid(`${what} "${file}" is a ${h.format} image (kiln reads ${DISK_FORMATS.join(', ')})`, `convert it first: qemu-img convert -f ${h.format} -O qcow2 IMAGE IMAGE.qcow2`);
  return { format, bytes: h.bytes };
}
