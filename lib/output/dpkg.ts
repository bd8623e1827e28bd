/**
 * What is installed in a tree, read from its /var/lib/dpkg/status and /etc/os-release (pure
 * parsing; no chroot, no dpkg-query).
 */
import fs from 'node:fs';
import { existsInTree, hostPath } from '../rootfs/paths.js';
import { parseStanzas } from '../distro/deb822.js';
import { osReleaseOf, UNKNOWN_OS, type OsRelease } from '../distro/os-release.js';

export type { OsRelease };

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

export function readInstalled(tree: string): { os: OsRelease; packages: InstalledPackage[] } {
  // Read as the tree sees them: an image whose /etc or /var is a link never reports the host's packages.
  const status = hostPath(tree, 'var/lib/dpkg/status');
  const osFile = ['etc/os-release', 'usr/lib/os-release'].filter((p) => existsInTree(tree, p)).map((p) => hostPath(tree, p))[0];
  return {
    os: osFile ? osReleaseOf(fs.readFileSync(osFile, 'utf8')) : UNKNOWN_OS,
    packages: fs.existsSync(status) ? parseDpkgStatus(fs.readFileSync(status, 'utf8')) : [],
  };
}
