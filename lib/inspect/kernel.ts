/**
 * disk-image-get-kernel: the newest kernel and its initrd, read out of a built image without mounting
 * it and without a loop device: qemu-img gives a raw view (a sparse temporary copy for qcow2, vhd,
 * vmdk), sfdisk reads the partition table, and debugfs reads each ext2/3/4 filesystem at its offset,
 * read-only. The image itself is only ever read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { detectDisk } from '../boot/image.js';
import { failed, invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import { writeAtomically } from '../output/atomic.js';
import { newestFirst } from '../ramdisk/modules.js';
import type { Scope } from '../scope/index.js';
import { scopedTempDir } from '../scope/temp.js';

export interface DirEntry {
  readonly name: string;
  readonly mode: number;
}

/** Parses `debugfs -R 'ls -p DIR'`: /inode/mode(octal)/uid/gid/name/size/ per line. */
export function parseDebugfsLs(text: string): DirEntry[] {
  const out: DirEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\/\d+\/([0-7]+)\/\d+\/\d+\/(.*)\/\d*\/$/.exec(line.trim());
    if (m && m[2] !== '.' && m[2] !== '..') out.push({ name: m[2] as string, mode: parseInt(m[1] as string, 8) });
  }
  return out;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export interface KernelPair {
  readonly version: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
}

/** The newest kernel in a /boot listing (regular files only) and the initrd that goes with it. */
export function pickKernel(entries: readonly DirEntry[]): KernelPair | undefined {
  const files = new Set(entries.filter((e) => (e.mode & S_IFMT) === S_IFREG).map((e) => e.name));
  const versions = [...files].flatMap((n) => {
    const m = /^(?:vmlinuz|vmlinux|bzImage)-(.+)$/.exec(n);
    return m ? [m[1] as string] : [];
  });
  const version = newestFirst(versions)[0];
  if (version === undefined) return undefined;
  const kernel = ['vmlinuz', 'vmlinux', 'bzImage'].map((k) => `${k}-${version}`).find((n) => files.has(n)) as string;
  const initrd = [`initrd.img-${version}`, `initramfs-${version}.img`, `initrd-${version}`, `initrd-${version}.img`].find((n) => files.has(n));
  return { version, kernel, initrd };
}

export interface PartitionExtent {
  /** The partition's number (the N of /dev/sdaN), from its node name. */
  readonly number: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * The partitions in `sfdisk --json` output, in bytes (sector size from the table). Given the disk, a
 * partition that does not fit inside it (an image's table is its author's word) is bad input naming it.
 */
export function partitionsOf(json: string, disk?: { readonly bytes: number; readonly what: string }): PartitionExtent[] {
  const t = (JSON.parse(json) as { partitiontable?: { sectorsize?: number; partitions?: { node?: string; start: number; size: number }[] } }).partitiontable;
  const sector = t?.sectorsize ?? 512;
  const parts = (t?.partitions ?? []).map((p, i) => ({ number: Number(/(\d+)$/.exec(p.node ?? '')?.[1] ?? i + 1), offset: p.start * sector, size: p.size * sector }));
  for (const p of disk ? parts : []) {
    if (!(p.size > 0) || p.offset + p.size > (disk?.bytes ?? 0)) {
      throw invalid(`${disk?.what}: partition ${p.number} (bytes ${p.offset} to ${p.offset + p.size}) does not fit in the disk (${disk?.bytes} bytes)`, 'the partition table is damaged or was not written for this disk');
    }
  }
  return parts;
}

/** Byte offsets of the partitions in `sfdisk --json` output (checked against the disk when given). */
export function partitionOffsets(json: string, disk?: { readonly bytes: number; readonly what: string }): number[] {
  return partitionsOf(json, disk).map((p) => p.offset);
}

/** "Filesystem UUID: …" from `debugfs -R stats`. */
export function parseFsUuid(stats: string): string | undefined {
  return /^Filesystem UUID:\s*([0-9a-f-]{36})\s*$/m.exec(stats)?.[1];
}

export interface ExtractedKernel {
  readonly version: string;
  readonly kernel: string;
  readonly initrd: string;
  /** The UUID of the filesystem that held them (usually the root: root=UUID=…). */
  readonly uuid: string | undefined;
  readonly partitionOffset: number;
}

const debugfs = (image: string, offset: number, request: string) =>
  run('debugfs', ['-R', request, `${image}?offset=${offset}`], { allowFailure: true, label: 'debugfs' });

export async function extractKernel(scope: Scope, image: string, dir: string, prefix: string): Promise<ExtractedKernel> {
  if (!fs.existsSync(image)) throw invalid(`image "${image}" does not exist`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`-d ${dir}: not a directory`);
  const disk = await detectDisk(image, 'image');
  let raw = image;
  if (disk.format !== 'raw') {
    const tmp = await scopedTempDir(scope, 'kiln-get-kernel', 'remove the temporary raw copy');
    raw = path.join(tmp, 'image.raw');
    await run('qemu-img', ['convert', '--force-share', '-f', disk.format, '-O', 'raw', image, raw], { label: `qemu-img convert ${image}` });
  }
  const table = await run('sfdisk', ['--json', raw], { allowFailure: true });
  const offsets = table.exitCode === 0 ? partitionOffsets(table.stdout, { bytes: fs.statSync(raw).size, what: `image "${image}"` }) : [];
  // A partition image (no table) is one filesystem at offset 0.
  for (const offset of offsets.length > 0 ? offsets : [0]) {
    for (const bootDir of ['/boot', '/']) {
      const ls = await debugfs(raw, offset, `ls -p ${bootDir}`);
      if (ls.exitCode !== 0 || /not found|Bad magic|Could not|no such/i.test(ls.stderr)) continue;
      const pair = pickKernel(parseDebugfsLs(ls.stdout));
      if (!pair) continue;
      if (!pair.initrd) throw invalid(`image "${image}": kernel ${pair.kernel} has no initrd beside it in ${bootDir}`);
      const uuid = parseFsUuid((await debugfs(raw, offset, 'stats')).stdout);
      const out = { kernel: path.join(dir, `${prefix}-vmlinuz`), initrd: path.join(dir, `${prefix}-initrd`) };
      for (const [name, dest] of [[pair.kernel, out.kernel], [pair.initrd, out.initrd]] as const) {
        const from = path.posix.join(bootDir, name);
        await writeAtomically(scope, dest, async (tmp) => {
          const r = await debugfs(raw, offset, `dump ${from} ${tmp}`);
          if (!fs.existsSync(tmp) || (r.stderr.match(/^dump: .*/m) ?? []).length > 0) throw failed(`debugfs could not read ${from} from "${image}": ${r.stderr.trim()}`);
        });
      }
      return { version: pair.version, ...out, uuid, partitionOffset: offset };
    }
  }
  throw invalid(`image "${image}" has no kernel: no /boot/vmlinuz-VERSION on any ext2/3/4 filesystem in it`, 'was it built with an operating-system flavour?');
}
