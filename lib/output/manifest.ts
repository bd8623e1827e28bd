/**
 * The package manifest (NAME.manifest.json, kiln's own small format) and a CycloneDX 1.5 SBOM
 * (NAME.cdx.json) of what is installed in the image. Rendering is pure and reproducible: the build id and
 * the SBOM's serial number are derived from the content, its timestamp is the build's SOURCE_DATE_EPOCH.
 */
import { contentUuid } from './content-id.js';
import type { Scope } from '../scope/index.js';
import { writeTextAtomically } from './atomic.js';
import { readInstalled, type InstalledPackage, type OsRelease } from './dpkg.js';
import { KILN_VERSION } from '../version.js';


/** What kiln records about the build that made an image (read back by `kiln publish`). */
export interface BuildInfo {
  readonly flavours: readonly string[];
  /** Debian architecture (amd64, arm64, …). */
  readonly arch: string;
  /** Disk layout: mbr boots with BIOS, efi with UEFI; absent for builds without a disk. */
  readonly layout?: 'mbr' | 'efi';
}

/** What NAME.manifest.json records, as its readers see it (every field optional: the file may be older or edited). */
export interface ManifestFacts {
  readonly build?: { readonly id?: string; readonly flavours?: readonly string[]; readonly arch?: string; readonly layout?: string | null; readonly kiln?: string };
  readonly os?: { readonly id?: string; readonly versionId?: string | null; readonly prettyName?: string | null };
  readonly packages?: readonly { readonly name?: string }[];
}

export function renderManifest(os: OsRelease, packages: readonly InstalledPackage[], build?: BuildInfo): string {
  const content = {
    os: { id: os.id, versionId: os.versionId ?? null, prettyName: os.prettyName ?? null },
    count: packages.length,
    packages: packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, source: p.source, sourceVersion: p.sourceVersion })),
  };
  const info = build ? { kiln: KILN_VERSION, flavours: build.flavours, arch: build.arch, layout: build.layout ?? null } : undefined;
  // The same flavours, architecture, layout and packages: the same id.
  const doc = { manifest: 'kiln-packages/1', ...(info ? { build: { id: contentUuid(JSON.stringify([info, content])), ...info } } : {}), ...content };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** NAME.manifest.json's text for this tree and build, as writeManifests writes it. */
export function manifestTextOf(tree: string, build?: BuildInfo): string {
  const { os, packages } = readInstalled(tree);
  return renderManifest(os, packages, build);
}

/** Package URL for a Debian-family package (purl spec, type "deb"). */
export function debPurl(os: OsRelease, p: Pick<InstalledPackage, 'name' | 'version' | 'architecture'>): string {
  const distro = os.versionId ? `&distro=${encodeURIComponent(`${os.id}-${os.versionId}`)}` : '';
  return `pkg:deb/${encodeURIComponent(os.id)}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${encodeURIComponent(p.architecture)}${distro}`;
}

export interface SbomOptions {
  readonly name: string;
  readonly now: Date;
  /** Default: derived from the document's content. */
  readonly serial?: string;
}

export function renderCycloneDx(os: OsRelease, packages: readonly InstalledPackage[], o: SbomOptions): string {
  // bom-refs are purls (unique per name, version and architecture); dependencies resolve by name.
  const byName = new Map<string, string>();
  for (const p of packages) if (!byName.has(p.name)) byName.set(p.name, debPurl(os, p));
  const doc = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: '',
    version: 1,
    metadata: {
      timestamp: o.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'kiln', version: KILN_VERSION }] },
      component: {
        type: 'operating-system',
        'bom-ref': 'image',
        name: o.name,
        ...(os.prettyName ? { description: os.prettyName } : {}),
        ...(os.versionId ? { version: `${os.id}-${os.versionId}` } : {}),
      },
    },
    components: packages.map((p) => ({
      type: 'library',
      'bom-ref': debPurl(os, p),
      ...(p.maintainer ? { supplier: { name: p.maintainer } } : {}),
      name: p.name,
      version: p.version,
      ...(p.summary ? { description: p.summary } : {}),
      purl: debPurl(os, p),
      ...(p.homepage ? { externalReferences: [{ type: 'website', url: p.homepage }] } : {}),
      properties: [
        { name: 'kiln:dpkg:source', value: p.source },
        { name: 'kiln:dpkg:source-version', value: p.sourceVersion },
        { name: 'kiln:dpkg:architecture', value: p.architecture },
        ...(p.installedSizeKiB !== undefined ? [{ name: 'kiln:dpkg:installed-size-kib', value: String(p.installedSizeKiB) }] : []),
      ],
    })),
    dependencies: [
      { ref: 'image', dependsOn: packages.map((p) => debPurl(os, p)) },
      ...packages
        .filter((p) => p.depends.length > 0)
        .map((p) => ({ ref: debPurl(os, p), dependsOn: p.depends.map((d) => byName.get(d)).filter((r): r is string => r !== undefined) })),
    ],
  };
  doc.serialNumber = `urn:uuid:${o.serial ?? contentUuid(JSON.stringify(doc))}`;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Where the package manifest and the SBOM of outputs named BASE go. */
export function manifestPaths(base: string): { manifest: string; sbom: string } {
  return { manifest: `${base}.manifest.json`, sbom: `${base}.cdx.json` };
}

/** Writes BASE.manifest.json and BASE.cdx.json; returns their paths. The SBOM's time: epoch, else SOURCE_DATE_EPOCH, else now. */
export async function writeManifests(scope: Scope, tree: string, base: string, build?: BuildInfo, epoch?: number): Promise<{ manifest: string; sbom: string; packages: number }> {
  const { os, packages } = readInstalled(tree);
  const fromEnv = Number.parseInt(process.env.SOURCE_DATE_EPOCH ?? '', 10);
  const seconds = epoch ?? (Number.isFinite(fromEnv) ? fromEnv : undefined);
  const now = seconds === undefined ? new Date() : new Date(seconds * 1000);
  const { manifest, sbom } = manifestPaths(base);
  await writeTextAtomically(scope, manifest, renderManifest(os, packages, build));
  const name = base.split('/').pop() ?? base;
  await writeTextAtomically(scope, sbom, renderCycloneDx(os, packages, { name, now }));
  return { manifest, sbom, packages: packages.length };
}
