/** From BootOptions to a QemuPlan: check the input, detect formats and the accelerator, set up files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import type { Scope } from '../scope/index.js';
import { chooseAccel, type AccelDecision } from './accel.js';
import { kernelCommandLine, type QemuPlan } from './argv.js';
import { detectDisk } from './image.js';
import { isBootArch, machineFor, BOOT_ARCHES, type BootArch, type Machine } from './machine.js';
import { readSidecar } from '../publish/image.js';
import { hostArch } from '../config/parse.js';
import { findFreePort } from './session.js';
import { loadSeedInput, readPublicKey, seedFiles, writeSeedIso, type SeedInput } from './seed.js';
import { findSshKey } from './ssh.js';
import type { BootOptions, Disk } from './types.js';
import { scopedTempDir } from '../scope/temp.js';

export { DEFAULT_TIMEOUT_S } from './choices.js';

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
  bootArch(opts);
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

/**
 * The guest's architecture: --arch, else the build manifest beside the image (NAME.manifest.json, build.arch),
 * else this host's. An architecture kiln cannot boot is bad input naming the culprit.
 */
export function bootArch(opts: Pick<BootOptions, 'arch' | 'image'>): BootArch {
  const [arch, from] = opts.arch !== undefined ? [opts.arch, '--arch'] : fromManifest(opts.image) ?? [hostArch(), 'this host'];
  if (!isBootArch(arch)) throw invalid(`${from}: kiln boots ${BOOT_ARCHES.join(' and ')} guests, not "${arch}"`);
  return arch;
}

function fromManifest(image: string | undefined): [string, string] | undefined {
  if (image === undefined) return undefined;
  const sidecar = readSidecar(image);
  const arch = sidecar?.facts.build?.arch;
  return sidecar && typeof arch === 'string' ? [arch, `${sidecar.file} (build.arch)`] : undefined;
}

/** A guest of another architecture than the host's runs under TCG only. */
async function accelFor(machine: Machine, choice: BootOptions['accel']): Promise<AccelDecision> {
  if (machine.arch === hostArch()) return chooseAccel(choice ?? 'auto');
  if (choice === 'kvm') throw invalid(`--accel kvm: an ${machine.arch} guest cannot use KVM on this ${hostArch()} host (TCG emulates it)`);
  return { accel: 'tcg', reason: `${machine.arch} guest on an ${hostArch()} host` };
}

/** The firmware's code and a private copy of its variable store in the boot's directory. */
async function firmwareFor(machine: Machine, dir: string, flag: string): Promise<NonNullable<QemuPlan['efi']>> {
  for (const f of [machine.firmware.code, machine.firmware.vars]) {
    if (!fs.existsSync(f)) throw failed(`${flag}: UEFI firmware ${f} is missing`, { hint: `install the ${machine.firmware.package} package` });
  }
  const vars = path.join(dir, path.basename(machine.firmware.vars));
  await fs.promises.copyFile(machine.firmware.vars, vars);
  return { code: machine.firmware.code, vars };
}

export async function prepareBoot(opts: BootOptions, scope: Scope): Promise<Prepared> {
  checkBootOptions(opts);
  const machine = machineFor(bootArch(opts));
  if (machine.cdromInterface === 'virtio' && opts.diskInterface === 'ide') throw invalid(`--disk-interface ide: QEMU's ${machine.machine} machine (${machine.arch}) has no IDE; use virtio`);
  const disks: Disk[] = [];
  const allow = { allowBacking: opts.allowBackingFile === true };
  if (opts.image !== undefined) disks.push(await detectDisk(opts.image, 'IMAGE', allow));
  for (const d of opts.disks ?? []) disks.push(await detectDisk(d, '--disk', allow));
  const accel = await accelFor(machine, opts.accel);
  const dir = await scopedTempDir(scope, 'kiln-boot', 'remove the boot directory');
  // A disk on a machine without BIOS boots through its UEFI firmware; a kernel given with --kernel is started by QEMU itself.
  const efi = opts.efi ? await firmwareFor(machine, dir, '--efi') : machine.efiOnly && opts.kernel === undefined ? await firmwareFor(machine, dir, `an ${machine.arch} disk`) : undefined;
  const kernel =
    opts.kernel === undefined
      ? undefined
      : { file: opts.kernel, ...(opts.initrd === undefined ? {} : { initrd: opts.initrd }), append: kernelCommandLine(opts.append, machine.console) };
  const seed = checkedSeed(opts);
  let cdrom: string | undefined;
  if (seed) {
    cdrom = path.join(dir, 'seed.iso');
    const stage = path.join(dir, 'seed');
    await writeSeedIso(seedFiles(seed), stage, cdrom);
  }
  const plan: QemuPlan = {
    arch: machine.arch,
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
