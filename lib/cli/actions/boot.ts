/** `kiln boot`: what runs once the options are parsed (loaded only then). */
import { bootImage } from '../../boot/run.js';
import { checkBootOptions, DEFAULT_TIMEOUT_S } from '../../boot/prepare.js';
import { formatReport, reportJson } from '../../boot/report.js';
import type { SeedKind } from '../../boot/seed.js';
import type { AccelChoice, BootOptions, TcgThread } from '../../boot/types.js';
import { failed, invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { setDebug } from '../state.js';
import { debianArch } from '../../distro/arch.js';

export interface BootFlags {
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

/** `kiln boot`'s action. */
export async function boot(image: string | undefined, flags: BootFlags): Promise<void> {
  if (flags.debug) setDebug(true);
  const opts = bootOptionsFromFlags(image, flags);
  installSignalHandlers();
  const report = await bootImage(opts);
  process.stdout.write(flags.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : `${formatReport(report)}\n`);
  if (!report.ok) throw failed(report.message, { hint: `console log: ${report.consoleLog}` });
}
