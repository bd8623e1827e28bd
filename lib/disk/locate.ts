/**
 * What a byte of a disk image belongs to, for --verify's report: the partition table, a partition, and in an
 * ext4 partition the file whose content or inode holds it (debugfs icheck/ncheck on the image, read-only).
 */
import fs from 'node:fs';
import { run } from '../exec/index.js';
import { inodeAt, parseSuperblock, readExt4Layout } from './ext4-times.js';

interface TablePartition {
  readonly node: string;
  readonly start: number;
  readonly size: number;
}

/** A description of byte `offset` of the raw disk `raw`, e.g. `partition 1 (ext4): content of /etc/fstab`. */
export async function describeDiskOffset(raw: string, offset: number): Promise<string> {
  const r = await run('sfdisk', ['--json', raw], { allowFailure: true, label: 'sfdisk --json' });
  if (r.exitCode !== 0) return 'no partition table';
  const table = (JSON.parse(r.stdout) as { partitiontable: { sectorsize?: number; partitions?: TablePartition[] } }).partitiontable;
  const sector = table.sectorsize ?? 512;
  const parts = table.partitions ?? [];
  const index = parts.findIndex((p) => offset >= p.start * sector && offset < (p.start + p.size) * sector);
  const part = parts[index];
  if (!part) return offset < sector ? 'the boot sector / partition table' : 'outside every partition (partition table, boot loader area)';
  const start = part.start * sector;
  const name = `partition ${index + 1}`;
  const sb = Buffer.alloc(1024);
  const fd = fs.openSync(raw, 'r');
  let layout: ReturnType<typeof readExt4Layout>;
  try {
    fs.readSync(fd, sb, 0, sb.length, start + 1024);
    try {
      parseSuperblock(sb);
    } catch {
      return `${name} (not ext4), byte ${offset - start} of it`;
    }
    layout = readExt4Layout(fd, start);
  } finally {
    fs.closeSync(fd);
  }
  const at = offset - start;
  const image = `${raw}?offset=${start}`;
  const debugfs = async (request: string) => (await run('debugfs', ['-R', request, image], { allowFailure: true, label: 'debugfs' })).stdout;
  const pathOf = async (inode: number) => /^\d+\t(.+)$/m.exec(await debugfs(`ncheck ${inode}`))?.[1] ?? `inode ${inode} (no path)`;
  const inode = inodeAt(layout.geo, layout.tables, at);
  if (inode !== undefined) return `${name} (ext4): the inode of ${await pathOf(inode)}`;
  const block = Math.floor(at / layout.geo.blockSize);
  const owner = /^\d+\t(\d+)$/m.exec(await debugfs(`icheck ${block}`))?.[1];
  if (owner !== undefined) return `${name} (ext4): content of ${await pathOf(Number(owner))}`;
  return `${name} (ext4): block ${block}, filesystem metadata`;
}
