import path from 'node:path';
import { Command } from 'commander';
import { invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { extractKernel } from '../../inspect/kernel.js';
import { withoutImageExtension } from '../../boot/image.js';
import { withScope } from '../../scope/index.js';

/** The default prefix: the image's name without its extension. */
export function defaultPrefix(image: string): string {
  return withoutImageExtension(path.basename(image));
}

export function getKernelCommand(name: string): Command {
  return new Command(name)
    .description('extract the newest kernel and its initrd from a built image (read-only: no mount, no loop device)')
    .argument('[image]', 'the image (qcow2, raw, vhd or vmdk)')
    .option('-i, --image <file>', 'the image (diskimage-builder spelling)')
    .option('-d, --dir <dir>', 'where to write the files', '.')
    .option('-o, --prefix <prefix>', 'file name prefix: writes PREFIX-vmlinuz and PREFIX-initrd (default: the image name)')
    .option('--json', 'print the result as JSON')
    .action(async (image: string | undefined, opts: { image?: string; dir: string; prefix?: string; json?: boolean }) => {
      const file = image ?? opts.image;
      if (!file) throw invalid('no image given', `usage: ${name} [-d DIR] [-o PREFIX] IMAGE`);
      const prefix = opts.prefix ?? defaultPrefix(file);
      if (prefix === '' || prefix.includes('/')) throw invalid(`-o ${prefix}: a prefix is a file name, not a path (use -d for the directory)`);
      installSignalHandlers();
      const r = await withScope((scope) => extractKernel(scope, file, opts.dir, prefix));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } else {
        process.stdout.write(`${r.kernel}\n${r.initrd}\n`);
        process.stderr.write(`kernel ${r.version}${r.uuid ? `; boot it with root=UUID=${r.uuid}` : ''}\n`);
      }
    });
}
