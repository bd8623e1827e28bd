/**
 * An image's /dev is an empty directory in every output and every mode: the booted system's /dev is devtmpfs
 * (the initramfs mounts it), and while hooks run the chroot binds the host's. So the static nodes of a base
 * tarball (mmdebstrap's /dev/null, /dev/console, …), which a rootless build cannot mknod, are left out of a
 * root build's image too, with the links and directories beside them: root and rootless disks are the same
 * bytes, and the ext4 and squashfs hold what the tar holds (it has always left /dev's contents out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed } from '../errors/index.js';
import { mountsUnder } from '../mount/index.js';

/** Removes everything below the tree's /dev (a real directory only; a link is the tree's business) and returns how many entries there were. */
export function emptyImageDev(tree: string): number {
  const dev = path.join(tree, 'dev');
  const st = fs.lstatSync(dev, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return 0;
  // Never through a mount: the host's /dev bound there would be emptied.
  const mounted = mountsUnder(fs.realpathSync(dev));
  if (mounted.length > 0) throw failed(`the tree's /dev is still mounted (${mounted.join(', ')}); not emptying it`);
  const names = fs.readdirSync(dev);
  for (const name of names) fs.rmSync(path.join(dev, name), { recursive: true, force: true });
  return names.length;
}
