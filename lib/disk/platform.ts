/**
 * What a disk needs from its architecture, as data: the GRUB platforms (x86 boots with BIOS or UEFI, arm64 with
 * UEFI only), the removable-media path UEFI firmware boots without NVRAM entries, the serial console the kernel
 * and getty use, and the packages that bring GRUB into the tree.
 */
import { invalid } from '../errors/index.js';
import type { Layout } from './layout.js';

export type DiskArch = 'amd64' | 'arm64';
export type EfiPlatform = 'x86_64-efi' | 'arm64-efi';

export interface DiskPlatform {
  readonly arch: DiskArch;
  /** Whether BIOS GRUB (i386-pc: MBR boot code, BIOS boot partition) exists for this architecture. */
  readonly bios: boolean;
  readonly efi: EfiPlatform;
  /** The fallback loader's name in EFI/BOOT/ (UEFI's removable-media path) and Debian's own in EFI/debian/. */
  readonly removableLoader: string;
  readonly debianLoader: string;
  /** The kernel's consoles, the serial one last (so systemd starts its serial getty there and kiln reads it). */
  readonly kernelConsole: string;
  /**
   * Whether GRUB drives the serial port itself (x86: COM1); on arm64 the firmware's own console is the serial
   * port (AAVMF on QEMU's virt machine, and servers' firmware), so GRUB uses the firmware console.
   */
  readonly grubSerial: boolean;
}

const PLATFORMS: Readonly<Record<DiskArch, DiskPlatform>> = {
  amd64: {
    arch: 'amd64',
    bios: true,
    efi: 'x86_64-efi',
    removableLoader: 'BOOTX64.EFI',
    debianLoader: 'grubx64.efi',
    kernelConsole: 'console=tty0 console=ttyS0,115200',
    grubSerial: true,
  },
  arm64: {
    arch: 'arm64',
    bios: false,
    efi: 'arm64-efi',
    removableLoader: 'BOOTAA64.EFI',
    debianLoader: 'grubaa64.efi',
    kernelConsole: 'console=ttyAMA0,115200',
    grubSerial: false,
  },
};

export const DISK_ARCHES: readonly DiskArch[] = ['amd64', 'arm64'];

/** The platform of a Debian architecture; exit 2 for one kiln makes no disks for. */
export function diskPlatform(arch: string): DiskPlatform {
  const p = (PLATFORMS as Readonly<Record<string, DiskPlatform>>)[arch];
  if (!p) throw invalid(`-a ${arch}: kiln makes disk images for ${DISK_ARCHES.join(' and ')} only`);
  return p;
}

/** The layout a platform gets: without BIOS, always GPT + ESP. */
export function layoutFor(platform: DiskPlatform, wanted: Layout): Layout {
  return platform.bios ? wanted : 'efi';
}
