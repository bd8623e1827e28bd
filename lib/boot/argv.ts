/** QEMU's command line, as a pure function of what was decided (accelerator, formats, ports, files). */
import { machineFor, type BootArch } from './machine.js';
import type { Accel, Disk, DiskInterface, TcgThread } from './types.js';

/** The emulator of this host's own architecture (amd64): the accelerator probe runs it. */
export const QEMU = machineFor('amd64').qemu;

export interface QemuPlan {
  /** The guest's architecture (default amd64): the emulator and machine (lib/boot/machine). */
  readonly arch?: BootArch;
  readonly accel: Accel;
  readonly memoryMb: number;
  readonly cpus: number;
  /** QEMU's -cpu model; undefined: the accelerator's default (defaultCpuModel). */
  readonly cpuModel?: string;
  /** TCG only: one host thread for all virtual CPUs, or one each; undefined: DEFAULT_TCG_THREAD. */
  readonly tcgThread?: TcgThread;
  /** The image first, then extra disks. */
  readonly disks: readonly Disk[];
  readonly diskInterface: DiskInterface;
  /** false: every disk is opened with snapshot=on (writes go to a throw-away overlay). */
  readonly persist: boolean;
  /** OVMF: the read-only code and a private, writable copy of the variable store. */
  readonly efi?: { readonly code: string; readonly vars: string };
  readonly kernel?: { readonly file: string; readonly initrd?: string; readonly append: string };
  /** An ISO image attached read-only as a CD-ROM (a config drive or NoCloud seed, as Nova attaches one). */
  readonly cdrom?: string;
  readonly sshPort: number;
  /** A unix socket for QMP (graceful power-off). */
  readonly qmpSocket?: string;
  /** A pcap file that records the guest's network traffic (headers only): a packet counter for hang detection. */
  readonly netCapture?: string;
}

/** QEMU's option syntax: a comma inside a value is written twice. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * The kernel command line: the user's, plus console=ttyS0 (kiln reads the serial console; arm64's virt machine:
 * ttyAMA0) unless it names a console.
 */
export function kernelCommandLine(append: string | undefined, serial = 'ttyS0'): string {
  const user = (append ?? '').trim();
  if (/(^|\s)console=/.test(user)) return user;
  return user === '' ? `console=${serial}` : `console=${serial} ${user}`;
}

/** The emulator that runs a plan. */
export function qemuBinary(plan: Pick<QemuPlan, 'arch'>): string {
  return machineFor(plan.arch ?? 'amd64').qemu;
}

/** The CPU model TCG guests get unless told otherwise (see the README's "Booting under TCG"). */
export const DEFAULT_TCG_CPU_MODEL = 'max';

export function defaultCpuModel(accel: Accel): string {
  switch (accel) {
    case 'kvm':
      return 'host';
    case 'tcg':
      return DEFAULT_TCG_CPU_MODEL;
  }
}

/**
 * TCG runs every virtual CPU in one host thread unless told otherwise. With one thread per virtual CPU
 * (QEMU's default, MTTCG), QEMU 7.2 lets a CPU go on executing kernel text another CPU has just patched
 * (text_poke_bp of a static key): the guest loops on a stale int3 (a soft lockup: "stalls after the
 * banner") or dies of it. Measured and reproduced on purpose: the README's "Booting under TCG".
 */
export const DEFAULT_TCG_THREAD: TcgThread = 'single';

function accelArgs(plan: Pick<QemuPlan, 'accel' | 'cpuModel' | 'tcgThread' | 'arch'>): string[] {
  const accel = plan.accel === 'tcg' ? `tcg,thread=${plan.tcgThread ?? DEFAULT_TCG_THREAD}` : plan.accel;
  const model = plan.cpuModel ?? (plan.accel === 'tcg' ? machineFor(plan.arch ?? 'amd64').tcgCpu : defaultCpuModel(plan.accel));
  return ['-accel', accel, '-cpu', model];
}

export function driveArgs(disk: Disk, iface: DiskInterface, persist: boolean): string[] {
  const parts = [`file=${escapeOptionValue(disk.file)}`, `format=${disk.format}`, `if=${iface}`];
  if (!persist) parts.push('snapshot=on');
  return ['-drive', parts.join(',')];
}

export function qemuArgv(plan: QemuPlan): string[] {
  const machine = machineFor(plan.arch ?? 'amd64');
  const argv = ['-machine', machine.machine, ...accelArgs(plan), '-m', String(plan.memoryMb), '-smp', String(plan.cpus)];
  // Serial console on stdout, no display, no monitor; the guest rebooting ends QEMU.
  argv.push('-display', 'none', '-vga', 'none', '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console');
  argv.push('-monitor', 'none', '-parallel', 'none', '-no-reboot');
  if (plan.efi) {
    argv.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${escapeOptionValue(plan.efi.code)}`);
    argv.push('-drive', `if=pflash,format=raw,unit=1,file=${escapeOptionValue(plan.efi.vars)}`);
  }
  if (plan.kernel) {
    argv.push('-kernel', plan.kernel.file);
    if (plan.kernel.initrd !== undefined) argv.push('-initrd', plan.kernel.initrd);
    argv.push('-append', plan.kernel.append);
  }
  for (const disk of plan.disks) argv.push(...driveArgs(disk, plan.diskInterface, plan.persist));
  if (plan.cdrom !== undefined) {
    const where = machine.cdromInterface === 'ide' ? 'media=cdrom' : 'if=virtio';
    argv.push('-drive', `file=${escapeOptionValue(plan.cdrom)},format=raw,${where},readonly=on`);
  }
  // User-mode networking; SSH reachable from this host only.
  if (plan.netCapture === undefined) argv.push('-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${plan.sshPort}-:22`);
  else {
    argv.push('-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${plan.sshPort}-:22`, '-device', 'virtio-net-pci,netdev=net0');
    argv.push('-object', `filter-dump,id=dump0,netdev=net0,file=${escapeOptionValue(plan.netCapture)},maxlen=64`);
  }
  if (plan.qmpSocket !== undefined) argv.push('-qmp', `unix:${escapeOptionValue(plan.qmpSocket)},server=on,wait=off`);
  return argv;
}
