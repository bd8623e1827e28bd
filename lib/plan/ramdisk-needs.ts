/**
 * What a ramdisk build needs from its tree, checked when it is planned, before any step runs: the assembler
 * (lib/ramdisk/assemble.ts) builds the initramfs around the tree's busybox and takes NAME.kernel and the
 * modules from the tree's kernel. A plan where nothing installs one of them would fail only after the whole
 * tree was built, so it is refused up front, naming what is missing and who could provide it.
 *
 * The evidence is what kiln itself installs: every flavour's package-installs.yaml (entries that apply to the
 * build's architecture, are not removed again (uninstall, build-only) and, where a pkg-map renames them, any name
 * it may give), each rootfs.yaml's `include`, and `-p` packages. `when` conditions are not evaluated here. A flavour that
 * installs busybox or a kernel from a hook instead is not seen: it lists the package in package-installs.yaml.
 */
import fs from 'node:fs';
import { invalid } from '../errors/index.js';
import { forArch, readPackageInstalls } from '../packages/installs.js';
import { readRootfsDecl } from '../rootfs/base.js';

/** Packages one source of the plan installs, e.g. "ramdisk-base's package-installs.yaml". */
export interface PackageSource {
  readonly from: string;
  readonly packages: readonly string[];
}

export type RamdiskNeedName = 'busybox' | 'kernel';

interface RamdiskNeed {
  readonly name: RamdiskNeedName;
  readonly matches: (pkg: string) => boolean;
  readonly describe: (arch: string) => string;
}

export const RAMDISK_NEEDS: readonly RamdiskNeed[] = [
  {
    name: 'busybox',
    matches: (p) => p === 'busybox-static' || p === 'busybox',
    describe: () => 'busybox (busybox-static), which the initramfs is built around',
  },
  {
    name: 'kernel',
    matches: (p) => p.startsWith('linux-image-'),
    describe: (arch) => `a kernel (a linux-image-* package for ${arch}), which becomes NAME.kernel and gives the initramfs its modules`,
  },
];

export interface MetNeed {
  readonly need: RamdiskNeedName;
  readonly from: string;
  readonly pkg: string;
}

/** Which needs the sources meet (the first source for each) and which none does. Pure. */
export function ramdiskNeeds(sources: readonly PackageSource[]): { met: MetNeed[]; unmet: RamdiskNeedName[] } {
  const met: MetNeed[] = [];
  const unmet: RamdiskNeedName[] = [];
  for (const need of RAMDISK_NEEDS) {
    let found: MetNeed | undefined;
    for (const s of sources) {
      const pkg = s.packages.find(need.matches);
      if (pkg !== undefined) {
        found = { need: need.name, from: s.from, pkg };
        break;
      }
    }
    if (found) met.push(found);
    else unmet.push(need.name);
  }
  return { met, unmet };
}

export interface RamdiskPlanFacts {
  readonly ramdiskElement: string;
  /** The flavour providing operating-system, if any. */
  readonly operatingSystem: string | undefined;
  readonly arch: string;
}

/** The error for a plan that cannot make a ramdisk (exit 2), naming each need and what would meet it. Pure. */
export function unmetNeedsError(unmet: readonly RamdiskNeedName[], facts: RamdiskPlanFacts) {
  const needs = RAMDISK_NEEDS.filter((n) => unmet.includes(n.name));
  const hints = needs.map((n) => {
    switch (n.name) {
      case 'busybox':
        return `make ramdisk element "${facts.ramdiskElement}" depend on ramdisk-base (element-deps), or list busybox-static in its package-installs.yaml`;
      case 'kernel':
        return `use an operating-system flavour that installs one (${facts.operatingSystem ? `"${facts.operatingSystem}" provides operating-system and installs none; ` : ''}debian-minimal installs linux-image-${facts.arch}), or list one in a package-installs.yaml`;
    }
  });
  return invalid(`this plan cannot make a ramdisk: nothing in it installs ${needs.map((n) => n.describe(facts.arch)).join('; nor ')}`, hints.join('; '));
}

export interface FlavourFiles {
  readonly name: string;
  readonly files: { readonly packageInstalls?: string; readonly rootfs?: string; readonly pkgMap?: string };
}

/** Every string a pkg-map file maps a name to (for any distribution or release): what its entries may become. */
function pkgMapTargets(file: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(...v.split(/\s+/).filter(Boolean));
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  try {
    walk(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    // A broken pkg-map is reported by the build's own reading of it.
  }
  return out;
}

/** The packages the plan installs, by source: package-installs.yaml for the arch, rootfs.yaml includes, -p. Reads the files. */
export function packageSources(flavours: readonly FlavourFiles[], arch: string, extra: readonly string[]): PackageSource[] {
  const out: PackageSource[] = [];
  for (const f of flavours) {
    if (f.files.rootfs) out.push({ from: `${f.name}'s rootfs.yaml`, packages: readRootfsDecl(f.files.rootfs, f.name).include });
    if (f.files.packageInstalls) {
      const entries = readPackageInstalls(f.files.packageInstalls, f.name).filter((e) => !e.uninstall && !e.buildOnly && forArch(e, arch));
      out.push({ from: `${f.name}'s package-installs.yaml`, packages: entries.map((e) => e.name) });
      // Names go through the flavour's pkg-map at build time: what they may map to counts too (never refuse a plan that works).
      if (f.files.pkgMap) out.push({ from: `${f.name}'s pkg-map`, packages: pkgMapTargets(f.files.pkgMap) });
    }
  }
  if (extra.length > 0) out.push({ from: '-p', packages: extra });
  return out;
}
