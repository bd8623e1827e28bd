/**
 * What Glance is told about an image: disk_format from the file itself (qemu-img, never the extension),
 * and the properties Nova reads, taken from the build's NAME.manifest.json beside the image (distro,
 * version, architecture, firmware, guest agent, cloud-init's default user) plus kiln's build id and the manifest's
 * digest. Planning is pure.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import type { DiskFormat } from '../boot/types.js';
import { outputFormatOf, withoutImageExtension } from '../boot/image.js';
import { unameArch } from '../distro/arch.js';
import { CLOUD_INIT_DEFAULT_USER } from '../distro/index.js';
import type { ManifestFacts } from '../output/manifest.js';
import type { Visibility } from './visibility.js';

/** qemu-img's format name → Glance's disk_format (the same names as kiln's outputs). */
export const glanceDiskFormat: (format: DiskFormat) => string = outputFormatOf;


export interface Sidecar {
  readonly file: string;
  readonly sha256: string;
  readonly facts: ManifestFacts;
}

/** NAME.manifest.json beside NAME.qcow2 (or .raw, .vhd, .vmdk, .img), when there is one. */
export function readSidecar(image: string): Sidecar | undefined {
  const file = `${withoutImageExtension(image)}.manifest.json`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let facts: ManifestFacts;
  try {
    facts = JSON.parse(text) as ManifestFacts;
  } catch {
    throw invalid(`${file}: not JSON; it should be the manifest kiln wrote beside the image`, 'regenerate it by rebuilding, or move it away to publish without build properties');
  }
  return { file, sha256: crypto.createHash('sha256').update(text).digest('hex'), facts };
}

/** Debian's architecture names → the ones Glance and Nova use (`uname -m`). */
export function glanceArch(debArch: string): string {
  return unameArch(debArch);
}

/** Properties derived from the build; the user's --property values override them. */
export function buildProperties(sidecar: Sidecar | undefined): Record<string, string> {
  const props: Record<string, string> = { hw_disk_bus: 'virtio' };
  if (!sidecar) return props;
  const { build, os } = sidecar.facts;
  if (os?.id) props.os_distro = os.id;
  if (os?.versionId) props.os_version = os.versionId;
  if (build?.arch) props.architecture = glanceArch(build.arch);
  if (build?.layout === 'efi') props.hw_firmware_type = 'uefi';
  // What the image supports, from the packages in it: Nova adds the agent's channel only when asked to.
  const installed = new Set((sidecar.facts.packages ?? []).map((p) => p.name));
  if (installed.has('qemu-guest-agent')) props.hw_qemu_guest_agent = 'yes';
  const admin = os?.id ? CLOUD_INIT_DEFAULT_USER[os.id] : undefined;
  if (installed.has('cloud-init') && admin) props.os_admin_user = admin;
  if (build?.id) props.kiln_build_id = build.id;
  if (build?.flavours && build.flavours.length > 0) props.kiln_flavours = build.flavours.join(' ');
  if (build?.kiln) props.kiln_version = build.kiln;
  props.kiln_manifest_sha256 = sidecar.sha256;
  return props;
}

/** Fields Glance keeps for itself, or that have their own option. */
const RESERVED: Record<string, string> = {
  name: 'use --name',
  visibility: 'use --visibility',
  disk_format: 'kiln reads the format from the file',
  container_format: 'kiln publishes bare images',
};
const GLANCE_OWNED = ['id', 'status', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'created_at', 'updated_at', 'owner', 'file', 'schema', 'self', 'locations', 'direct_url', 'stores', 'tags', 'protected', 'os_hidden', 'kiln_upload'];

/** Parses `--property k=v` values; refuses keys Glance owns or kiln sets itself (exit 2). */
export function parseProperties(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw invalid(`--property ${v}: expected KEY=VALUE`);
    const key = v.slice(0, eq);
    if (!/^[A-Za-z0-9_:.-]{1,255}$/.test(key)) throw invalid(`--property ${v}: "${key}" is not a valid property name`);
    if (RESERVED[key]) throw invalid(`--property ${key}: not settable as a property (${RESERVED[key]})`);
    if (GLANCE_OWNED.includes(key)) throw invalid(`--property ${key}: Glance (or kiln) sets this itself`);
    out[key] = v.slice(eq + 1);
  }
  return out;
}

export { VISIBILITIES, type Visibility } from './visibility.js';

/** The JSON body that creates the record (before any data). */
export function imageRecord(o: {
  name: string;
  diskFormat: string;
  virtualSize: number;
  visibility: Visibility;
  properties: Readonly<Record<string, string>>;
  hidden: boolean;
  uploadOwner: string;
}): Record<string, unknown> {
  const GiB = 2 ** 30;
  return {
    ...o.properties,
    name: o.name,
    disk_format: o.diskFormat,
    container_format: 'bare',
    visibility: o.visibility,
    min_disk: Math.max(1, Math.ceil(o.virtualSize / GiB)),
    ...(o.hidden ? { os_hidden: true } : {}),
    kiln_upload: o.uploadOwner,
  };
}

/** The default Glance name of an image file: its name without the extension. */
export function defaultImageName(file: string): string {
  return withoutImageExtension(path.basename(file));
}

/** `--limit-rate 20M` → bytes per second (K, M, G: powers of 1024). */
export function parseRate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?(?:\/s)?$/i.exec(v.trim());
  if (!m) throw invalid(`--limit-rate ${v}: expected bytes per second, e.g. 500K or 20M`);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  const rate = Math.floor(Number(m[1]) * unit);
  if (rate < 1024) throw invalid(`--limit-rate ${v}: at least 1K per second`);
  return rate;
}

/**
 * What a file qemu-img calls raw really is: a disk (partition table or filesystem), installer media
 * (ISO 9660, Glance's "iso"), or neither (qemu-img calls any file raw: a tarball is not an image).
 */
export function classifyRaw(head: Buffer): 'raw' | 'iso' | undefined {
  if (head.length >= 0x8006 && head.subarray(0x8001, 0x8006).toString('latin1') === 'CD001') return 'iso';
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) return 'raw'; // MBR (or GPT's protective MBR)
  if (head.length >= 520 && head.subarray(512, 520).toString('latin1') === 'EFI PART') return 'raw';
  if (head.length >= 1082 && head.readUInt16LE(1080) === 0xef53) return 'raw'; // ext2/3/4 superblock
  return undefined;
}
