/**
 * Filesystems written straight into the disk file at their partition's offset: no loop device,
 * no mount, no second copy. ext4 with `mkfs.ext4 -d TREE -E offset=`; the ESP with
 * `mkfs.vfat --offset` and filled with mtools (`-i disk@@offset`), since vfat cannot be mounted here.
 */
import path from 'node:path';
import { run } from '../exec/index.js';
import { SECTOR, type Partition } from './layout.js';

export interface Ext4Options {
  readonly disk: string;
  readonly tree: string;
  readonly part: Partition;
  readonly label: string;
  readonly uuid: string;
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

export async function makeExt4(o: Ext4Options): Promise<void> {
  await run('mkfs.ext4', mkfsExt4Args(o), { label: 'mkfs.ext4 (root filesystem)' });
}

export interface EspOptions {
  readonly disk: string;
  readonly part: Partition;
  /** 8 hex digits; shown as XXXX-XXXX in /dev/disk/by-uuid and fstab. */
  readonly volumeId: string;
}

/** FAT32 with one sector per cluster (so a 128 MiB ESP has enough clusters to be FAT32). */
export function mkfsVfatArgs(o: EspOptions): string[] {
  const kib = (o.part.sizeSectors * SECTOR) / 1024;
  return ['-F', '32', '-S', '512', '-s', '1', '-n', 'EFI', '-i', o.volumeId, `--offset=${o.part.startSector}`, o.disk, String(kib)];
}

/** The mtools image argument for a partition of a disk file. */
export function mtoolsImage(disk: string, part: Partition): string {
  return `${disk}@@${part.startSector * SECTOR}`;
}

export function espUuidOf(volumeId: string): string {
  const v = volumeId.toUpperCase();
  return `${v.slice(0, 4)}-${v.slice(4, 8)}`;
}

/** mtools refuses images whose size is not a whole number of "tracks" unless told not to check. */
function mtoolsEnv(): Record<string, string | undefined> {
  return { ...process.env, MTOOLS_SKIP_CHECK: '1' };
}

/** Makes the ESP and copies files into it: `files` maps ESP paths (e.g. EFI/BOOT/BOOTX64.EFI) to host files. */
export async function makeEsp(o: EspOptions, files: ReadonlyMap<string, string>): Promise<void> {
  await run('mkfs.vfat', mkfsVfatArgs(o), { label: 'mkfs.vfat (EFI system partition)' });
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
  if (sorted.length > 0) await run('mmd', ['-i', image, ...sorted.map((d) => `::/${d}`)], { env: mtoolsEnv(), label: 'mmd (ESP)' });
  for (const [dest, src] of files) await run('mcopy', ['-i', image, src, `::/${dest}`], { env: mtoolsEnv(), label: 'mcopy (ESP)' });
}
