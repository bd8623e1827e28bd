/** The vocabulary of booting: options, accelerators, console milestones, outcomes and the report. */
import type { SeedOptions } from './seed.js';

export type Accel = 'kvm' | 'tcg';
export type AccelChoice = Accel | 'auto';
/** How TCG runs the virtual CPUs: one host thread for all of them (single) or one each (multi). */
export type TcgThread = 'single' | 'multi';

/** Formats QEMU reads; detected with qemu-img, never from the file name. */
export type DiskFormat = 'qcow2' | 'raw' | 'vpc' | 'vmdk';
export const DISK_FORMATS: readonly DiskFormat[] = ['qcow2', 'raw', 'vpc', 'vmdk'];

export type DiskInterface = 'virtio' | 'ide';

/** Points on the way from power-on to a usable machine, in the order they normally happen. */
export type Milestone = 'firmware' | 'kernel' | 'userspace' | 'systemd' | 'login' | 'expect' | 'ssh';
export const MILESTONES: readonly Milestone[] = ['firmware', 'kernel', 'userspace', 'systemd', 'login', 'expect', 'ssh'];

/** Console lines that mean the boot will not succeed; detected early, without waiting for the timeout. */
export type Fatal = 'kernel-panic' | 'grub-rescue' | 'emergency-mode';

export type Outcome = 'ok' | 'timeout' | 'qemu-exited' | 'ssh-failed' | Fatal;

export interface Disk {
  readonly file: string;
  readonly format: DiskFormat;
}

export interface BootOptions {
  /** The disk image to boot (optional with `kernel`: a ramdisk boot). */
  readonly image?: string;
  /** Further disks, attached after the image. */
  readonly disks?: readonly string[];
  readonly kernel?: string;
  readonly initrd?: string;
  /** Kernel command line; `console=ttyS0` is added unless it names a console. */
  readonly append?: string;
  readonly efi?: boolean;
  /** The guest's architecture (default: the build manifest beside the image, else the host's). */
  readonly arch?: string;
  /** Accept an image whose backing file (an overlay of a trusted image) is itself a self-contained image. */
  readonly allowBackingFile?: boolean;
  /** Write through to the image (default: the image is never modified, `-snapshot`). */
  readonly persist?: boolean;
  readonly accel?: AccelChoice;
  readonly memoryMb?: number;
  readonly cpus?: number;
  /** QEMU's -cpu model (default: host under KVM, DEFAULT_TCG_CPU_MODEL under TCG). */
  readonly cpuModel?: string;
  /** TCG's threading (default DEFAULT_TCG_THREAD; see the README's "Booting under TCG"); ignored under KVM. */
  readonly tcgThread?: TcgThread;
  readonly diskInterface?: DiskInterface;
  /** Give up after this long (default 300 s). */
  readonly timeoutS?: number;
  /** A console line that means success, instead of the login prompt. */
  readonly expect?: RegExp;
  /** Log in over SSH (as sshUser, default root) and run `sshCommand`: the proof of the boot, tried from the start (after `expect`, if set). */
  readonly ssh?: boolean;
  readonly sshKey?: string;
  readonly sshUser?: string;
  readonly sshCommand?: string;
  /**
   * A metadata drive made for this boot (config drive or NoCloud seed), with the public half of the SSH key
   * (sshKey, or the local key when ssh is set) among its keys.
   */
  readonly seed?: SeedOptions;
  /** Where the timestamped console log goes (default: a file in the current directory). */
  readonly consoleLog?: string;
  /** Each console line as it arrives, with seconds since QEMU started. */
  readonly onConsoleLine?: (line: string, seconds: number) => void;
}

export interface MilestoneTime {
  readonly name: Milestone;
  /** Seconds since QEMU started; undefined when not reached (or not observable). */
  readonly seconds: number | undefined;
}

export interface BootReport {
  readonly ok: boolean;
  readonly outcome: Outcome;
  /** One line: what happened. */
  readonly message: string;
  readonly accel: Accel;
  /** Why this accelerator: "forced", or the probe's figures. */
  readonly accelReason: string;
  readonly milestones: readonly MilestoneTime[];
  /** Seconds from QEMU start to the end of the wait. */
  readonly seconds: number;
  readonly consoleLog: string;
  /** Host port on 127.0.0.1 forwarded to the guest's port 22. */
  readonly sshPort: number;
  readonly ssh?: { readonly command: string; readonly exitCode: number; readonly stdout: string };
  /** The console line that ended the boot early (panic, rescue shell), if any. */
  readonly fatalLine?: string;
}
