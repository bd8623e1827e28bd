/** After the build: --boot proves the image boots; IMAGE_BLOCK_DEVICE receives the raw disk. */
import path from 'node:path';
import { bootImage, formatReport } from '../boot/index.js';
import { failed } from '../errors/index.js';
import { run } from '../exec/index.js';
import type { Logger } from '../log/index.js';
import { formatKind, type Format } from '../output/formats.js';

export interface Built {
  readonly layout: 'mbr' | 'efi';
  readonly outputs: readonly { format: Format; path: string }[];
  readonly ramdisk?: { readonly kernel: string; readonly initramfs: string };
}

export async function bootBuilt(result: Built, name: string, log: Logger): Promise<void> {
  if (result.ramdisk) return bootRamdisk(result.ramdisk, name, log);
  const disk = result.outputs.find((o) => o.format === 'qcow2') ?? result.outputs.find((o) => formatKind(o.format) === 'disk');
  if (!disk) throw failed('--boot: this build wrote no disk image to boot (add a qcow2 or raw output)');
  const image = path.resolve(disk.path);
  const consoleLog = `${path.resolve(name)}.console.log`;
  log.info(`▶ boot ${disk.path} in QEMU (${result.layout === 'efi' ? 'UEFI' : 'BIOS'}); console log: ${consoleLog}`);
  const report = await bootImage({ image, efi: result.layout === 'efi', timeoutS: 600, consoleLog });
  for (const line of formatReport(report).split('\n')) log.info(`  ${line}`);
  if (!report.ok) throw failed(`--boot: ${disk.path} did not boot: ${report.message}`, { detail: `console log: ${consoleLog}` });
}

/** Writes the assembled raw disk onto the device a block-device.d hook named. */
export async function copyToDevice(raw: string, device: string): Promise<void> {
  await run('dd', [`if=${raw}`, `of=${device}`, 'bs=4M', 'conv=sparse,fsync', 'status=none'], { label: `write to ${device}` });
}

/** A ramdisk proves itself by reaching its /init (kiln's default part prints a recognisable line). */
async function bootRamdisk(r: { kernel: string; initramfs: string }, name: string, log: Logger): Promise<void> {
  const consoleLog = `${path.resolve(name)}.console.log`;
  log.info(`▶ boot ${r.kernel} + ${r.initramfs} in QEMU; console log: ${consoleLog}`);
  const report = await bootImage({ kernel: path.resolve(r.kernel), initrd: path.resolve(r.initramfs), expect: /^kiln ramdisk: init on kernel /, timeoutS: 300, consoleLog });
  for (const line of formatReport(report).split('\n')) log.info(`  ${line}`);
  if (!report.ok) throw failed(`--boot: the ramdisk did not reach its init: ${report.message}`, { detail: `console log: ${consoleLog}` });
}
