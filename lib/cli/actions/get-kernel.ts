/** `kiln get-kernel` / `disk-image-get-kernel`: what runs once the options are parsed (loaded only then). */
import path from 'node:path';
import { invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { extractKernel } from '../../inspect/kernel.js';
import { withoutImageExtension } from '../../boot/image.js';
import { withScope } from '../../scope/index.js';

/** The default prefix: the image's name without its extension. */
export function defaultPrefix(image: string): string {
  return withoutImageExtension(path.basename(image));
}

export interface GetKernelOpts {
  image?: string;
  dir: string;
  prefix?: string;
  json?: boolean;
}

/** The action; `name` is the command's (for the usage line). */
export async function getKernel(name: string, image: string | undefined, opts: GetKernelOpts): Promise<void> {
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
}
