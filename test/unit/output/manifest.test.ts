import fs from 'node:fs';
import path from 'node:path';
import { parseDpkgStatus } from '../../../lib/output/dpkg.js';
import { debPurl, renderCycloneDx, renderManifest } from '../../../lib/output/manifest.js';

const STATUS = fs.readFileSync(path.join(process.cwd(), 'test/fixtures/dpkg/status'), 'utf8');
const os = { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' };
const pkgs = parseDpkgStatus(STATUS);

test.each([
  [{ name: 'bash', version: '5.2.15-2+b7', architecture: 'amd64' }, 'pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12'],
  [{ name: 'sysvinit-utils', version: '1:3.06-4', architecture: 'amd64' }, 'pkg:deb/debian/sysvinit-utils@1%3A3.06-4?arch=amd64&distro=debian-12'],
  [{ name: 'libstdc++6', version: '12.2.0-14', architecture: 'amd64' }, 'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12'],
])('debPurl(%j)', (p, purl) => {
  expect(debPurl(os, p)).toBe(purl);
});

test('the manifest lists name, version, architecture and source of each package', () => {
  const m = JSON.parse(renderManifest(os, pkgs)) as { manifest: string; count: number; os: unknown; packages: unknown[] };
  expect(m.manifest).toBe('kiln-packages/1');
  expect(m.count).toBe(5);
  expect(m.os).toEqual({ id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  expect(m.packages[2]).toEqual({ name: 'libc6', version: '2.36-9+deb12u10', architecture: 'amd64', source: 'glibc', sourceVersion: '2.36-9+deb12u10' });
});

describe('CycloneDX 1.5 SBOM', () => {
  const now = new Date('2025-05-20T12:00:00.123Z');
  const bom = JSON.parse(renderCycloneDx(os, pkgs, { name: 'img', now, serial: '00000000-0000-4000-8000-000000000000' })) as {
    bomFormat: string; specVersion: string; serialNumber: string; version: number;
    metadata: { timestamp: string; component: { type: string; name: string; version: string } };
    components: { type: string; 'bom-ref': string; name: string; version: string; purl: string; supplier?: { name: string }; properties: { name: string; value: string }[] }[];
    dependencies: { ref: string; dependsOn: string[] }[];
  };
  test('header', () => {
    expect([bom.bomFormat, bom.specVersion, bom.serialNumber, bom.version]).toEqual(['CycloneDX', '1.5', 'urn:uuid:00000000-0000-4000-8000-000000000000', 1]);
    expect(bom.metadata.timestamp).toBe('2025-05-20T12:00:00Z');
    expect(bom.metadata.component).toMatchObject({ type: 'operating-system', name: 'img', version: 'debian-12' });
  });
  test('one component per package, bom-ref = purl, unique', () => {
    expect(bom.components).toHaveLength(5);
    for (const c of bom.components) expect(c['bom-ref']).toBe(c.purl);
    expect(new Set(bom.components.map((c) => c['bom-ref'])).size).toBe(5);
    const libc = bom.components.find((c) => c.name === 'libc6');
    expect(libc?.supplier?.name).toBe('GNU Libc Maintainers <debian-glibc@lists.debian.org>');
    expect(libc?.properties).toContainEqual({ name: 'kiln:dpkg:source', value: 'glibc' });
  });
  test('dependencies refer only to components', () => {
    const refs = new Set(bom.components.map((c) => c['bom-ref']).concat('image'));
    for (const d of bom.dependencies) {
      expect(refs.has(d.ref)).toBe(true);
      for (const r of d.dependsOn) expect(refs.has(r)).toBe(true);
    }
    const bash = bom.dependencies.find((d) => d.ref.includes('/bash@'));
    expect(bash?.dependsOn).toHaveLength(2);
    expect(bash?.dependsOn).toEqual(expect.arrayContaining([expect.stringContaining('/libc6@'), expect.stringContaining('/base-files@')]));
  });
});

test('the build id and the SBOM serial number are derived from the content: same content, same bytes', () => {
  const build = { flavours: ['vm', 'debian'], arch: 'amd64', layout: 'mbr' as const };
  const a = renderManifest(os, pkgs, build);
  expect(renderManifest(os, pkgs, build)).toBe(a);
  const id = (JSON.parse(a) as { build: { id: string } }).build.id;
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect((JSON.parse(renderManifest(os, pkgs, { ...build, arch: 'arm64' })) as { build: { id: string } }).build.id).not.toBe(id);
  const now = new Date(1_700_000_000_000);
  const sbom = renderCycloneDx(os, pkgs, { name: 'img', now });
  expect(renderCycloneDx(os, pkgs, { name: 'img', now })).toBe(sbom);
  expect((JSON.parse(sbom) as { serialNumber: string }).serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8/);
  expect((JSON.parse(renderCycloneDx(os, pkgs.slice(1), { name: 'img', now })) as { serialNumber: string }).serialNumber).not.toBe((JSON.parse(sbom) as { serialNumber: string }).serialNumber);
});
