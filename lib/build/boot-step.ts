/**
 * After the build: --boot proves the image boots (a cloud image: its metadata path too); IMAGE_BLOCK_DEVICE
 * receives the raw disk.
 */
import path from 'node:path';
import { bootImage, formatReport } from '../boot/index.js';
import { findSshKey } from '../boot/ssh.js';
import { CLOUD_INIT_DEFAULT_USER } from '../distro/index.js';
import type { BootOptions } from '../boot/types.js';
import { readSidecar } from '../publish/image.js';
import { failed } from '../errors/index.js';
import { run } from '../exec/index.js';
import type { Logger } from '../log/index.js';
import { formatKind, type Format } from '../output/formats.js';

export interface Built {
  readonly layout: 'mbr' | 'efi';
  readonly outputs: readonly { format: Format; path: string }[];
  readonly ramdisk?: { readonly kernel: string; readonly initramfs: string };
}

/** `arch`: the build's architecture, the machine the ramdisk boots on (a disk's is read from its manifest). */
export async function bootBuilt(result: Built, name: string, log: Logger, arch: string): Promise<void> {
  if (result.ramdisk) return bootRamdisk(result.ramdisk, name, log, arch);
  const disk = result.outputs.find((o) => o.format === 'qcow2') ?? result.outputs.find((o) => formatKind(o.format) === 'disk');
  if (!disk) throw failed('--boot: this build wrote no disk image to boot (add a qcow2 or raw output)');
  const image = path.resolve(disk.path);
  const consoleLog = `${path.resolve(name)}.console.log`;
  log.info(`▶ boot ${disk.path} in QEMU (${result.layout === 'efi' ? 'UEFI' : 'BIOS'}); console log: ${consoleLog}`);
  const installed = new Set((readSidecar(image)?.facts.packages ?? []).map((p) => p.name));
  let key: string | undefined;
  try {
    key = findSshKey(undefined);
  } catch {
    key = undefined;
  }
  const opts = bootOptionsForBuilt({ image, efi: result.layout === 'efi', consoleLog, cloudInit: installed.has('cloud-init'), ...(key ? { sshKey: key } : {}) });
  if (opts.seed) log.info(`  with an OpenStack config drive${opts.ssh ? `, then SSH as ${opts.sshUser} with ${key}` : ''}`);
  const report = await bootImage(opts);
  for (const line of formatReport(report).split('\n')) log.info(`  ${line}`);
  if (!report.ok) throw failed(`--boot: ${disk.path} did not boot: ${report.message}`, { detail: `console log: ${consoleLog}` });
}

/** cloud-init's default user in kiln's default image (a Debian one). */
export const CLOUD_USER = CLOUD_INIT_DEFAULT_USER.debian as string;
/** The login prompt (the runner's own milestone): waited for before SSH, so the report shows both. */
const LOGIN_PROMPT = /^\s*[\w.-]+ login: ?/;

/**
 * How --boot boots a built disk: to a login prompt; an image with cloud-init gets a config drive (made-up
 * instance id and hostname, the local public key) and, when there is a local key, an SSH login as the default
 * user with passwordless sudo after the prompt.
 */
export function bootOptionsForBuilt(o: { image: string; efi: boolean; consoleLog: string; cloudInit: boolean; sshKey?: string }): BootOptions {
  const base: BootOptions = { image: o.image, efi: o.efi, timeoutS: 600, consoleLog: o.consoleLog };
  if (!o.cloudInit) return base;
  if (o.sshKey === undefined) return { ...base, seed: { kind: 'config-drive' } };
  return { ...base, seed: { kind: 'config-drive' }, expect: LOGIN_PROMPT, ssh: true, sshKey: o.sshKey, sshUser: CLOUD_USER, sshCommand: 'sudo -n true' };
}

/** Writes the assembled raw disk onto the device a block-device.d hook named. */
export async function copyToDevice(raw: string, device: string): Promise<void> {
  await run('dd', [`if=${raw}`, `of=${device}`, 'bs=4M', 'conv=sparse,fsync', 'status=none'], { label: `write to ${device}` });
}

/** A ramdisk proves itself by reaching its /init (kiln's default part prints a recognisable line). */
async function bootRamdisk(r: { kernel: string; initramfs: string }, name: string, log: Logger, arch: string): Promise<void> {
  const consoleLog = `${path.resolve(name)}.console.log`;
  log.info(`▶ boot ${r.kernel} + ${r.initramfs} in QEMU; console log: ${consoleLog}`);
  const report = await bootImage({ kernel: path.resolve(r.kernel), initrd: path.resolve(r.initramfs), arch, expect: /^kiln ramdisk: init on kernel /, timeoutS: 300, consoleLog });
  for (const line of formatReport(report).split('\n')) log.info(`  ${line}`);
  if (!report.ok) throw failed(`--boot: the ramdisk did not reach its init: ${report.message}`, { detail: `console log: ${consoleLog}` });
}
