/**
 * How big the disk must be. measureTree() walks the tree once (apparent bytes and entry count);
 * computeImageSize() is pure and turns that into a disk size with a documented margin.
 *
 * The root filesystem gets:   (apparent bytes + entries × 2 KiB) × 1.15 + 384 MiB
 *   - entries × 2 KiB: on average half a 4 KiB block of tail slack per file (plus its inode and
 *     directory entry), which apparent sizes do not show;
 *   - × 1.15: ext4 metadata (inode tables ≈ 1.6 % at one inode per 16 KiB), the 5 % reserved for
 *     root, and about 8 % free space so the first boot (logs, apt lists, host keys) has room;
 *   - + 384 MiB: the journal (32–64 MiB at these sizes), room for a kernel upgrade, and for a first `apt-get
 *     update` on a system whose root is not grown (kiln install --installed, a plain QEMU boot): trixie's lists
 *     and apt's two caches take about 200 MiB, which 128 MiB of margin did not leave. Free blocks cost nothing
 *     in a qcow2 (they are never written); diskimage-builder leaves more (the tree's du ÷ 0.6).
 * The layout adds its fixed overhead (1 MiB before the root partition; for EFI also the BIOS-boot
 * partition, the ESP and the backup GPT) and everything is rounded up to whole MiB. Cloud images
 * grow their root filesystem to the real disk on first boot, so a snug default costs nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { layoutOverheadBytes, type Layout } from './layout.js';

export const MiB = 1024 * 1024;

export interface TreeSize {
  /** Sum of apparent sizes (st_size) of every regular file and symlink. */
  readonly bytes: number;
  /** Number of directory entries (files, directories, links, nodes). */
  readonly entries: number;
}

export const SIZE_MARGIN = { slackPerEntry: 2048, factor: 1.15, fixed: 384 * MiB } as const;

export function roundUpMiB(bytes: number): number {
  return Math.ceil(bytes / MiB) * MiB;
}

/** Bytes the root filesystem needs for a tree of this size, with the margin above. */
export function computeRootSize(tree: TreeSize): number {
  const payload = tree.bytes + tree.entries * SIZE_MARGIN.slackPerEntry;
  return roundUpMiB(payload * SIZE_MARGIN.factor + SIZE_MARGIN.fixed);
}

/** The whole disk: root filesystem plus the layout's partitions and tables. */
export function computeImageSize(tree: TreeSize, layout: Layout): number {
  return computeRootSize(tree) + layoutOverheadBytes(layout);
}

/** Below this the tree cannot fit at all: its bytes and slack, the journal, and the layout. */
export function minimumImageSize(tree: TreeSize, layout: Layout): number {
  return roundUpMiB(tree.bytes + tree.entries * SIZE_MARGIN.slackPerEntry + 32 * MiB) + layoutOverheadBytes(layout);
}

/** Chooses the disk size: the explicit one (checked, rounded up to MiB) or the computed one. */
export function chooseImageSize(tree: TreeSize, layout: Layout, explicit: number | undefined): number {
  if (explicit === undefined) return computeImageSize(tree, layout);
  const min = minimumImageSize(tree, layout);
  if (!Number.isFinite(explicit) || explicit < min) {
    throw invalid(
      `image size ${formatMiB(explicit)} is smaller than the tree needs (at least ${formatMiB(min)})`,
      `omit the size to get ${formatMiB(computeImageSize(tree, layout))}, or give a larger IMAGE_SIZE / --image-size`,
    );
  }
  return roundUpMiB(explicit);
}

export function formatMiB(bytes: number): string {
  return bytes >= 1024 * MiB ? `${(bytes / (1024 * MiB)).toFixed(2)} GiB` : `${Math.ceil(bytes / MiB)} MiB`;
}

/** Walks the tree without following symlinks or crossing into other filesystems. */
export function measureTree(root: string): TreeSize {
  const rootDev = fs.lstatSync(root).dev;
  let bytes = 0;
  let entries = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      entries++;
      const p = path.join(dir, d.name);
      if (d.isDirectory()) {
        if (fs.lstatSync(p).dev === rootDev) stack.push(p);
      } else if (d.isFile() || d.isSymbolicLink()) {
        bytes += fs.lstatSync(p).size;
      }
    }
  }
  return { bytes, entries };
}
