/**
 * mke2fs -d copies each inode's atime and ctime from the tree it reads, and a tree's ctimes are the time
 * of the build (no call can set them), so two builds of the same tree differ there. This rewrites the
 * access, change and creation times of every inode in use to the build's epoch (SOURCE_DATE_EPOCH) and
 * recomputes the inode checksums (metadata_csum), directly in the image: modification times, which the
 * tree already carries clamped, are left as they are. e2fsprogs 1.47.1 clamps by itself; Debian 12 has 1.47.0.
 */
import fs from 'node:fs';

const SUPERBLOCK = 1024;
const EXT4_MAGIC = 0xef53;
const RO_COMPAT_METADATA_CSUM = 0x400;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_CSUM_SEED = 0x2000;
const BG_INODE_UNINIT = 0x1;
const GOOD_OLD_INODE_SIZE = 128;

/** CRC-32C (Castagnoli), reflected, without the final inversion: ext4's crc32c_le. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32cLe(crc: number, buf: Uint8Array): number {
  let c = crc >>> 0;
  for (let i = 0; i < buf.length; i++) c = (CRC32C_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return c >>> 0;
}

export interface Ext4Geometry {
  readonly blockSize: number;
  readonly inodeSize: number;
  readonly inodesPerGroup: number;
  readonly groups: number;
  readonly descSize: number;
  readonly firstDataBlock: number;
  readonly metadataCsum: boolean;
  /** ext4's checksum seed (crc32c of the filesystem UUID unless the superblock carries one). */
  readonly csumSeed: number;
}

/** Reads what the inode walk needs from a superblock (the 1024 bytes at offset 1024 of the filesystem). */
export function parseSuperblock(sb: Buffer): Ext4Geometry {
  if (sb.readUInt16LE(56) !== EXT4_MAGIC) throw new Error('not an ext2/3/4 filesystem (bad superblock magic)');
  const blockSize = 1024 << sb.readUInt32LE(24);
  const incompat = sb.readUInt32LE(96);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const blocksCount = sb.readUInt32LE(4) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const firstDataBlock = sb.readUInt32LE(20);
  const blocksPerGroup = sb.readUInt32LE(32);
  const revLevel = sb.readUInt32LE(76);
  const metadataCsum = (sb.readUInt32LE(100) & RO_COMPAT_METADATA_CSUM) !== 0;
  const csumSeed = (incompat & INCOMPAT_CSUM_SEED) !== 0 ? sb.readUInt32LE(0x270) : crc32cLe(0xffffffff, sb.subarray(104, 120));
  return {
    blockSize,
    inodeSize: revLevel === 0 ? GOOD_OLD_INODE_SIZE : sb.readUInt16LE(88),
    inodesPerGroup: sb.readUInt32LE(40),
    groups: Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup),
    descSize: is64 ? sb.readUInt16LE(254) || 32 : 32,
    firstDataBlock,
    metadataCsum,
    csumSeed,
  };
}

/**
 * Sets i_atime, i_ctime and i_crtime (and their extra nanosecond/epoch words) of an in-use inode to `seconds`,
 * and its checksum; returns whether anything changed. `inode` is one inode's bytes (the inode size), `inum` its number.
 */
export function clampInodeTimes(inode: Buffer, inum: number, seconds: number, geo: Pick<Ext4Geometry, 'metadataCsum' | 'csumSeed'>): boolean {
  if (inode.readUInt16LE(0) === 0 && inode.readUInt16LE(0x1a) === 0) return false;
  const before = Buffer.from(inode);
  inode.writeUInt32LE(seconds, 0x08);
  inode.writeUInt32LE(seconds, 0x0c);
  const extra = inode.length > GOOD_OLD_INODE_SIZE ? inode.readUInt16LE(0x80) : 0;
  const has = (end: number) => GOOD_OLD_INODE_SIZE + extra >= end;
  if (has(0x88)) inode.writeUInt32LE(0, 0x84); // i_ctime_extra
  if (has(0x90)) inode.writeUInt32LE(0, 0x8c); // i_atime_extra
  if (has(0x94)) inode.writeUInt32LE(seconds, 0x90); // i_crtime
  if (has(0x98)) inode.writeUInt32LE(0, 0x94); // i_crtime_extra
  if (geo.metadataCsum) writeInodeChecksum(inode, inum, geo.csumSeed, has(0x84));
  return !before.equals(inode);
}

function writeInodeChecksum(inode: Buffer, inum: number, seed: number, hasHi: boolean): void {
  inode.writeUInt16LE(0, 0x7c);
  if (hasHi) inode.writeUInt16LE(0, 0x82);
  const le = Buffer.alloc(4);
  le.writeUInt32LE(inum >>> 0);
  let crc = crc32cLe(seed, le);
  le.writeUInt32LE(inode.readUInt32LE(0x64));
  crc = crc32cLe(crc, le);
  crc = crc32cLe(crc, inode);
  inode.writeUInt16LE(crc & 0xffff, 0x7c);
  if (hasHi) inode.writeUInt16LE(crc >>> 16, 0x82);
}

export interface InodeTable {
  readonly group: number;
  /** First block of the group's inode table. */
  readonly block: number;
  /** Inodes of the group in use (initialised), from the first. */
  readonly used: number;
}

/** The geometry and the inode tables of the ext4 filesystem at byte `offset` of an open file. */
export function readExt4Layout(fd: number, offset: number): { geo: Ext4Geometry; tables: InodeTable[] } {
  const sb = Buffer.alloc(1024);
  fs.readSync(fd, sb, 0, sb.length, offset + SUPERBLOCK);
  const geo = parseSuperblock(sb);
  const gdt = Buffer.alloc(geo.groups * geo.descSize);
  fs.readSync(fd, gdt, 0, gdt.length, offset + (geo.firstDataBlock + 1) * geo.blockSize);
  const tables: InodeTable[] = [];
  for (let g = 0; g < geo.groups; g++) {
    const d = gdt.subarray(g * geo.descSize, (g + 1) * geo.descSize);
    const block = d.readUInt32LE(0x08) + (geo.descSize >= 64 ? d.readUInt32LE(0x28) * 2 ** 32 : 0);
    const unused = d.readUInt16LE(0x1c) + (geo.descSize >= 64 ? d.readUInt16LE(0x32) * 65536 : 0);
    const used = d.readUInt16LE(0x12) & BG_INODE_UNINIT ? 0 : Math.max(0, geo.inodesPerGroup - unused);
    tables.push({ group: g, block, used });
  }
  return { geo, tables };
}

/** Clamps the inode times of the ext4 filesystem at byte `offset` of `file` (see above); returns how many inodes changed. */
export function clampExt4Times(file: string, offset: number, seconds: number): number {
  const fd = fs.openSync(file, 'r+');
  try {
    const { geo, tables } = readExt4Layout(fd, offset);
    let changed = 0;
    for (const t of tables) {
      if (t.used === 0) continue;
      const buf = Buffer.alloc(t.used * geo.inodeSize);
      const at = offset + t.block * geo.blockSize;
      fs.readSync(fd, buf, 0, buf.length, at);
      let dirty = false;
      for (let i = 0; i < t.used; i++) {
        const inode = buf.subarray(i * geo.inodeSize, (i + 1) * geo.inodeSize);
        if (clampInodeTimes(inode, t.group * geo.inodesPerGroup + i + 1, seconds, geo)) {
          changed++;
          dirty = true;
        }
      }
      if (dirty) fs.writeSync(fd, buf, 0, buf.length, at);
    }
    return changed;
  } finally {
    fs.closeSync(fd);
  }
}

/** The inode whose bytes hold byte `at` of the filesystem (in an inode table), or undefined. Pure. */
export function inodeAt(geo: Pick<Ext4Geometry, 'blockSize' | 'inodeSize' | 'inodesPerGroup'>, tables: readonly InodeTable[], at: number): number | undefined {
  for (const t of tables) {
    const start = t.block * geo.blockSize;
    const end = start + geo.inodesPerGroup * geo.inodeSize;
    if (at >= start && at < end) return t.group * geo.inodesPerGroup + Math.floor((at - start) / geo.inodeSize) + 1;
  }
  return undefined;
}
