/**
 * What is installed in a tree, read from its /var/lib/dpkg/status and /etc/os-release (pure
 * parsing; no chroot, no dpkg-query).
 */
import fs from 'node:fs';
import { existsInTree, hostPath } from '../rootfs/paths.js';

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Source package name and version (defaults: the binary's own). */
  readonly source: string;
  readonly sourceVersion: string;
  readonly maintainer: string | undefined;
  readonly homepage: string | undefined;
  /** The synopsis (first line of Description). */
  readonly summary: string | undefined;
  readonly installedSizeKiB: number | undefined;
  /** Names of installed packages this one depends on (Depends and Pre-Depends, resolved). */
  readonly depends: readonly string[];
}

export interface OsRelease {
  readonly id: string;
  readonly versionId: string | undefined;
  readonly prettyName: string | undefined;
}

/** Splits deb822 text into stanzas of field → value (continuation lines joined with "\n"). */
export function parseStanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line) && last !== undefined) {
      cur.set(last, `${cur.get(last) ?? ''}\n${line.slice(1)}`);
    } else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      cur.set(last, line.slice(i + 1).trim());
    }
  }
  if (cur.size > 0) out.push(cur);
  return out;
}

/** Installed packages ("install|hold ok installed"), sorted by name then architecture. */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const stanzas = parseStanzas(text).filter((s) => / installed$/.test(s.get('Status') ?? '') && / ok /.test(s.get('Status') ?? ''));
  const names = new Set(stanzas.map((s) => s.get('Package') ?? ''));
  return stanzas
    .map((s): InstalledPackage => {
      const name = s.get('Package') ?? '';
      const version = s.get('Version') ?? '';
      const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(s.get('Source') ?? '');
      const size = Number.parseInt(s.get('Installed-Size') ?? '', 10);
      return {
        name,
        version,
        architecture: s.get('Architecture') ?? 'all',
        source: m?.[1] ?? name,
        sourceVersion: m?.[2] ?? version,
        maintainer: s.get('Maintainer'),
        homepage: s.get('Homepage'),
        summary: s.get('Description')?.split('\n')[0],
        installedSizeKiB: Number.isFinite(size) ? size : undefined,
        depends: resolveDepends(`${s.get('Pre-Depends') ?? ''},${s.get('Depends') ?? ''}`, names),
      };
    })
    .sort((a, b) => (a.name === b.name ? a.architecture.localeCompare(b.architecture) : a.name < b.name ? -1 : 1));
}

/** For each dependency, the first alternative that is installed ("libc6 (>= 2.34), a | b:any"). */
export function resolveDepends(field: string, installed: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const group of field.split(',')) {
    const alts = group.split('|').map((a) => a.trim().split(/[\s(:[]/)[0] ?? '').filter((a) => a !== '');
    const hit = alts.find((a) => installed.has(a));
    if (hit) out.add(hit);
  }
  return [...out].sort();
}

export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1] as string, (m[2] as string).replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
  }
  return { id: kv.get('ID') ?? 'linux', versionId: kv.get('VERSION_ID'), prettyName: kv.get('PRETTY_NAME') };
}

export function readInstalled(tree: string): { os: OsRelease; packages: InstalledPackage[] } {
  // Read as the tree sees them: an image whose /etc or /var is a link never reports the host's packages.
  const status = hostPath(tree, 'var/lib/dpkg/status');
  const osFile = ['etc/os-release', 'usr/lib/os-release'].filter((p) => existsInTree(tree, p)).map((p) => hostPath(tree, p))[0];
  return {
    os: osFile ? parseOsRelease(fs.readFileSync(osFile, 'utf8')) : { id: 'linux', versionId: undefined, prettyName: undefined },
    packages: fs.existsSync(status) ? parseDpkgStatus(fs.readFileSync(status, 'utf8')) : [],
  };
}
