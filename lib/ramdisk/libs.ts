/**
 * The shared libraries an executable needs, resolved from its ELF headers against the tree's own
 * library path (DT_RPATH/DT_RUNPATH with $ORIGIN, /etc/ld.so.conf, the default directories), the way
 * the tree's dynamic loader would resolve them, recursively.
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { readElfDeps, isElf, type ElfDeps } from './elf.js';
import { resolveInTree } from './tree.js';
import { hostPath } from '../rootfs/paths.js';

/** The directories of /etc/ld.so.conf (with its `include` globs), in order. */
export function ldSoConfDirs(root: string, file = '/etc/ld.so.conf', seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  let text: string;
  try {
    text = fs.readFileSync(hostPath(root, file), 'utf8');
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const inc = /^include\s+(.+)$/.exec(line);
    if (inc) {
      for (const pattern of (inc[1] as string).split(/\s+/)) {
        const abs = pattern.startsWith('/') ? pattern : path.posix.join(path.posix.dirname(file), pattern);
        const matches = fg.sync(abs.replace(/^\//, ''), { cwd: root, onlyFiles: false }).sort();
        for (const m of matches) dirs.push(...ldSoConfDirs(root, `/${m}`, seen));
      }
    } else {
      dirs.push(...line.split(/[:\s,]+/).filter((d) => d.startsWith('/')));
    }
  }
  return dirs;
}

function defaultDirs(cls: 32 | 64): string[] {
  return cls === 64 ? ['/lib64', '/usr/lib64', '/lib', '/usr/lib'] : ['/lib', '/usr/lib'];
}

function elfAt(root: string, p: string): ElfDeps | undefined {
  const r = resolveInTree(root, p);
  if (!r) return undefined;
  const file = path.join(root, r.real);
  let buf: Buffer;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  return isElf(buf) ? readElfDeps(buf, p) : undefined;
}

export interface Closure {
  /** Paths in the tree (as referenced: symlinks are followed when copying) of the executable and every library. */
  readonly files: readonly string[];
  /** NEEDED names that nothing on the tree's library path provides. */
  readonly missing: readonly { readonly by: string; readonly name: string }[];
}

/** The executable plus every library (and the loader) it needs, transitively. */
export function libraryClosure(root: string, executable: string, confDirs: readonly string[] = ldSoConfDirs(root)): Closure {
  const files: string[] = [];
  const missing: { by: string; name: string }[] = [];
  const seen = new Set<string>();
  const queue: { path: string; elf: ElfDeps }[] = [];
  // Each candidate is looked at while searching and again when added: read and parse it once.
  const parsed = new Map<string, ElfDeps | undefined>();
  const elfOf = (p: string): ElfDeps | undefined => {
    if (!parsed.has(p)) parsed.set(p, elfAt(root, p));
    return parsed.get(p);
  };
  const add = (p: string): ElfDeps | undefined => {
    const key = resolveInTree(root, p)?.real ?? p;
    if (seen.has(key)) return undefined;
    seen.add(key);
    files.push(p);
    const elf = elfOf(p);
    if (elf) queue.push({ path: p, elf });
    return elf;
  };
  add(executable);
  while (queue.length > 0) {
    const { path: p, elf } = queue.shift() as { path: string; elf: ElfDeps };
    if (elf.interpreter) add(elf.interpreter);
    const origin = path.posix.dirname(p);
    const expand = (dirs: readonly string[]) => dirs.map((d) => d.replace(/\$\{?ORIGIN\}?/g, origin));
    const search = [...(elf.runpath.length === 0 ? expand(elf.rpath) : []), ...expand(elf.runpath), ...confDirs, ...defaultDirs(elf.class)];
    for (const name of elf.needed) {
      const found = name.includes('/') ? (elfOf(name) ? name : undefined) : search.map((d) => path.posix.join(d, name)).find((c) => elfOf(c)?.class === elf.class);
      if (found) add(found);
      else missing.push({ by: p, name });
    }
  }
  return { files, missing };
}
