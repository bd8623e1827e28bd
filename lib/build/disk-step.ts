/**
 * The disk step: flavours declare in `disk.yaml` that the disk is partitioned and bootable
 * (`bootloader: grub`, from `vm`) and its layout (`layout: efi`, from `efi`); the build's
 * block-device-size.d hooks or --image-size give the size. Assembly itself is lib/disk.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { invalid } from '../errors/index.js';
import type { BuildConfig } from '../config/config.js';
import { diskOutputs, type BuildPlan } from '../plan/build-plan.js';

export interface DiskDecl {
  readonly bootloader: 'grub' | undefined;
  readonly layout: 'mbr' | 'efi';
  /** The flavours that asked for it, for the plan and errors. */
  readonly from: readonly string[];
}

export function readDiskDecl(plan: BuildPlan, config: BuildConfig): DiskDecl {
  let bootloader: 'grub' | undefined;
  // arm64 boots with UEFI only: its disks are GPT with an EFI system partition whatever DIB_BLOCK_DEVICE says.
  let layout: 'mbr' | 'efi' = config.settings.arch === 'arm64' ? 'efi' : config.settings.blockDevice;
  const from: string[] = [];
  for (const f of plan.flavours) {
    const file = `${f.dir}/disk.yaml`;
    if (!fs.existsSync(file)) continue;
    let doc: Record<string, unknown>;
    try {
      doc = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw invalid(`[${f.name}] ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    for (const k of Object.keys(doc)) if (!['bootloader', 'layout'].includes(k)) throw invalid(`[${f.name}] ${file}: unknown key "${k}"`);
    if (doc.bootloader !== undefined) {
      if (doc.bootloader !== 'grub') throw invalid(`[${f.name}] ${file}: bootloader "${String(doc.bootloader)}" is not supported (grub)`);
      bootloader = 'grub';
    }
    if (doc.layout !== undefined) {
      if (doc.layout !== 'mbr' && doc.layout !== 'efi') throw invalid(`[${f.name}] ${file}: layout "${String(doc.layout)}" is not mbr or efi`);
      if (doc.layout === 'efi') layout = 'efi';
    }
    from.push(f.name);
  }
  return { bootloader, layout, from };
}

/** Disk outputs need a bootable disk: say so before anything is built. */
export function checkDiskOutputs(plan: BuildPlan, decl: DiskDecl): void {
  const disk = diskOutputs(plan);
  if (disk.length > 0 && decl.bootloader === undefined) {
    throw invalid(
      `-t ${disk.map((o) => o.format).join(',')}: disk images are made by the vm flavour (partition table and bootloader), which this build does not include`,
      'add vm to the flavours, or choose -t tar, tgz, squashfs or oci',
    );
  }
}

/** IMAGE_SIZE=<GB> printed by block-device-size.d (`from`: "[flavour] block-device-size.d/hook"), else --image-size, in bytes. */
export function chooseSize(printed: string | undefined, from: string | undefined, config: BuildConfig): number | undefined {
  if (printed === undefined) return config.settings.imageSize;
  const gb = Number(printed);
  if (!Number.isFinite(gb) || gb <= 0) throw invalid(`${from ?? 'block-device-size.d'} printed IMAGE_SIZE=${printed}, which is not a size in GB`);
  return Math.round(gb * 2 ** 30);
}
