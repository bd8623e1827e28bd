/**
 * Paths inside a root tree, resolved the way the tree itself sees them: an absolute symlink points into
 * the tree, never out to the host, and `..` stops at the tree's root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';

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


/**
 * The host path of `inside` in the tree at `root`, every symlink on the way followed as the tree sees it
 * (an absolute link names a path in the tree, `..` stops at its root), so opening, writing, renaming or
 * mounting on it never reaches out of the tree. With `keepLast`, the last component is kept as it is (a
 * symlink there is the entry itself: for renaming or removing it). Missing components are kept as written.
 * A symlink loop is bad input (exit 2) naming the tree and the path.
 */
export function hostPath(root: string, inside: string, opts: { keepLast?: boolean } = {}): string {
  const parts = inside.split('/').filter((c) => c !== '' && c !== '.');
  const last = opts.keepLast && parts.length > 0 && parts[parts.length - 1] !== '..' ? parts.pop() : undefined;
  const r = resolveInTree(root, `/${parts.join('/')}`, true);
  if (!r) throw invalid(`tree ${root}: /${inside.replace(/^\/+/, '')} cannot be resolved inside it (a loop of symbolic links)`, 'fix or remove the links in the tree');
  return last === undefined ? path.join(root, r.real) : path.join(root, r.real, last);
}

/** Whether `inside` exists in the tree (symlinks followed within it). */
export function existsInTree(root: string, inside: string): boolean {
  return resolveInTree(root, inside) !== undefined;
}

/**
 * Writes a file into the tree: its directory resolved inside the tree (and made), whatever was at the
 * name (a file, or a symlink that could lead out) replaced, never written through.
 */
export function writeInTree(root: string, inside: string, content: string | Buffer, mode = 0o644): string {
  const p = hostPath(root, inside, { keepLast: true });
  fs.mkdirSync(path.dirname(p), { recursive: true });
  if (fs.lstatSync(p, { throwIfNoEntry: false })?.isDirectory() === false) fs.unlinkSync(p);
  fs.writeFileSync(p, content, { mode, flag: 'wx' });
  fs.chmodSync(p, mode);
  return p;
}
