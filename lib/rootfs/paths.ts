/**
 * Paths inside a root tree, resolved the way the tree itself sees them: an absolute symlink points into
 * the tree, never out to the host, and `..` stops at the tree's root.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface TreePath {
  /** The canonical path inside the tree (absolute, no symlinks). */
  readonly real: string;
  /** Every symlink crossed on the way, in order: its path in the tree and its target as written. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

const MAX_LINKS = 40;

/**
 * Resolves `p` (absolute, inside the tree) following symlinks within `root`; undefined if it does not
 * exist (or loops). With `missingOk`, components that do not exist are kept as written.
 */
export function resolveInTree(root: string, p: string, missingOk = false): TreePath | undefined {
  const links: { path: string; target: string }[] = [];
  let pending = p.split('/').filter((c) => c !== '' && c !== '.');
  let done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '..') {
      done.pop();
      continue;
    }
    const inTree = `/${[...done, c].join('/')}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(root, inTree));
    } catch {
      if (!missingOk) return undefined;
      done.push(c);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_LINKS) return undefined;
      const target = fs.readlinkSync(path.join(root, inTree));
      if (!links.some((l) => l.path === inTree)) links.push({ path: inTree, target });
      const rest = target.split('/').filter((x) => x !== '' && x !== '.');
      if (target.startsWith('/')) done = [];
      pending = [...rest, ...pending];
      continue;
    }
    done.push(c);
  }
  return { real: `/${done.join('/')}`, links };
}

