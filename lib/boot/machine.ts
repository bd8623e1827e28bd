/**
 * The virtual machine each architecture boots in, as data: the emulator, its machine type, the UEFI firmware
 * (code read-only, a writable copy of the variable store per boot), the serial console's name in the guest and
 * how a CD-ROM is attached. amd64: q35, OVMF (when asked), ttyS0. arm64: virt, AAVMF always (the virt machine
 * has no BIOS), ttyAMA0; from an amd64 host it runs under TCG only.
 */
export type BootArch = 'amd64' | 'arm64';
export const BOOT_ARCHES: readonly BootArch[] = ['amd64', 'arm64'];

export interface Machine {
  readonly arch: BootArch;
  readonly qemu: string;
  readonly machine: string;
  readonly firmware: { readonly code: string; readonly vars: string; readonly package: string };
  /** UEFI firmware on every boot (no BIOS on the machine), not only with --efi. */
  readonly efiOnly: boolean;
  readonly console: string;
  /** A CD-ROM (config drive, seed) on a bus the machine has: q35's AHCI, or virtio on virt (which has no IDE). */
  readonly cdromInterface: 'ide' | 'virtio';
  /**
   * The CPU model under TCG. arm64: cortex-a57, not max, whose pointer authentication QEMU 7.2 emulates slowly
   * (measured, two boots of one image side by side: systemd at 42 s and a login prompt at 140.7 s with cortex-a57;
   * systemd at 98 s and no login prompt after 457 s with max).
   */
  readonly tcgCpu: string;
}

const MACHINES: Readonly<Record<BootArch, Machine>> = {
  amd64: {
    arch: 'amd64',
    qemu: 'qemu-system-x86_64',
    machine: 'q35',
    firmware: { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd', package: 'ovmf' },
    efiOnly: false,
    console: 'ttyS0',
    cdromInterface: 'ide',
    tcgCpu: 'max',
  },
  arm64: {
    arch: 'arm64',
    qemu: 'qemu-system-aarch64',
    machine: 'virt',
    firmware: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd', package: 'qemu-efi-aarch64' },
    efiOnly: true,
    console: 'ttyAMA0',
    cdromInterface: 'virtio',
    tcgCpu: 'cortex-a57',
  },
};

export function machineFor(arch: BootArch): Machine {
  return MACHINES[arch];
}

export function isBootArch(s: string): s is BootArch {
  return (BOOT_ARCHES as readonly string[]).includes(s);
}
