/**
 * A disk's format, read from the file's own bytes (never guessed from its name, never left to qemu's probing),
 * and its virtual size from qemu-img; read-only. Images that refer to other files are refused before any tool
 * opens them (lib/inspect/image-file.ts).
 */
import { invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import { selfContainedDisk } from '../inspect/image-file.js';
import { DISK_FORMATS, type Disk, type DiskFormat } from './types.js';

/** A disk image's path without its format extension (img.qcow2 → img). */
export function withoutImageExtension(file: string): string {
  return file.replace(/\.(qcow2|raw|img|vhd|vhdx|vmdk)$/, '');
}

/** qemu-img's format name as kiln's output format (and Glance's disk_format): vpc is vhd. */
export function outputFormatOf(format: DiskFormat): 'qcow2' | 'raw' | 'vhd' | 'vmdk' {
  return format === 'vpc' ? 'vhd' : format;
}

/** Parses `qemu-img info --output=json`; throws an invalid-input error naming `what` for anything else. */
export function parseImageInfo(json: string, file: string, what: string): DiskFormat {
  let format: unknown;
  try {
    format = (JSON.parse(json) as { format?: unknown }).format;
  } catch {
    throw invalid(`${what} "${file}": qemu-img printed no JSON`);
  }
  const known = DISK_FORMATS.find((f) => f === format);
  if (!known) throw invalid(`${what} "${file}" is in format "${String(format)}" (kiln boots ${DISK_FORMATS.join(', ')})`);
  return known;
}

export async function detectDisk(file: string, what: string, opts: { allowBacking?: boolean } = {}): Promise<Disk> {
  const d = await readDiskInfo(file, what, opts);
  return { file: d.file, format: d.format };
}

/** The disk's format and virtual size (bytes): a self-contained image's, as qemu-img reads it in that format. */
export async function readDiskInfo(file: string, what: string, opts: { allowBacking?: boolean } = {}): Promise<Disk & { virtualSize: number; qcow2Compression?: string }> {
  const { format: found } = selfContainedDisk(file, what, opts);
  // --force-share: readable even while another QEMU has the image open; never takes a write lock.
  const r = await run('qemu-img', ['info', '--force-share', '-f', found, '--output=json', file], { allowFailure: true });
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `qemu-img exited ${r.exitCode}`;
    throw invalid(`${what} "${file}" is not a disk image qemu can read: ${why}`);
  }
  const format = parseImageInfo(r.stdout, file, what);
  const info = JSON.parse(r.stdout) as { 'virtual-size'?: unknown; 'format-specific'?: { data?: { 'compression-type'?: unknown } } };
  const size = info['virtual-size'];
  const compression = info['format-specific']?.data?.['compression-type'];
  return { file, format, virtualSize: typeof size === 'number' ? size : 0, ...(typeof compression === 'string' ? { qcow2Compression: compression } : {}) };
}
