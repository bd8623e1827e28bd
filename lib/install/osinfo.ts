/**
 * What kiln knows about installable operating systems, read from libosinfo's database (Debian's `osinfo-db`,
 * /usr/share/osinfo): names and short ids, distribution and codename, minimum and recommended RAM and disk,
 * the network-install trees and media (kernel and initrd inside them), and which automation the installer
 * takes. Debian 12 is missing from the database Debian 12 ships; kiln derives it from Debian 11's entry (the
 * same installer and preseed) and says so. Pure over the files it reads.
 */
import fs from 'node:fs';
import fg from 'fast-glob';
import { XMLParser } from 'fast-xml-parser';
import type { AutomationKind } from './automation.js';

export const OSINFO_DB = '/usr/share/osinfo';

export interface InstallerSource {
  readonly arch: string;
  /** A tree's base URL, or an ISO's URL. */
  readonly url: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly variant?: string;
}

export interface OsEntry {
  readonly id: string;
  readonly shortIds: readonly string[];
  readonly name: string;
  readonly version: string;
  readonly distro: string;
  readonly codename: string | undefined;
  /** The automation the installer takes, when kiln can render it. */
  readonly automation: AutomationKind | undefined;
  readonly resources: { readonly minRamMb?: number; readonly recRamMb?: number; readonly minDiskGb?: number; readonly recDiskGb?: number };
  readonly trees: readonly InstallerSource[];
  readonly media: readonly InstallerSource[];
  /** Set when kiln made this entry from another (the database lacks it). */
  readonly derivedFrom?: string;
  readonly file: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => ['os', 'short-id', 'name', 'tree', 'media', 'resources', 'variant', 'script'].includes(name),
});

type Node = Record<string, unknown>;
const text = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : v && typeof v === 'object' && '#text' in v ? String((v as Node)['#text']) : undefined);
const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v === undefined ? [] : [v as Node]);

/** The automation family of a distribution's installer (undefined: kiln cannot drive it). */
export function automationFor(distro: string, version: string): AutomationKind | undefined {
  if (distro === 'debian') return 'preseed';
  if (distro === 'ubuntu') return Number.parseFloat(version) >= 20.04 ? 'autoinstall' : 'preseed';
  if (['fedora', 'rhel', 'centos-stream', 'centos', 'rocky', 'almalinux'].includes(distro)) return 'kickstart';
  return undefined;
}

export function parseOsFile(file: string, xml: string): OsEntry[] {
  const doc = parser.parse(xml) as { libosinfo?: { os?: Node[] } };
  return list(doc.libosinfo?.os).map((os) => {
    const names = list(os.name);
    const name = text(names.find((n) => typeof n === 'string' || !(n as Node)['@xml:lang'])) ?? '';
    const version = text(os.version) ?? '';
    const distro = text(os.distro) ?? '';
    const res = list(os.resources).find((r) => r['@arch'] === 'all' || r['@arch'] === 'x86_64') ?? {};
    const num = (section: string, key: string) => {
      const v = text((res[section] as Node | undefined)?.[key]);
      return v === undefined ? undefined : Number(v);
    };
    const mb = (b: number | undefined) => (b === undefined ? undefined : Math.round(b / 2 ** 20));
    const gb = (b: number | undefined) => (b === undefined ? undefined : Math.round(b / 2 ** 30));
    const source = (n: Node): InstallerSource | undefined => {
      const url = text(n.url);
      const kernel = text(n.kernel);
      const initrd = text(n.initrd);
      if (!url || !kernel || !initrd) return undefined;
      const variant = text(list(n.variant)[0]?.['@id']);
      return { arch: String(n['@arch'] ?? ''), url, kernel, initrd, ...(variant ? { variant } : {}) };
    };
    const resources = {
      ...(num('minimum', 'ram') !== undefined ? { minRamMb: mb(num('minimum', 'ram')) } : {}),
      ...(num('recommended', 'ram') !== undefined ? { recRamMb: mb(num('recommended', 'ram')) } : {}),
      ...(num('minimum', 'storage') !== undefined ? { minDiskGb: gb(num('minimum', 'storage')) } : {}),
      ...(num('recommended', 'storage') !== undefined ? { recDiskGb: gb(num('recommended', 'storage')) } : {}),
    };
    return {
      id: String(os['@id'] ?? ''),
      shortIds: list(os['short-id']).map((s) => text(s) ?? '').filter(Boolean),
      name,
      version,
      distro,
      codename: text(os.codename),
      automation: automationFor(distro, version),
      resources,
      trees: list(os.tree).flatMap((t) => source(t) ?? []),
      media: list(os.media).flatMap((m) => source(m) ?? []),
      file,
    };
  });
}

/** Every operating system in the database, by short id; with kiln's derived entries where the database has none. */
export function loadCatalogue(db = OSINFO_DB): Map<string, OsEntry> {
  const out = new Map<string, OsEntry>();
  for (const file of fg.sync('os/**/*.xml', { cwd: db, absolute: true }).sort()) {
    for (const e of parseOsFile(file, fs.readFileSync(file, 'utf8'))) for (const id of e.shortIds) out.set(id, e);
  }
  for (const [id, d] of Object.entries(DERIVED)) {
    const from = out.get(d.from);
    if (out.has(id) || !from) continue;
    const e: OsEntry = { ...from, ...d.fields, derivedFrom: d.from, trees: from.trees.map((t) => ({ ...t, url: t.url.replace(from.codename ?? '\0', d.fields.codename ?? '') })) };
    for (const s of e.shortIds) if (!out.has(s)) out.set(s, e);
  }
  return out;
}

/**
 * Releases newer than the database Debian 12 ships, made from their predecessor's entry (in this order: each
 * may derive from the one before).
 */
const DERIVED: Record<string, { from: string; fields: Partial<OsEntry> & { codename?: string } }> = {
  debian12: { from: 'debian11', fields: { id: 'http://debian.org/debian/12', shortIds: ['debian12', 'debianbookworm'], name: 'Debian 12', version: '12', codename: 'bookworm' } },
  debian13: { from: 'debian12', fields: { id: 'http://debian.org/debian/13', shortIds: ['debian13', 'debiantrixie'], name: 'Debian 13', version: '13', codename: 'trixie' } },
};

/** The entry for a short id, or a clear error listing near matches. */
export function findOs(catalogue: ReadonlyMap<string, OsEntry>, id: string): OsEntry | { error: string } {
  const e = catalogue.get(id);
  if (e) return e;
  const stem = id.replace(/[0-9.]+$/, '');
  const near = [...new Set([...catalogue.keys()].filter((k) => stem.length > 1 && k.startsWith(stem)))].slice(-8);
  return { error: `--os ${id}: not in libosinfo's database (${catalogue.size > 0 ? `${OSINFO_DB}` : `${OSINFO_DB} is empty or missing: apt-get install osinfo-db`})${near.length > 0 ? `; did you mean ${near.join(', ')}?` : ''}` };
}

/** Whether kiln can install it: an automation kiln renders and an x86_64 installer kernel. */
export function installable(e: OsEntry): boolean {
  return e.automation !== undefined && [...e.trees, ...e.media].some((s) => s.arch === 'x86_64');
}
