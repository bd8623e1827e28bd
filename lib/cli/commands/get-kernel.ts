import { Command } from 'commander';
import type { GetKernelOpts } from '../actions/get-kernel.js';

/** `kiln get-kernel` / `disk-image-get-kernel`; the action loads lib/cli/actions/get-kernel.ts when it runs. */
export function getKernelCommand(name: string): Command {
  return new Command(name)
    .description('extract the newest kernel and its initrd from a built image (read-only: no mount, no loop device)')
    .argument('[image]', 'the image (qcow2, raw, vhd or vmdk)')
    .option('-i, --image <file>', 'the image (diskimage-builder spelling)')
    .option('-d, --dir <dir>', 'where to write the files', '.')
    .option('-o, --prefix <prefix>', 'file name prefix: writes PREFIX-vmlinuz and PREFIX-initrd (default: the image name)')
    .option('--json', 'print the result as JSON')
    .action(async (image: string | undefined, opts: GetKernelOpts) => (await import('../actions/get-kernel.js')).getKernel(name, image, opts));
}
