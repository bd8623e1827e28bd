/** A path inside a root tree as the tree itself sees it (symlinks followed within the root). */
import path from 'node:path';
import { resolveInTree } from '../../rootfs/paths.js';

export function resolveInRoot(root: string, inside: string): string {
  const r = resolveInTree(root, inside, true);
  if (!r) throw new Error(`too many symbolic links resolving ${inside} in ${root}`);
  return path.join(root, r.real);
}
