import fs from 'node:fs';
import { Command } from 'commander';
import { invalid } from '../../errors/index.js';
import { parseSeconds } from '../../config/parse.js';
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

export function packCommand(name: string): Command {
  return new Command(name)
    .description('check (--test-only) or bring an image, a root tree or a live host to a declarative spec')
    .argument('<spec>', 'the YAML image spec')
    .option('--image <file>', 'target: an image file (qcow2 or raw)')
    .option('--root <dir>', 'target: a root tree')
    .option('--ssh <host>', 'target: a live host over SSH ([user@]host[:port])')
    .option('--test-only', 'only check; change nothing')
    .option('--arg <name=value>', 'a spec argument (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action((spec: string, opts: { image?: string; root?: string; ssh?: string; arg?: string[] }) => {
      const targets = [opts.image, opts.root, opts.ssh].filter((t) => t !== undefined);
      if (targets.length !== 1) throw invalid('name exactly one target: --image FILE, --root DIR or --ssh HOST');
      requireFile(spec, 'spec');
      if (opts.image) requireFile(opts.image, 'image');
      if (opts.root) requireFile(opts.root, 'root tree');
      for (const a of opts.arg ?? []) if (!/^[A-Za-z_][A-Za-z0-9_-]*=/.test(a)) throw invalid(`--arg "${a}" is not NAME=VALUE`);
      throw notYet('image specs', 'image-pack: declarative image specs against images, root trees and live hosts');
    });
}

export function bootCommand(): Command {
  return new Command('boot')
    .description('boot an image in QEMU and report when it reaches a login prompt')
    .argument('<image>', 'the image to boot')
    .option('--ssh', 'also log in over SSH with the local key')
    .option('--timeout <seconds>', 'give up after this long', '300')
    .option('--expect <regex>', 'console line that means success (default: a login prompt)')
    .option('--efi', 'boot with UEFI firmware (OVMF)')
    .action((image: string, opts: { timeout: string; expect?: string }) => {
      requireFile(image, 'image');
      parseSeconds(opts.timeout, '--timeout');
      if (opts.expect !== undefined) {
        try {
          new RegExp(opts.expect);
        } catch (e) {
          throw invalid(`--expect: "${opts.expect}" is not a regular expression (${(e as Error).message})`);
        }
      }
      throw notYet('booting images', 'Bootable disk images in every format, first-boot.d, and proof by booting them');
    });
}
