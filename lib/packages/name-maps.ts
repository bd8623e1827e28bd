/**
 * diskimage-builder's per-element name maps, resolved for one build's distribution:
 *
 *   pkg-map (JSON):   { "default": {name: pkg}, "family": {debian: {…}}, "distro": {debian: {…}},
 *                       "release": {debian: {bookworm: {…}}} }   later levels override earlier ones;
 *                     a name mapped to "" is dropped; an unmapped name passes unchanged (--missing-ok).
 *   svc-map (YAML):   { service: {default: name, debian: name, …} }   distro, then family, then default.
 *
 * Parsing and resolving are pure; errors name the flavour and the file.
 */
import YAML from 'yaml';
import { invalid } from '../errors/index.js';
import { parseError } from './installs.js';

export type NameMap = ReadonlyMap<string, string>;

/** The family diskimage-builder groups a distribution into. */
export function osFamily(distro: string): string | undefined {
  if (['fedora', 'rhel', 'rhel7', 'centos', 'centos7', 'rocky'].includes(distro)) return 'redhat';
  if (['debian', 'ubuntu'].includes(distro)) return 'debian';
  if (distro === 'opensuse') return 'suse';
  if (distro === 'gentoo') return 'gentoo';
  return undefined;
}

type Level = Record<string, unknown>;

export function resolvePkgMap(text: string, file: string, flavour: string, distro: string, release: string): NameMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid(`[${flavour}] ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw invalid(`[${flavour}] ${file}: expected a JSON object with default/family/distro/release maps`);
  const levels: [string, unknown][] = [
    ['default', doc.default],
    [`family.${osFamily(distro) ?? '?'}`, isObject(doc.family) ? doc.family[osFamily(distro) ?? ''] : undefined],
    [`distro.${distro}`, isObject(doc.distro) ? doc.distro[distro] : undefined],
    [`release.${distro}.${release}`, isObject(doc.release) && isObject(doc.release[distro]) ? doc.release[distro][release] : undefined],
  ];
  const out = new Map<string, string>();
  for (const [where, level] of levels) {
    if (level === undefined || level === null) continue;
    if (!isObject(level)) throw invalid(`[${flavour}] ${file}: "${where}" must map package names to names`);
    for (const [name, to] of Object.entries(level)) {
      if (typeof to !== 'string') throw invalid(`[${flavour}] ${file}: "${where}.${name}" must be a string (empty to drop the package)`);
      out.set(name, to);
    }
  }
  return out;
}

/** Maps names as `pkg-map --missing-ok` does: mapped, dropped when mapped to "", or unchanged. */
export function mapNames(names: readonly string[], map: NameMap | undefined): string[] {
  if (!map) return [...names];
  return names.flatMap((n) => {
    const to = map.get(n);
    if (to === undefined) return [n];
    return to.split(/\s+/).filter((w) => w !== '');
  });
}

/** Merges the flavours' svc-map files (in build order) for one distribution; a service named twice is an error. */
export function resolveSvcMaps(files: readonly { text: string; file: string; flavour: string }[], distro: string): NameMap {
  const family = osFamily(distro);
  const out = new Map<string, string>();
  const from = new Map<string, string>();
  for (const { text, file, flavour } of files) {
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch (e) {
      throw parseError(e, file, flavour);
    }
    if (doc === null || doc === undefined) continue;
    if (!isObject(doc)) throw invalid(`[${flavour}] ${file}: expected a map of service names`);
    for (const [service, mapping] of Object.entries(doc)) {
      const prior = from.get(service);
      if (prior) throw invalid(`[${flavour}] ${file}: service "${service}" is already mapped by flavour "${prior}"`);
      from.set(service, flavour);
      const m = isObject(mapping) ? mapping : {};
      const pick = [distro, family ?? '', 'default'].find((k) => k !== '' && typeof m[k] === 'string');
      out.set(service, pick ? String(m[pick]) : service);
    }
  }
  return out;
}

/** A resolved map as staged for the in-tree helpers: one "name<TAB>mapped" line each. */
export function mapFileText(map: NameMap): string {
  return [...map].map(([k, v]) => `${k}\t${v}\n`).join('');
}

function isObject(v: unknown): v is Level {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
