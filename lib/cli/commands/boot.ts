import { Command, Option } from 'commander';
import { bootImage } from '../../boot/run.js';
import { checkBootOptions, DEFAULT_TIMEOUT_S } from '../../boot/prepare.js';
import { formatReport, reportJson } from '../../boot/report.js';
import { SEED_KINDS, type SeedKind } from '../../boot/seed.js';
import type { AccelChoice, BootOptions, TcgThread } from '../../boot/types.js';
import { failed, invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { setDebug } from '../state.js';
import { debianArch } from '../../distro/arch.js';

interface BootFlags {
  ssh?: boolean;
  sshKey?: string;
  sshUser?: string;
  sshCommand?: string;
  metadata?: string;
  userData?: string;
  seed?: SeedKind;
  timeout: string;
  expect?: string;
  efi?: boolean;
  arch?: string;
  allowBackingFile?: boolean;
  kernel?: string;
  initrd?: string;
  append?: string;
  disk?: string[];
  persist?: boolean;
  accel?: AccelChoice;
  memory?: string;
  cpus?: string;
  cpuModel?: string;
  tcgThread?: TcgThread;
  consoleLog?: string;
  showConsole?: boolean;
  json?: boolean;
  debug?: boolean;
}

function parseNumber(raw: string | undefined, flag: string, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw invalid(`${flag}: "${raw}" is not a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

function parseRegex(raw: string | undefined): RegExp | undefined {
  if (raw === undefined) return undefined;
  try {
    return new RegExp(raw);
  } catch (e) {
    throw invalid(`--expect: "${raw}" is not a regular expression (${(e as Error).message})`);
  }
}

/** Flags → BootOptions; every error names its flag (exit 2). */
export function bootOptionsFromFlags(image: string | undefined, f: BootFlags): BootOptions {
  const expect = parseRegex(f.expect);
  const seedWanted = f.seed !== undefined || f.metadata !== undefined || f.userData !== undefined;
  const memoryMb = parseNumber(f.memory, '--memory', true);
  const cpus = parseNumber(f.cpus, '--cpus', true);
  const opts: BootOptions = {
    ...(image !== undefined ? { image } : {}),
    ...(f.disk ? { disks: f.disk } : {}),
    ...(f.kernel !== undefined ? { kernel: f.kernel } : {}),
    ...(f.initrd !== undefined ? { initrd: f.initrd } : {}),
    ...(f.append !== undefined ? { append: f.append } : {}),
    efi: f.efi === true,
    ...(f.arch !== undefined ? { arch: debianArch(f.arch) ?? f.arch } : {}),
    allowBackingFile: f.allowBackingFile === true,
    persist: f.persist === true,
    accel: f.accel ?? 'auto',
    ...(memoryMb !== undefined ? { memoryMb } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    ...(f.cpuModel !== undefined ? { cpuModel: f.cpuModel } : {}),
    ...(f.tcgThread !== undefined ? { tcgThread: f.tcgThread } : {}),
    timeoutS: parseNumber(f.timeout, '--timeout', false) ?? DEFAULT_TIMEOUT_S,
    ...(expect ? { expect } : {}),
    ssh: f.ssh === true,
    ...(f.sshKey !== undefined ? { sshKey: f.sshKey } : {}),
    ...(f.sshCommand !== undefined ? { sshCommand: f.sshCommand } : {}),
    ...(f.sshUser !== undefined ? { sshUser: f.sshUser } : {}),
    ...(f.consoleLog !== undefined ? { consoleLog: f.consoleLog } : {}),
    ...(seedWanted
      ? { seed: { kind: f.seed ?? 'config-drive', ...(f.metadata !== undefined ? { metadataFile: f.metadata } : {}), ...(f.userData !== undefined ? { userDataFile: f.userData } : {}) } }
      : {}),
    ...(f.showConsole ? { onConsoleLine: (line: string, s: number) => process.stderr.write(`[${s.toFixed(1).padStart(6)}] ${line}\n`) } : {}),
  };
  // --ssh-key also names the key whose public half goes on a metadata drive.
  const sshOnly = f.sshKey !== undefined && !seedWanted ? '--ssh-key' : f.sshCommand !== undefined ? '--ssh-command' : f.sshUser !== undefined ? '--ssh-user' : undefined;
  if (sshOnly && !opts.ssh) throw invalid(`${sshOnly} needs --ssh`);
  if (f.sshUser !== undefined && !/^[a-z_][a-z0-9_.-]*\$?$/i.test(f.sshUser)) throw invalid(`--ssh-user: "${f.sshUser}" is not a user name`);
  checkBootOptions(opts);
  return opts;
}

export function bootCommand(): Command {
  return new Command('boot')
    .description('boot an image (or a kernel + initrd) in QEMU and report the seconds to each milestone')
    .argument('[image]', 'the disk image to boot (qcow2, raw, vhd or vmdk; never modified without --persist)')
    .option('--ssh', 'log in over SSH (as root, or --ssh-user) with the local key and run a command: the proof of the boot (after --expect, if given)')
    .option('--ssh-key <file>', 'the private key for --ssh (default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa); its public half (FILE.pub) goes on the metadata drive')
    .option('--ssh-user <name>', 'the user --ssh logs in as (default root)')
    .option('--ssh-command <cmd>', 'the command --ssh runs (default: true)')
    .option('--metadata <file.json>', "attach a config drive (ISO labelled config-2) with this OpenStack meta_data.json (uuid, hostname, public_keys, …; missing uuid and hostname are made up)")
    .option('--user-data <file>', 'user data on the metadata drive (a #cloud-config document, a script, …)')
    .addOption(new Option('--seed <kind>', 'the metadata drive: an OpenStack config drive (default) or a NoCloud seed (label cidata); attached even without --metadata').choices([...SEED_KINDS]))
    .option('--timeout <seconds>', 'give up after this long', String(DEFAULT_TIMEOUT_S))
    .option('--expect <regex>', 'a console line that means success (default: a login prompt)')
    .option('--efi', 'boot with UEFI firmware (OVMF; arm64 always boots with AAVMF)')
    .option('--arch <arch>', "the guest's architecture, amd64 or arm64 (default: the build manifest beside the image, else the host's): qemu-system-x86_64 q35 or qemu-system-aarch64 virt")
    .option('--allow-backing-file', 'boot an overlay: accept a qcow2 whose backing file is a self-contained image (any other reference is still refused)')
    .option('--kernel <file>', 'boot this kernel directly (with --initrd, --append)')
    .option('--initrd <file>', 'the initramfs for --kernel')
    .option('--append <args>', 'kernel command line for --kernel (console=ttyS0 is added unless a console= is given)')
    .option('--disk <file>', 'attach another disk (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--persist', 'write through to the image and disks (default: throw-away snapshot)')
    .addOption(new Option('--accel <accel>', 'force the accelerator (default: KVM only when a probe shows it works)').choices(['kvm', 'tcg']))
    .option('--memory <mib>', 'guest memory in MiB (default 1024)')
    .option('--cpus <n>', 'virtual CPUs (default 2)')
    .option('--cpu-model <model>', "QEMU's -cpu model (default: host under KVM, the TCG default otherwise)")
    .addOption(new Option('--tcg-thread <mode>', 'TCG only: all virtual CPUs in one host thread (single, the default) or one thread each (multi)').choices(['single', 'multi']))
    .option('--console-log <file>', 'where the timestamped console log goes (default: a file in the temporary directory)')
    .option('--show-console', 'copy the console to stderr as it arrives')
    .option('--json', 'print the report as JSON')
    .option('--debug', 'show stack traces')
    .action(async (image: string | undefined, flags: BootFlags) => {
      if (flags.debug) setDebug(true);
      const opts = bootOptionsFromFlags(image, flags);
      installSignalHandlers();
      const report = await bootImage(opts);
      process.stdout.write(flags.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : `${formatReport(report)}\n`);
      if (!report.ok) throw failed(report.message, { hint: `console log: ${report.consoleLog}` });
    });
}
