/**
 * Turns a finished root tree into a bootable raw disk image, without loop devices or mounts:
 * size → boot files in the tree → GRUB images → partition table → filesystems written at their
 * offsets → GRUB embedded for BIOS. The tree must be a Debian-style tree with a kernel and initrd
 * in /boot and the tree's GRUB: grub-pc-bin (BIOS; required for 'mbr') and grub-efi-amd64-bin ('efi'), or for
 * arm64 (UEFI only, always 'efi', no BIOS pieces) grub-efi-arm64-bin, run through the tree's binfmt handler.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec/index.js';
import { contentHex, contentUuid } from '../output/content-id.js';
import { clampTree } from '../output/epoch.js';
import { failed, invalid } from '../errors/index.js';
import { mountsUnder } from '../mount/index.js';
import type { Scope } from '../scope/index.js';
import { patchBootSector, patchCoreImage } from './bios-embed.js';
import { findKernel, writeBootConfig, type Kernel } from './bootconfig.js';
import { espUuidOf, makeEsp, makeExt4 } from './filesystems.js';
import { copyGrubModules, makeGrubImage, readBootImg } from './grub.js';
import { partitionOf, planPartitions, renderSfdiskScript, SECTOR, type Layout, type Partition, type PartitionPlan } from './layout.js';
import { diskPlatform, layoutFor } from './platform.js';
import { chooseImageSize, measureTree, type TreeSize } from './size.js';
import { existsInTree, hostPath } from '../rootfs/paths.js';

export type { Layout, Partition, PartitionRole } from './layout.js';
export type { Kernel } from './bootconfig.js';
export { computeImageSize, minimumImageSize, measureTree, SIZE_MARGIN, type TreeSize } from './size.js';
export { isLayout, LAYOUTS } from './layout.js';
export { diskPlatform, layoutFor, DISK_ARCHES, type DiskArch, type DiskPlatform } from './platform.js';

export interface DiskOptions {
  /** The finished root tree; nothing may be mounted below it. Its /etc/fstab, /etc/default/grub and /boot/grub are rewritten. */
  readonly tree: string;
  /** Where the raw disk is written (the caller's scoped temporary directory). */
  readonly workDir: string;
  readonly layout: Layout;
  /** Debian architecture of the tree (default amd64): arm64 disks are GPT + ESP with GRUB for arm64-efi only. */
  readonly arch?: string;
  /** Whole-disk size; computed from the tree when absent. Rounded up to MiB. */
  readonly sizeBytes?: number;
  /** ext4 label of the root filesystem (default 'cloudimg-rootfs', as Debian and Ubuntu cloud images). */
  readonly rootLabel?: string;
  /** Extra kernel command-line words. */
  readonly cmdline?: readonly string[];
  /** GRUB's menu timeout in seconds (DIB_GRUB_TIMEOUT; default none). */
  readonly grubTimeout?: number;
  /** File name of the raw disk in workDir (default 'disk.raw'). */
  readonly fileName?: string;
  /**
   * Where the disk's identifiers come from (filesystem UUIDs and hash seed, partition-table and partition
   * ids, the ESP's volume id): derived from this text (the tree's fingerprint) so the same tree gives the same
   * disk; absent: drawn at random.
   */
  readonly seed?: string;
  /** SOURCE_DATE_EPOCH: the only time the filesystems record (the tree's times are clamped to it already). */
  readonly epoch?: number;
}

export interface DiskIds {
  readonly labelId: string;
  readonly rootUuid: string;
  readonly volumeId: string;
  readonly partUuid: ((n: number) => string) | undefined;
}

/** The disk's identifiers: derived from the seed (the same seed, the same ids), or random without one. */
export function diskIds(layout: Layout, seed: string | undefined): DiskIds {
  if (seed === undefined) {
    return {
      labelId: layout === 'mbr' ? randomHex(4) : crypto.randomUUID().toUpperCase(),
      rootUuid: crypto.randomUUID(),
      volumeId: randomHex(4).toUpperCase(),
      partUuid: undefined,
    };
  }
  const of = (what: string) => `kiln disk\0${seed}\0${what}`;
  return {
    // A DOS disk signature of 0 means "none" to some tools.
    labelId: layout === 'mbr' ? nonZeroHex(contentHex(of('disk signature'), 8)) : contentUuid(of('disk GUID')).toUpperCase(),
    rootUuid: contentUuid(of('root filesystem')),
    volumeId: nonZeroHex(contentHex(of('ESP volume id'), 8)).toUpperCase(),
    partUuid: (n) => contentUuid(of(`partition ${n}`)).toUpperCase(),
  };
}

function nonZeroHex(h: string): string {
  return /^0+$/.test(h) ? `${h.slice(0, -1)}1` : h;
}

export interface Disk {
  /** Path of the raw disk image. */
  readonly raw: string;
  readonly rootUuid: string;
  /** FAT volume id of the ESP (XXXX-XXXX), for the 'efi' layout. */
  readonly espUuid: string | undefined;
  readonly sizeBytes: number;
  readonly layout: Layout;
  readonly partitions: readonly Partition[];
  readonly kernel: Kernel;
  readonly tree: TreeSize;
  /** Milliseconds per step, in order. */
  readonly timings: readonly { step: string; ms: number }[];
}

export const DEFAULT_ROOT_LABEL = 'cloudimg-rootfs';

export async function assembleDisk(scope: Scope, opts: DiskOptions): Promise<Disk> {
  const timings: { step: string; ms: number }[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = Date.now();
    const v = await fn();
    timings.push({ step, ms: Date.now() - t0 });
    return v;
  };
  const tree = path.resolve(opts.tree);
  checkTree(tree);
  const label = opts.rootLabel ?? DEFAULT_ROOT_LABEL;
  if (!/^[\x21-\x7e]{1,16}$/.test(label)) throw invalid(`root filesystem label "${label}" must be 1-16 printable characters without spaces`);
  const platform = diskPlatform(opts.arch ?? 'amd64');
  const layout = layoutFor(platform, opts.layout);
  const size = await timed('measure tree', () => measureTree(tree));
  const sizeBytes = chooseImageSize(size, layout, opts.sizeBytes);
  const kernel = findKernel(tree);
  const ids = diskIds(layout, opts.seed);
  const plan = planPartitions(layout, sizeBytes, ids.labelId, ids.partUuid, platform.bios);
  const rootUuid = ids.rootUuid;
  const volumeId = layout === 'efi' ? ids.volumeId : undefined;
  const epoch = opts.epoch === undefined ? {} : { epoch: opts.epoch };
  const espUuid = volumeId === undefined ? undefined : espUuidOf(volumeId);
  const bios = platform.bios && (layout === 'mbr' || existsInTree(tree, '/usr/lib/grub/i386-pc/kernel.img'));
  const consoles = { kernel: platform.kernelConsole, grubSerial: platform.grubSerial };

  const images = await timed('grub images', async () => {
    writeBootConfig(tree, { rootUuid, ...(espUuid ? { espUuid } : {}), kernel, console: consoles, ...(opts.cmdline ? { cmdline: opts.cmdline } : {}), ...(opts.grubTimeout === undefined ? {} : { timeout: opts.grubTimeout }) });
    if (bios) copyGrubModules(tree, 'i386-pc');
    if (layout === 'efi') copyGrubModules(tree, platform.efi);
    return {
      core: bios ? await makeGrubImage(tree, 'i386-pc', rootUuid) : undefined,
      efi: layout === 'efi' ? await makeGrubImage(tree, platform.efi, rootUuid) : undefined,
    };
  });

  // The boot configuration (etc/fstab, etc/default/grub, boot/) and GRUB's modules were just written into the
  // tree, and GRUB's scratch files removed from its tmp/: back to the epoch with everything else.
  if (opts.epoch !== undefined) reclamp(tree, ['etc', 'boot', 'tmp'], opts.epoch);
  fs.mkdirSync(opts.workDir, { recursive: true });
  const raw = path.join(opts.workDir, opts.fileName ?? 'disk.raw');
  const undoLabel = `remove partial disk ${raw}`;
  scope.defer(undoLabel, () => fs.rmSync(raw, { force: true }));
  await timed('partition table', async () => {
    fs.rmSync(raw, { force: true });
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, sizeBytes);
    await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'always', raw], { input: renderSfdiskScript(plan), label: 'sfdisk' });
  });
  const root = need(plan, 'root');
  await timed('mkfs.ext4 -d', () => makeExt4({ disk: raw, tree, part: root, label, uuid: rootUuid, ...epoch }));
  if (images.efi && volumeId) {
    const efiFile = path.join(opts.workDir, platform.debianLoader);
    fs.writeFileSync(efiFile, images.efi);
    if (opts.epoch !== undefined) fs.utimesSync(efiFile, opts.epoch, opts.epoch);
    const files = new Map([
      [`EFI/BOOT/${platform.removableLoader}`, efiFile],
      [`EFI/debian/${platform.debianLoader}`, efiFile],
    ]);
    try {
      await timed('ESP (mkfs.vfat + mtools)', () => makeEsp({ disk: raw, part: need(plan, 'esp'), volumeId, ...epoch }, files));
    } finally {
      fs.rmSync(efiFile, { force: true });
    }
  }
  if (images.core) await timed('GRUB BIOS embed', () => embedBiosGrub(raw, plan, readBootImg(tree), images.core as Buffer));
  scope.keep(undoLabel);
  return { raw, rootUuid, espUuid, sizeBytes, layout, partitions: plan.partitions, kernel, tree: size, timings };
}

function checkTree(tree: string): void {
  if (!existsInTree(tree, '/etc')) throw invalid(`${tree} is not a root tree (no etc/)`);
  const mounts = mountsUnder(tree);
  if (mounts.length > 0) throw failed(`cannot make a disk from ${tree}: still mounted below it: ${mounts.join(', ')}`, { hint: 'tear down the chroot mounts first' });
}

function need(plan: PartitionPlan, role: 'root' | 'esp'): Partition {
  const p = partitionOf(plan, role);
  if (!p) throw new Error(`layout ${plan.layout} has no ${role} partition`);
  return p;
}

/** boot.img into the MBR, core.img into the post-MBR gap (DOS) or the BIOS-boot partition (GPT). */
async function embedBiosGrub(raw: string, plan: PartitionPlan, bootImg: Buffer, coreImg: Buffer): Promise<void> {
  const biosBoot = partitionOf(plan, 'bios-boot');
  const coreLba = biosBoot ? biosBoot.startSector : 1;
  const capacity = biosBoot ? biosBoot.sizeSectors : Math.min(...plan.partitions.map((p) => p.startSector)) - 1;
  const fd = fs.openSync(raw, 'r+');
  try {
    const mbr = Buffer.alloc(SECTOR);
    fs.readSync(fd, mbr, 0, SECTOR, 0);
    let core: Buffer;
    try {
      core = patchCoreImage(coreImg, coreLba, capacity);
    } catch (e) {
      throw failed(`cannot install GRUB for BIOS: ${(e as Error).message}`);
    }
    fs.writeSync(fd, core, 0, core.length, coreLba * SECTOR);
    fs.writeSync(fd, patchBootSector(bootImg, mbr, coreLba), 0, SECTOR, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** Sets what was written below these directories of the tree since it was clamped back to the epoch. */
function reclamp(tree: string, dirs: readonly string[], epoch: number): void {
  for (const d of dirs) if (existsInTree(tree, d)) clampTree(hostPath(tree, d), epoch, { fingerprint: false });
}

function randomHex(bytes: number): string {
  return crypto.randomBytes(bytes).toString('hex');
}
