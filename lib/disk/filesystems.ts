/**
 * Filesystems written straight into the disk file at their partition's offset: no loop device,
 * no mount, no second copy. ext4 with `mkfs.ext4 -d TREE -E offset=`; the ESP with
 * `mkfs.vfat --offset` and filled with mtools (`-i disk@@offset`), since vfat cannot be mounted here.
 */
import path from 'node:path';
import { run } from '../exec/index.js';
import { clampExt4Times } from './ext4-times.js';
import { SECTOR, type Partition } from './layout.js';

export interface Ext4Options {
  readonly disk: string;
  readonly tree: string;
  readonly part: Partition;
  readonly label: string;
  readonly uuid: string;
  /** SOURCE_DATE_EPOCH: the superblock's times, and every inode's access, change and creation time (ext4-times.ts). */
  readonly epoch?: number;
}

export function mkfsExt4Args(o: Ext4Options): string[] {
  const offset = o.part.startSector * SECTOR;
  const kib = Math.floor((o.part.sizeSectors * SECTOR) / 4096) * 4;
  return [
    '-F', '-q', '-t', 'ext4', '-b', '4096',
    '-L', o.label, '-U', o.uuid,
    // nodiscard: discarding a regular file punches holes, which must never reach outside the partition.
    '-E', `offset=${offset},nodiscard,hash_seed=${o.uuid}`,
    '-d', o.tree,
    o.disk, `${kib}k`,
  ];
}

/**
 * mke2fs's environment: the C locale, so it lays out each directory's entries in byte order (it sorts them
 * with the locale's collation), and the epoch as its clock (E2FSPROGS_FAKE_TIME: superblock and new inodes).
 */
export function mkfsExt4Env(epoch: number | undefined): Record<string, string | undefined> {
  const { SOURCE_DATE_EPOCH: _sde, E2FSPROGS_FAKE_TIME: _fake, ...env } = process.env;
  return { ...env, LC_ALL: 'C', ...(epoch === undefined ? {} : { E2FSPROGS_FAKE_TIME: String(epoch) }) };
}

export async function makeExt4(o: Ext4Options): Promise<void> {
  await run('mkfs.ext4', mkfsExt4Args(o), { label: 'mkfs.ext4 (root filesystem)', env: mkfsExt4Env(o.epoch) });
  if (o.epoch !== undefined) clampExt4Times(o.disk, o.part.startSector * SECTOR, o.epoch);
}

export interface EspOptions {
  readonly disk: string;
  readonly part: Partition;
  /** 8 hex digits; shown as XXXX-XXXX in /dev/disk/by-uuid and fstab. */
  readonly volumeId: string;
  /** SOURCE_DATE_EPOCH: the time of every directory and file written into the ESP. */
  readonly epoch?: number;
}

/** FAT32 with one sector per cluster (so a 128 MiB ESP has enough clusters to be FAT32). */
export function mkfsVfatArgs(o: EspOptions): string[] {
  const kib = (o.part.sizeSectors * SECTOR) / 1024;
  // --invariant: fixed times in the boot sector and volume label instead of the clock's. It also sets the
  // volume id to a constant (1234-ABCD), so it must come before -i, which sets ours.
  return [...(o.epoch === undefined ? [] : ['--invariant']), '-F', '32', '-S', '512', '-s', '1', '-n', 'EFI', '-i', o.volumeId, `--offset=${o.part.startSector}`, o.disk, String(kib)];
}

/** The mtools image argument for a partition of a disk file. */
export function mtoolsImage(disk: string, part: Partition): string {
  return `${disk}@@${part.startSector * SECTOR}`;
}

export function espUuidOf(volumeId: string): string {
  const v = volumeId.toUpperCase();
  return `${v.slice(0, 4)}-${v.slice(4, 8)}`;
}

/**
 * mtools refuses images whose size is not a whole number of "tracks" unless told not to check; its clock is the
 * epoch, and FAT records local time, so the zone is UTC (the builder's TZ would change the bytes).
 */
export function mtoolsEnv(epoch: number | undefined): Record<string, string | undefined> {
  const { SOURCE_DATE_EPOCH: _sde, ...env } = process.env;
  return { ...env, MTOOLS_SKIP_CHECK: '1', TZ: 'UTC', LC_ALL: 'C', ...(epoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(epoch) }) };
}

/** Makes the ESP and copies files into it: `files` maps ESP paths (e.g. EFI/BOOT/BOOTX64.EFI) to host files. */
export async function makeEsp(o: EspOptions, files: ReadonlyMap<string, string>): Promise<void> {
  await run('mkfs.vfat', mkfsVfatArgs(o), { label: 'mkfs.vfat (EFI system partition)', env: mtoolsEnv(o.epoch) });
  const image = mtoolsImage(o.disk, o.part);
  const dirs = new Set<string>();
  for (const dest of files.keys()) {
    let d = path.posix.dirname(dest);
    while (d !== '.' && d !== '/') {
      dirs.add(d);
      d = path.posix.dirname(d);
    }
  }
  const sorted = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  const env = mtoolsEnv(o.epoch);
  if (sorted.length > 0) await run('mmd', ['-i', image, ...sorted.map((d) => `::/${d}`)], { env, label: 'mmd (ESP)' });
  for (const [dest, src] of files) await run('mcopy', ['-i', image, src, `::/${dest}`], { env, label: 'mcopy (ESP)' });
}
