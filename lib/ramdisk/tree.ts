/**
 * Paths inside a root tree, resolved the way the tree's own kernel would see them: an absolute
 * symlink points into the tree, never out to the host. Used to copy files (and the symlinks on the
 * way to them) from a built tree into a ramdisk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveInTree } from '../rootfs/paths.js';

export { resolveInTree };

/** The first of `dirs` that holds `name` (an executable file), as a path in the tree. */
export function findInTree(root: string, name: string, dirs: readonly string[]): string | undefined {
  if (name.includes('/')) return resolveInTree(root, name) ? name : undefined;
  for (const d of dirs) {
    const p = path.posix.join(d, name);
    const r = resolveInTree(root, p);
    if (r && fs.statSync(path.join(root, r.real)).isFile()) return p;
  }
  return undefined;
}

/**
 * Copies `p` from the tree into `dest` (another root) at the same path, recreating every symlink on
 * the way, so that the copy resolves exactly as the original did. Returns the canonical path.
 */
export function copyFromTree(root: string, dest: string, p: string): string {
  const r = resolveInTree(root, p);
  if (!r) throw new Error(`${p} does not exist in ${root}`);
  for (const l of r.links) {
    const at = path.join(dest, l.path);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(at);
    } catch {
      existing = undefined;
    }
    if (!existing) fs.symlinkSync(l.target, at);
  }
  const to = path.join(dest, r.real);
  if (!fs.existsSync(to)) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(root, r.real), to);
    fs.chmodSync(to, fs.statSync(path.join(root, r.real)).mode & 0o7777);
  }
  return r.real;
}
