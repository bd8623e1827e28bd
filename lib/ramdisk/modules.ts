import { compareKernelVersions } from '../disk/bootconfig.js';

/**
 * Kernel modules for a ramdisk: the ones needed to reach disks and the network, with everything they
 * depend on according to the kernel's own modules.dep, and a modules.dep that lists exactly those.
 */

/** Storage, network and filesystem drivers a deploy ramdisk needs on virtual and common physical machines. */
export const DEFAULT_MODULES: readonly string[] = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net', 'virtio_rng',
  'ahci', 'ata_piix', 'sd_mod', 'nvme', 'mptsas', 'megaraid_sas',
  'e1000', 'e1000e', 'igb', 'ixgbe', 'tg3', 'bnx2', 'r8169',
  'af_packet', 'ext4', 'vfat', 'nls_cp437', 'nls_iso8859_1', 'crc32c_generic',
];

/** A module's name from its file: kernel/fs/ext4/ext4.ko.xz → ext4 (dashes are underscores to the kernel). */
export function moduleName(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}

export interface ModuleSelection {
  /** Module files (relative to /lib/modules/VERSION), dependencies included. */
  readonly files: readonly string[];
  /** The lines of modules.dep for exactly those files. */
  readonly modulesDep: string;
  /** Load order: dependencies before the modules that need them (modprobe does this too; kept for insmod). */
  readonly order: readonly string[];
  /** Wanted names that are built into the kernel. */
  readonly builtin: readonly string[];
  /** Wanted names this kernel has neither as a module nor built in. */
  readonly unknown: readonly string[];
}

/** Pure: chooses modules from the text of modules.dep and modules.builtin. */
export function selectModules(modulesDep: string, modulesBuiltin: string, wanted: readonly string[]): ModuleSelection {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const file = m[1] as string;
    deps.set(file, (m[2] as string).split(/\s+/).filter((x) => x !== ''));
    byName.set(moduleName(file), file);
  }
  const builtinNames = new Set(modulesBuiltin.split('\n').filter((l) => l.trim() !== '').map((l) => moduleName(l.trim())));
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (file: string) => {
    if (order.includes(file) || visiting.has(file)) return;
    visiting.add(file);
    for (const d of deps.get(file) ?? []) visit(d);
    order.push(file);
  };
  const builtin: string[] = [];
  const unknown: string[] = [];
  for (const w of wanted) {
    const name = w.replaceAll('-', '_');
    const file = byName.get(name);
    if (file) visit(file);
    else if (builtinNames.has(name)) builtin.push(name);
    else unknown.push(name);
  }
  const lines = order.map((f) => `${f}: ${(deps.get(f) ?? []).join(' ')}`.trimEnd());
  return { files: order, modulesDep: lines.length > 0 ? `${lines.join('\n')}\n` : '', order: order.map(moduleName), builtin, unknown };
}

/** The newest kernel version first (compareKernelVersions, as the disk's boot configuration uses). */
export function newestFirst(versions: readonly string[]): string[] {
  return [...versions].sort(compareKernelVersions).reverse();
}
