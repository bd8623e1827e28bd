import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

/** A hook entry: an executable script, a non-executable file, or a directory. */
export type HookSpec = 'exec' | 'plain' | 'dir' | string;

export interface FlavourSpec {
  deps?: string[];
  provides?: string[];
  readme?: string;
  hooks?: Record<string, Record<string, HookSpec>>;
  environment?: Record<string, string>;
}

/** Creates flavour trees under a fresh temporary directory: one subdirectory per search-path entry. */
export function makeTree(layout: Record<string, Record<string, FlavourSpec>>): { root: string; dirs: Record<string, string> } {
  const root = tempDir('unit');
  const dirs: Record<string, string> = {};
  for (const [entry, flavours] of Object.entries(layout)) {
    const base = path.join(root, entry);
    fs.mkdirSync(base, { recursive: true });
    dirs[entry] = base;
    for (const [name, spec] of Object.entries(flavours)) writeFlavour(path.join(base, name), spec);
  }
  return { root, dirs };
}

export function writeFlavour(dir: string, spec: FlavourSpec): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), spec.readme ?? `# ${path.basename(dir)}\n`);
  if (spec.deps) fs.writeFileSync(path.join(dir, 'element-deps'), `${spec.deps.join('\n')}\n`);
  if (spec.provides) fs.writeFileSync(path.join(dir, 'element-provides'), `${spec.provides.join('\n')}\n`);
  for (const [phase, hooks] of Object.entries(spec.hooks ?? {})) {
    fs.mkdirSync(path.join(dir, phase), { recursive: true });
    for (const [name, kind] of Object.entries(hooks)) {
      const p = path.join(dir, phase, name);
      if (kind === 'dir') fs.mkdirSync(p);
      else if (kind === 'plain') fs.writeFileSync(p, '#!/bin/sh\n');
      else fs.writeFileSync(p, kind === 'exec' ? '#!/bin/bash\nset -eu -o pipefail\n' : kind, { mode: 0o755 });
    }
  }
  for (const [name, text] of Object.entries(spec.environment ?? {})) {
    fs.mkdirSync(path.join(dir, 'environment.d'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'environment.d', name), text);
  }
}

export function removeTree(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
}
