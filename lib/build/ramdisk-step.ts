/** The ramdisk build's output step: stage and pack the initramfs, copy the kernel, atomically. */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import type { Logger } from '../log/index.js';
import { writeAtomically } from '../output/atomic.js';
import { hashFile } from '../output/checksum.js';
import { writeChecksumFiles } from '../output/index.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { packRamdisk, stageRamdisk } from '../ramdisk/assemble.js';
import type { Scope } from '../scope/index.js';

export interface RamdiskResult {
  readonly kernel: string;
  readonly initramfs: string;
}

export async function writeRamdisk(
  scope: Scope,
  config: BuildConfig,
  plan: BuildPlan,
  tree: string,
  workDir: string,
  log: Logger,
  onWritten: (file: string) => void,
  epoch?: number,
): Promise<RamdiskResult> {
  const s = config.settings;
  const staging = path.join(workDir, 'ramdisk');
  fs.mkdirSync(staging, { recursive: true });
  const flavours = plan.flavours.map((f) => ({
    name: f.name,
    ...(f.files.binaryDeps ? { binaryDeps: f.files.binaryDeps } : {}),
    ...(f.files.init ? { init: f.files.init } : {}),
  }));
  const staged = await log.step('stage the ramdisk (busybox, binary-deps, modules, init)', () => stageRamdisk({ tree, staging, flavours }));
  log.info(`  kernel ${staged.kernelVersion}; ${staged.modules.length} modules; binaries: ${staged.binaries.map((b) => `${b.name} (+${b.libraries} libraries)`).join(', ')}`);
  if (staged.unknownModules.length > 0) log.info(`  not in this kernel (skipped): ${staged.unknownModules.join(', ')}`);
  const out = { kernel: `${s.output}.kernel`, initramfs: `${s.output}.initramfs` };
  await log.step(`pack the initramfs (${s.ramdiskCompression})`, () => writeAtomically(scope, out.initramfs, (tmp) => packRamdisk(staging, tmp, s.ramdiskCompression, epoch)));
  await writeAtomically(scope, out.kernel, async (tmp) => fs.copyFileSync(staged.kernel, tmp));
  for (const [format, file] of [['initramfs', out.initramfs], ['kernel', out.kernel]] as const) {
    const bytes = fs.statSync(file).size;
    log.event({ event: 'output', path: file, format, bytes });
    log.info(`  ${file}: ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    if (s.checksum) for (const f of await writeChecksumFiles(scope, file, await hashFile(file))) onWritten(f);
    onWritten(file);
  }
  return out;
}
