import fs from 'node:fs';
import { Command } from 'commander';
import { invalid } from '../../errors/index.js';
import { notYet } from './build.js';

function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file)) throw invalid(`${what} "${file}" does not exist`);
}

export function getKernelCommand(name: string): Command {
  return new Command(name)
    .description('extract the newest kernel and its initrd from a built image')
    .argument('[image]', 'the image (qcow2 or raw)')
    .option('-i, --image <file>', 'the image (diskimage-builder spelling)')
    .option('-d, --dir <dir>', 'where to write the files', '.')
    .option('-o, --prefix <prefix>', 'file name prefix (default: the image name)')
    .action((image: string | undefined, opts: { image?: string }) => {
      const file = image ?? opts.image;
      if (!file) throw invalid('no image given', `usage: ${name} [-d DIR] [-o PREFIX] IMAGE`);
      requireFile(file, 'image');
      throw notYet('kernel extraction', 'Ramdisks: ramdisk-image-create, the deploy round trip, disk-image-get-kernel');
    });
}
