/** From BootOptions to a QemuPlan: check the input, detect formats and the accelerator, set up files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import type { Scope } from '../scope/index.js';
import { chooseAccel, type AccelDecision } from './accel.js';
import { OVMF_CODE, OVMF_VARS, kernelCommandLine, type QemuPlan } from './argv.js';
import { detectDisk } from './image.js';
import { findFreePort } from './session.js';
import { loadSeedInput, readPublicKey, seedFiles, writeSeedIso, type SeedInput } from './seed.js';
import { findSshKey } from './ssh.js';
import type { BootOptions, Disk } from './types.js';
import { scopedTempDir } from '../scope/temp.js';

export const DEFAULT_TIMEOUT_S = 300;

function requireFile(file: string, flag: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw invalid(`${flag}: "${file}" does not exist`);
  }
  if (!st.isFile() && !st.isBlockDevice()) throw invalid(`${flag}: "${file}" is not a file`);
}

/** Checks what can be checked without running anything; every error names the flag to fix (exit 2). */
export function checkBootOptions(opts: BootOptions): void {
  if (opts.image !== undefined) requireFile(opts.image, 'IMAGE');
  if (opts.kernel !== undefined) requireFile(opts.kernel, '--kernel');
  if (opts.initrd !== undefined) {
    if (opts.kernel === undefined) throw invalid('--initrd needs --kernel');
    requireFile(opts.initrd, '--initrd');
  }
  if (opts.append !== undefined && opts.kernel === undefined) throw invalid('--append needs --kernel');
  if (opts.image === undefined && opts.kernel === undefined) throw invalid('nothing to boot: name an IMAGE or --kernel FILE');
  for (const d of opts.disks ?? []) requireFile(d, '--disk');
  if (opts.timeoutS !== undefined && !(opts.timeoutS > 0)) throw invalid(`--timeout: "${opts.timeoutS}" is not a positive number of seconds`);
  if (opts.memoryMb !== undefined && !(Number.isInteger(opts.memoryMb) && opts.memoryMb >= 64)) throw invalid(`--memory: "${opts.memoryMb}" is not a size in MiB (at least 64)`);
  if (opts.cpus !== undefined && !(Number.isInteger(opts.cpus) && opts.cpus >= 1)) throw invalid(`--cpus: "${opts.cpus}" is not a positive integer`);
  if (opts.cpuModel !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*(,[+-]?[A-Za-z0-9_.=-]+)*$/.test(opts.cpuModel)) {
    throw invalid(`--cpu-model: "${opts.cpuModel}" is not a QEMU CPU model (e.g. max, qemu64, Haswell,-hle; qemu-system-x86_64 -cpu help lists them)`);
  }
  if (opts.sshKey !== undefined) requireFile(opts.sshKey, '--ssh-key');
  if (opts.ssh) findSshKey(opts.sshKey);
  if (opts.seed) checkedSeed(opts);
}

/** The metadata drive's input: the user's files read and checked, and the public key of the SSH key in use. */
function checkedSeed(opts: BootOptions): SeedInput | undefined {
  if (!opts.seed) return undefined;
  const key = opts.sshKey ?? (opts.ssh ? findSshKey(undefined) : undefined);
  return loadSeedInput(opts.seed, key === undefined ? [] : [readPublicKey(key)]);
}

export interface Prepared {
  readonly plan: QemuPlan;
  readonly accel: AccelDecision;
}

export async function prepareBoot(opts: BootOptions, scope: Scope): Promise<Prepared> {
  checkBootOptions(opts);
  const disks: Disk[] = [];
  const allow = { allowBacking: opts.allowBackingFile === true };
  if (opts.image !== undefined) disks.push(await detectDisk(opts.image, 'IMAGE', allow));
  for (const d of opts.disks ?? []) disks.push(await detectDisk(d, '--disk', allow));
  const accel = await chooseAccel(opts.accel ?? 'auto');
  const dir = await scopedTempDir(scope, 'kiln-boot', 'remove the boot directory');
  let efi: QemuPlan['efi'];
  if (opts.efi) {
    for (const f of [OVMF_CODE, OVMF_VARS]) {
      if (!fs.existsSync(f)) throw failed(`--efi: UEFI firmware ${f} is missing`, { hint: 'install the ovmf package' });
    }
    const vars = path.join(dir, 'OVMF_VARS.fd');
    await fs.promises.copyFile(OVMF_VARS, vars);
    efi = { code: OVMF_CODE, vars };
  }
  const kernel =
    opts.kernel === undefined
      ? undefined
      : { file: opts.kernel, ...(opts.initrd === undefined ? {} : { initrd: opts.initrd }), append: kernelCommandLine(opts.append) };
  const seed = checkedSeed(opts);
  let cdrom: string | undefined;
  if (seed) {
    cdrom = path.join(dir, 'seed.iso');
    const stage = path.join(dir, 'seed');
    await writeSeedIso(seedFiles(seed), stage, cdrom);
  }
  const plan: QemuPlan = {
    accel: accel.accel,
    memoryMb: opts.memoryMb ?? 1024,
    cpus: opts.cpus ?? Math.min(2, os.availableParallelism()),
    ...(opts.cpuModel !== undefined ? { cpuModel: opts.cpuModel } : {}),
    ...(opts.tcgThread !== undefined ? { tcgThread: opts.tcgThread } : {}),
    disks,
    diskInterface: opts.diskInterface ?? 'virtio',
    persist: opts.persist ?? false,
    ...(efi ? { efi } : {}),
    ...(kernel ? { kernel } : {}),
    ...(cdrom !== undefined ? { cdrom } : {}),
    sshPort: await findFreePort(),
    qmpSocket: path.join(dir, 'qmp.sock'),
  };
  return { plan, accel };
}
