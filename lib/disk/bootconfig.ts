/**
 * The files a disk image needs in its tree before the filesystem is made: /etc/fstab by UUID,
 * /boot/grub/grub.cfg (kernel + initrd, serial and normal console) and /etc/default/grub with the
 * same settings, so a later update-grub inside the image keeps the serial console. Rendering is pure.
 */
import fs from 'node:fs';
import { failed, invalid } from '../errors/index.js';
import { hostPath, writeInTree } from '../rootfs/paths.js';

export const SERIAL_COMMAND = 'serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1';
/** x86's consoles (amd64's platform): the screen and COM1. */
export const KERNEL_CONSOLE = 'console=tty0 console=ttyS0,115200';
/**
 * Seconds GRUB waits before booting its default entry: diskimage-builder's DIB_GRUB_TIMEOUT, else none (a cloud
 * image boots straight on; holding Shift or Esc still shows the menu). Measured under TCG: the menu on the serial
 * console and a 1 s countdown cost 1.5-2 s of every boot.
 */
export const DEFAULT_GRUB_TIMEOUT = 0;

/** DIB_GRUB_TIMEOUT's value as seconds; a value that is not a whole number is refused, naming the variable. */
export function grubTimeout(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_GRUB_TIMEOUT;
  if (!/^\d{1,5}$/.test(value.trim())) throw invalid(`DIB_GRUB_TIMEOUT=${value}: expected a whole number of seconds (0: boot at once)`);
  return Number(value.trim());
}

export interface Kernel {
  readonly version: string;
  /** Paths inside the tree, e.g. /boot/vmlinuz-6.1.0-50-amd64. */
  readonly vmlinuz: string;
  readonly initrd: string;
}

export interface BootConfig {
  readonly rootUuid: string;
  /** FAT volume id as it appears in /dev/disk/by-uuid, e.g. "1A2B-3C4D" (EFI layout only). */
  readonly espUuid?: string;
  readonly kernel: Kernel;
  /** Extra kernel command-line words. */
  readonly cmdline?: readonly string[];
  /** The architecture's consoles (lib/disk/platform); default x86's: the screen and COM1, GRUB on both. */
  readonly console?: { readonly kernel: string; readonly grubSerial: boolean };
  /** GRUB's menu timeout in seconds (default DEFAULT_GRUB_TIMEOUT). */
  readonly timeout?: number;
}

const X86_CONSOLE = { kernel: KERNEL_CONSOLE, grubSerial: true } as const;

export function renderFstab(c: Pick<BootConfig, 'rootUuid' | 'espUuid'>): string {
  const lines = ['# /etc/fstab: written by kiln; filesystems by UUID.', '# <file system> <mount point> <type> <options> <dump> <pass>'];
  lines.push(`UUID=${c.rootUuid} / ext4 errors=remount-ro 0 1`);
  // nofail: the system runs without its ESP, so a slow or missing one never holds the boot in emergency mode (under
  // emulation udev announced it after systemd's 90 s device timeout, measured with an arm64 image).
  if (c.espUuid !== undefined) lines.push(`UUID=${c.espUuid} /boot/efi vfat umask=0077,nofail 0 2`);
  return `${lines.join('\n')}\n`;
}

export function kernelCmdline(c: Pick<BootConfig, 'rootUuid' | 'cmdline' | 'console'>): string {
  return [`root=UUID=${c.rootUuid}`, 'ro', (c.console ?? X86_CONSOLE).kernel, ...(c.cmdline ?? [])].join(' ');
}

export function renderGrubCfg(c: BootConfig): string {
  const serial = (c.console ?? X86_CONSOLE).grubSerial;
  return [
    '# Written by kiln. update-grub (with /etc/default/grub) produces an equivalent file.',
    `set timeout=${c.timeout ?? DEFAULT_GRUB_TIMEOUT}`,
    'set default=0',
    ...(serial ? [SERIAL_COMMAND, 'terminal_input serial console', 'terminal_output serial console'] : ['terminal_input console', 'terminal_output console']),
    `search --no-floppy --fs-uuid --set=root ${c.rootUuid}`,
    `menuentry 'Debian GNU/Linux, with Linux ${c.kernel.version}' --id kiln-default {`,
    `\tsearch --no-floppy --fs-uuid --set=root ${c.rootUuid}`,
    `\techo 'Loading Linux ${c.kernel.version} ...'`,
    `\tlinux ${c.kernel.vmlinuz} ${kernelCmdline(c)}`,
    `\techo 'Loading initial ramdisk ...'`,
    `\tinitrd ${c.kernel.initrd}`,
    '}',
    '',
  ].join('\n');
}

export function renderDefaultGrub(c: Pick<BootConfig, 'cmdline' | 'console' | 'timeout'>): string {
  const extra = (c.cmdline ?? []).join(' ');
  const con = c.console ?? X86_CONSOLE;
  return [
    '# Written by kiln: serial and normal console, short timeout. See info -f grub -n "Simple configuration".',
    'GRUB_DEFAULT=0',
    `GRUB_TIMEOUT=${c.timeout ?? DEFAULT_GRUB_TIMEOUT}`,
    'GRUB_DISTRIBUTOR=`( . /etc/os-release && echo ${NAME} ) 2> /dev/null || echo Debian`',
    'GRUB_CMDLINE_LINUX_DEFAULT=""',
    `GRUB_CMDLINE_LINUX="${[con.kernel, extra].filter((s) => s !== '').join(' ')}"`,
    ...(con.grubSerial ? ['GRUB_TERMINAL="serial console"', `GRUB_SERIAL_COMMAND="${SERIAL_COMMAND}"`] : ['GRUB_TERMINAL=console']),
    'GRUB_DISABLE_OS_PROBER=true',
    '',
  ].join('\n');
}

/** Compares Debian-style kernel versions well enough to pick the newest ("6.1.0-50" > "6.1.0-9"). */
export function compareKernelVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The newest kernel in the tree's /boot that has an initrd. */
export function findKernel(tree: string): Kernel {
  const boot = hostPath(tree, 'boot');
  const names = fs.existsSync(boot) ? fs.readdirSync(boot) : [];
  const versions = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .sort(compareKernelVersions)
    .reverse();
  const newest = versions[0];
  if (newest === undefined) throw failed(`no kernel in ${boot} (expected vmlinuz-*)`, { hint: 'install a kernel package, e.g. linux-image-amd64 or linux-image-arm64' });
  if (!names.includes(`initrd.img-${newest}`)) {
    throw failed(`kernel ${newest} in ${boot} has no initrd.img-${newest}`, { hint: 'install initramfs-tools (or dracut) in the image' });
  }
  return { version: newest, vmlinuz: `/boot/vmlinuz-${newest}`, initrd: `/boot/initrd.img-${newest}` };
}

/** Writes fstab, grub.cfg and /etc/default/grub into the tree (and /boot/efi for the ESP). */
export function writeBootConfig(tree: string, c: BootConfig): void {
  // Resolved inside the tree, never written through a symlink: nothing reaches the host.
  const put = (rel: string, text: string) => writeInTree(tree, rel, text);
  put('etc/fstab', renderFstab(c));
  put('boot/grub/grub.cfg', renderGrubCfg(c));
  put('etc/default/grub', renderDefaultGrub(c));
  if (c.espUuid !== undefined) fs.mkdirSync(hostPath(tree, 'boot/efi'), { recursive: true });
}
