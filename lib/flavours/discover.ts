import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { INSTALL_TYPE_DIR, PHASE_NAMES } from './phases.js';
import type { Flavour, FlavourIndex, HookFile } from './types.js';

/** kiln's own flavours directory (…/flavours beside lib/ and dist/). */
export function builtinFlavoursDir(): string {
  // dist/lib/flavours/discover.js → repository root is three levels up from dist/lib/flavours.
  const here = path.dirname(new URL(import.meta.url).pathname);
  return path.resolve(here, '..', '..', '..', 'flavours');
}

/** The search path: every ELEMENTS_PATH entry (earlier wins), then kiln's own flavours/. */
export function searchPaths(elementsPath: string | undefined, builtin = builtinFlavoursDir()): string[] {
  const entries = (elementsPath ?? '').split(':').filter((e) => e.trim() !== '');
  for (const entry of entries) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(entry);
    } catch {
      st = undefined;
    }
    if (!st?.isDirectory()) {
      throw invalid(`ELEMENTS_PATH entry "${entry}" is not a directory`, 'fix or remove it; entries are separated by ":"');
    }
  }
  const all = [...entries.map((e) => path.resolve(e)), builtin];
  return [...new Set(all)];
}

/** Whether a search-path entry is diskimage-builder's own elements directory (it ships package-installs-v2). */
export function isDibElementsDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'package-installs', 'bin', 'package-installs-v2'));
}

/**
 * Reads every flavour on the search path. Earlier entries override later ones of the same name, with one
 * exception: kiln's own flavour beats one of the same name from diskimage-builder's own elements directory
 * (its `vm`, `debian-minimal`, `package-installs`, … need diskimage-builder's internals; kiln's provide the
 * same contract), so that directory can be put on ELEMENTS_PATH whole. A user's own override still wins.
 */
export function discoverFlavours(paths: readonly string[], builtin = builtinFlavoursDir()): FlavourIndex {
  const index = new Map<string, Flavour>();
  const shadowed = new Map<string, string[]>();
  const dib = new Map<string, boolean>();
  const fromDib = (f: Flavour) => dib.get(f.searchPath) ?? (dib.set(f.searchPath, isDibElementsDir(f.searchPath)), dib.get(f.searchPath) as boolean);
  for (const searchPath of paths) {
    if (!fs.existsSync(searchPath)) continue;
    for (const entry of fs.readdirSync(searchPath, { withFileTypes: true }).sort(byName)) {
      if (entry.name.startsWith('.')) continue;
      const dir = path.join(searchPath, entry.name);
      if (!isDirectory(dir)) continue;
      const current = index.get(entry.name);
      if (current && path.resolve(searchPath) === path.resolve(builtin) && fromDib(current)) {
        index.set(entry.name, readFlavour(entry.name, dir, searchPath));
        shadowed.set(entry.name, [current.dir, ...(shadowed.get(entry.name) ?? [])]);
        continue;
      }
      if (current) {
        shadowed.set(entry.name, [...(shadowed.get(entry.name) ?? []), dir]);
        continue;
      }
      index.set(entry.name, readFlavour(entry.name, dir, searchPath));
    }
  }
  for (const [name, dirs] of shadowed) {
    const f = index.get(name);
    if (f) index.set(name, { ...f, overrides: dirs });
  }
  return index;
}

export function readFlavour(name: string, dir: string, searchPath: string): Flavour {
  const hooks: Record<string, HookFile[]> = {};
  for (const phase of PHASE_NAMES) {
    const entries = listDir(path.join(dir, phase));
    if (entries.length > 0) hooks[phase] = entries;
  }
  const environment = listDir(path.join(dir, 'environment.d'))
    .filter((h) => !h.directory)
    .map((h) => h.path)
    .sort();
  const installTypeDirs: Record<string, HookFile[]> = {};
  for (const e of hooks['install.d'] ?? []) if (e.directory && INSTALL_TYPE_DIR.test(e.name)) installTypeDirs[e.name] = listDir(e.path);
  const readme = ['README.md', 'README.rst', 'README'].map((r) => path.join(dir, r)).find((p) => fs.existsSync(p));
  return {
    name,
    dir,
    searchPath,
    deps: readList(path.join(dir, 'element-deps')),
    provides: readList(path.join(dir, 'element-provides')),
    hooks,
    environment,
    installTypeDirs,
    summary: readme ? firstLine(readme) : undefined,
    hasReadme: readme !== undefined,
    overrides: [],
    files: optionalFiles(dir),
  };
}

function optionalFiles(dir: string): Flavour['files'] {
  const pick = (...names: string[]) => names.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));
  const files: { packageInstalls?: string; binaryDeps?: string; init?: string; imageSpec?: string; rootfs?: string; pkgMap?: string; svcMap?: string } = {};
  const pi = pick('package-installs.yaml', 'package-installs.json');
  if (pi) files.packageInstalls = pi;
  const bd = pick('binary-deps');
  if (bd) files.binaryDeps = bd;
  const init = pick('init');
  if (init) files.init = init;
  const spec = pick('image.yaml');
  if (spec) files.imageSpec = spec;
  const rootfs = pick('rootfs.yaml');
  if (rootfs) files.rootfs = rootfs;
  const pkgMap = pick('pkg-map');
  if (pkgMap && !isDirectory(pkgMap)) files.pkgMap = pkgMap;
  const svcMap = pick('svc-map');
  if (svcMap && !isDirectory(svcMap)) files.svcMap = svcMap;
  return files;
}

/** element-deps / element-provides: one name a line; blank lines and # comments ignored. */
export function parseList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}

function readList(file: string): string[] {
  return fs.existsSync(file) ? parseList(fs.readFileSync(file, 'utf8')) : [];
}

function listDir(dir: string): HookFile[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.sort(byName).map((e) => {
    const p = path.join(dir, e.name);
    const directory = isDirectory(p);
    return { name: e.name, path: p, directory, executable: !directory && isExecutable(p) };
  });
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  try {
    return (fs.statSync(p).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function firstLine(file: string): string | undefined {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const raw of lines) {
    const line = raw.replace(/^#+\s*/, '').trim();
    if (line !== '' && !/^[=\-~^*`#:.'"+_]+$/.test(line)) return line;
  }
  return undefined;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
