/**
 * The initramfs's device nodes without mknod: a rootless build (a user namespace, where mknod is refused)
 * stages an empty regular file in each node's place, and the newc archive's header of that entry is then
 * rewritten into a character device (mode and rdev). GNU cpio --reproducible writes no other difference
 * between the two (size 0, one link, renumbered inode, no device number of the filesystem), so the archive
 * is the same bytes a root build makes with real nodes. Entries that already are devices are left alone.
 */
import fs from 'node:fs';

export interface DeviceNode {
  /** Path as in the archive, without a leading "./" (e.g. dev/console). */
  readonly name: string;
  readonly mode: number;
  readonly major: number;
  readonly minor: number;
}

/** What the initramfs's /init needs before it mounts devtmpfs: the console, and /dev/null. */
export const RAMDISK_DEVICES: readonly DeviceNode[] = [
  { name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { name: 'dev/null', mode: 0o666, major: 1, minor: 3 },
];

const MAGIC = '070701';
const HEADER = 110; // magic + 13 fields of 8 hex digits
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const align4 = (n: number) => (n + 3) & ~3;
const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** Field i (0 = c_ino … 12 = c_check) of the header at `at`. */
const field = (buf: Buffer, at: number, i: number) => parseInt(buf.toString('latin1', at + 6 + 8 * i, at + 14 + 8 * i), 16);
const setField = (buf: Buffer, at: number, i: number, v: number) => buf.write(hex8(v), at + 6 + 8 * i, 'latin1');

/**
 * Rewrites, in a newc archive held in memory, every empty regular file named as one of `devices` into that
 * device; returns the names rewritten. A malformed archive throws.
 */
export function patchDeviceEntries(buf: Buffer, devices: readonly DeviceNode[]): string[] {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const done: string[] = [];
  let at = 0;
  for (;;) {
    if (buf.toString('latin1', at, at + 6) !== MAGIC) throw new Error(`not a newc cpio entry at byte ${at}`);
    const nameSize = field(buf, at, 11);
    const fileSize = field(buf, at, 6);
    const name = buf.toString('utf8', at + HEADER, at + HEADER + nameSize - 1);
    if (name === 'TRAILER!!!') return done;
    const dev = byName.get(name.replace(/^\.\//, ''));
    const mode = field(buf, at, 1);
    if (dev && fileSize === 0 && (mode & S_IFMT) === S_IFREG) {
      setField(buf, at, 1, S_IFCHR | dev.mode);
      setField(buf, at, 9, dev.major);
      setField(buf, at, 10, dev.minor);
      done.push(dev.name);
    }
    at = align4(align4(at + HEADER + nameSize) + fileSize);
  }
}

/** The same, on an archive file, rewritten in place. */
export function patchDeviceFile(file: string, devices: readonly DeviceNode[]): string[] {
  const buf = fs.readFileSync(file);
  const done = patchDeviceEntries(buf, devices);
  if (done.length > 0) fs.writeFileSync(file, buf);
  return done;
}
