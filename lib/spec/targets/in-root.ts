/**
 * Resolves a path inside a root tree the way the tree itself would see it: symlinks are followed
 * relative to the root (an absolute link `/usr/lib/os-release` stays inside), `..` stops at the root.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINKS = 40;

export function resolveInRoot(root: string, inside: string): string {
  let parts = inside.split('/').filter((p) => p !== '' && p !== '.');
  let current: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      current.pop();
      continue;
    }
    const host = path.join(root, ...current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(host);
    } catch {
      stat = undefined;
    }
    if (stat?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`too many symbolic links resolving ${inside} in ${root}`);
      const target = fs.readlinkSync(host);
      if (target.startsWith('/')) current = [];
      parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
      continue;
    }
    current.push(part);
  }
  return path.join(root, ...current);
}
