/**
 * Specs by name, as the seed invokes them (`image-pack --image F PLUGIN VERSION`): every directory on the
 * spec search path holds `<plugin>/<version>/image.yaml` (with its scripts beside it). The search path is
 * KILN_SPEC_PATH (colon-separated; earlier entries win), then the `specs/` directory of every flavour.
 * Also: the spec's arguments given as options (`--java-distro openjdk`), split from the operands here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { discoverFlavours, searchPaths } from '../flavours/discover.js';

export interface SpecEntry {
  readonly plugin: string;
  readonly version: string;
  readonly file: string;
}

/** KILN_SPEC_PATH entries (each must be a directory), then each flavour's specs/ directory. */
export function specRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const roots: string[] = [];
  for (const entry of (env.KILN_SPEC_PATH ?? '').split(':').filter((e) => e.trim() !== '')) {
    if (!fs.existsSync(entry) || !fs.statSync(entry).isDirectory()) throw invalid(`KILN_SPEC_PATH entry "${entry}" is not a directory`);
    roots.push(path.resolve(entry));
  }
  for (const f of discoverFlavours(searchPaths(env.ELEMENTS_PATH)).values()) {
    const dir = path.join(f.dir, 'specs');
    if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) roots.push(dir);
  }
  return [...new Set(roots)];
}

function dirsIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name)).isDirectory())))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Every plugin/version with an image.yaml; the first root that has a plugin/version wins. */
export function listSpecs(roots: readonly string[]): SpecEntry[] {
  const seen = new Map<string, SpecEntry>();
  for (const root of roots) {
    for (const plugin of dirsIn(root)) {
      for (const version of dirsIn(path.join(root, plugin))) {
        const file = path.join(root, plugin, version, 'image.yaml');
        const key = `${plugin}/${version}`;
        if (!seen.has(key) && fs.existsSync(file)) seen.set(key, { plugin, version, file });
      }
    }
  }
  return [...seen.values()].sort((a, b) => a.plugin.localeCompare(b.plugin) || a.version.localeCompare(b.version, undefined, { numeric: true }));
}

export function findSpec(roots: readonly string[], plugin: string, version: string): SpecEntry {
  const all = listSpecs(roots);
  const hit = all.find((s) => s.plugin === plugin && s.version === version);
  if (hit) return hit;
  const versions = all.filter((s) => s.plugin === plugin).map((s) => s.version);
  if (versions.length > 0) throw invalid(`spec ${plugin} ${version}: no such version (${plugin} has ${versions.join(', ')})`);
  const plugins = [...new Set(all.map((s) => s.plugin))];
  throw invalid(`spec ${plugin} ${version}: no plugin "${plugin}" on the spec path`, plugins.length > 0 ? `known: ${plugins.join(', ')} (kiln pack --list)` : 'set KILN_SPEC_PATH, or ship <plugin>/<version>/image.yaml in a flavour\'s specs/ directory');
}

export interface PackOperands {
  /** A spec file, or a plugin and version to find on the spec path. */
  readonly spec: { readonly file: string } | { readonly plugin: string; readonly version: string };
  /** Spec arguments given as `--NAME VALUE` or `--NAME=VALUE`. */
  readonly args: ReadonlyMap<string, string>;
}

/**
 * Splits what follows the options: `SPEC [--NAME VALUE…]` or `PLUGIN VERSION [--NAME VALUE…]`. A first operand
 * that names an existing file (or ends in .yaml/.yml) is a spec file; otherwise two words are plugin and version.
 */
export function splitOperands(operands: readonly string[], isFile: (p: string) => boolean): PackOperands {
  const [first, ...rest] = operands;
  if (first === undefined) throw invalid('no spec given', 'kiln pack [target] SPEC.yaml, or PLUGIN VERSION (kiln pack --list shows them)');
  if (first.startsWith('-')) throw invalid(`unknown option ${first}`);
  let spec: PackOperands['spec'];
  let i = 0;
  if (isFile(first) || /\.ya?ml$/.test(first)) spec = { file: first };
  else {
    const version = rest[0];
    if (version === undefined || version.startsWith('-')) throw invalid(`"${first}" is neither a spec file nor a plugin followed by its version`, 'kiln pack --list shows the specs on the search path');
    spec = { plugin: first, version };
    i = 1;
  }
  const args = new Map<string, string>();
  for (; i < rest.length; i++) {
    const a = rest[i] as string;
    const m = /^--([A-Za-z_][A-Za-z0-9_-]*)(?:=(.*))?$/s.exec(a);
    if (!m) throw invalid(`"${a}": expected a spec argument as --NAME VALUE`);
    const name = m[1] as string;
    let value = m[2];
    if (value === undefined) {
      value = rest[i + 1];
      if (value === undefined) throw invalid(`--${name} needs a value`);
      i += 1;
    }
    if (args.has(name)) throw invalid(`argument ${name} is given twice`);
    args.set(name, value);
  }
  return { spec, args };
}
