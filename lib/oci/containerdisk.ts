/**
 * A KubeVirt containerDisk as an OCI image layout: an image from scratch whose one layer holds the directory
 * `disk/` and the disk image in it (`disk/NAME.qcow2`, or .raw/.img), both owned by 107:107 (the qemu user
 * KubeVirt's launcher reads it as; the equivalent of `FROM scratch` + `ADD --chown=107:107 NAME.qcow2 /disk/`).
 * The file is 0440, the directory 0555 (kubevirt/containerdisks makes them 0444 and 0555: only 107 needs to
 * read it). Dated SOURCE_DATE_EPOCH, so the same disk gives the same digests.
 */
import fs from 'node:fs';
import { invalid } from '../errors/index.js';
import { KILN_VERSION } from '../version.js';
import { writeImageLayout } from './layout.js';
import type { LayerCompression } from './media.js';
import { tarStream, type TarEntry } from './tar.js';

/** KubeVirt's qemu user and group. */
export const CONTAINERDISK_OWNER = 107;
export const CONTAINERDISK_FILE_MODE = 0o440;
export const CONTAINERDISK_DIR_MODE = 0o555;
const DISK_EXTENSIONS = ['.qcow2', '.raw', '.img'] as const;

export interface ContainerDiskOptions {
  /** The file's name under disk/; the disk's extension is added unless it ends in one already. */
  readonly name: string;
  /** Labels of the config (and the manifest's annotations), e.g. imageLabels() of the build's manifest. */
  readonly labels?: Readonly<Record<string, string>>;
  /** SOURCE_DATE_EPOCH. */
  readonly epoch: number;
  /** Debian's architecture name. */
  readonly arch: string;
  /** Default gzip. */
  readonly compression?: LayerCompression;
}

/** `disk/NAME.EXT`: the disk's path inside the image; a name that is not a plain file name is refused (exit 2). */
export function containerDiskPath(diskPath: string, name: string): string {
  const ext = DISK_EXTENSIONS.find((e) => diskPath.endsWith(e));
  if (!ext) throw invalid(`${diskPath}: a containerDisk holds a qcow2 or raw disk named .qcow2, .raw or .img`, 'convert it with qemu-img, or rename it');
  if (!/^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/.test(name) || name.length > 200) {
    throw invalid(`containerDisk name "${name}": letters, digits and . _ + - only (a file name under disk/)`);
  }
  return `disk/${DISK_EXTENSIONS.some((e) => name.endsWith(e)) ? name : `${name}${ext}`}`;
}

/** The layer's two entries. */
export function containerDiskEntries(diskPath: string, name: string, epoch: number): TarEntry[] {
  const own = { uid: CONTAINERDISK_OWNER, gid: CONTAINERDISK_OWNER, mtime: epoch };
  return [
    { name: 'disk/', type: 'dir', mode: CONTAINERDISK_DIR_MODE, ...own },
    { name: containerDiskPath(diskPath, name), type: 'file', mode: CONTAINERDISK_FILE_MODE, source: diskPath, ...own },
  ];
}

/** Writes the containerDisk's image layout into `layoutDir` (absent or empty); returns the manifest's digest. */
export async function writeContainerDisk(diskPath: string, layoutDir: string, opts: ContainerDiskOptions): Promise<string> {
  const entries = containerDiskEntries(diskPath, opts.name, opts.epoch);
  if (!fs.statSync(diskPath, { throwIfNoEntry: false })?.isFile()) throw invalid(`${diskPath}: no such disk image (a containerDisk is made from a file)`);
  const written = await writeImageLayout(layoutDir, {
    layer: () => tarStream(entries),
    compression: opts.compression ?? 'gzip',
    arch: opts.arch,
    epoch: opts.epoch,
    ...(opts.labels ? { labels: opts.labels } : {}),
    createdBy: `kiln ${KILN_VERSION}: containerDisk ${(entries[1] as TarEntry).name}`,
    name: opts.name,
  });
  return written.manifest.digest;
}
