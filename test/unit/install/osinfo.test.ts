/**
 * libosinfo's database as kiln reads it: short ids, names, resources, install trees and media, which
 * automation each installer takes, kiln's derived Debian 12, and the error for an unknown id.
 */
import fs from 'node:fs';
import path from 'node:path';
import { automationFor, findOs, installable, loadCatalogue, parseOsFile } from '../../../lib/install/osinfo.js';
import { file, testIf } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const XML = `<?xml version="1.0"?>
<libosinfo version="0.0.1">
  <os id="http://debian.org/debian/11">
    <short-id>debian11</short-id>
    <short-id>debianbullseye</short-id>
    <name>Debian 11</name>
    <name xml:lang="de">Debian 11</name>
    <version>11</version>
    <distro>debian</distro>
    <codename>bullseye</codename>
    <resources arch="all">
      <minimum><ram>1073741824</ram><storage>10737418240</storage></minimum>
      <recommended><ram>2147483648</ram><storage>21474836480</storage></recommended>
    </resources>
    <media arch="x86_64">
      <variant id="netinst"/>
      <url>https://cdimage.example/debian-11-amd64-netinst.iso</url>
      <kernel>install.amd/vmlinuz</kernel>
      <initrd>install.amd/initrd.gz</initrd>
    </media>
    <tree arch="x86_64">
      <url>http://mirror.example/debian/dists/bullseye/main/installer-amd64</url>
      <kernel>current/images/netboot/debian-installer/amd64/linux</kernel>
      <initrd>current/images/netboot/debian-installer/amd64/initrd.gz</initrd>
    </tree>
  </os>
</libosinfo>
`;

const db = tempDir('unit-osinfo');
fs.mkdirSync(path.join(db, 'os', 'debian.org'), { recursive: true });
fs.writeFileSync(path.join(db, 'os', 'debian.org', 'debian-11.xml'), XML);
afterAll(() => fs.rmSync(db, { recursive: true, force: true }));

test('an entry: ids, the untranslated name, distro, codename, resources in MiB and GiB, tree and media', () => {
  const [e] = parseOsFile('debian-11.xml', XML);
  expect(e?.shortIds).toEqual(['debian11', 'debianbullseye']);
  expect(e?.name).toBe('Debian 11');
  expect(e?.codename).toBe('bullseye');
  expect(e?.automation).toBe('preseed');
  expect(e?.resources).toEqual({ minRamMb: 1024, recRamMb: 2048, minDiskGb: 10, recDiskGb: 20 });
  expect(e?.trees).toEqual([{ arch: 'x86_64', url: 'http://mirror.example/debian/dists/bullseye/main/installer-amd64', kernel: 'current/images/netboot/debian-installer/amd64/linux', initrd: 'current/images/netboot/debian-installer/amd64/initrd.gz' }]);
  expect(e?.media[0]?.variant).toBe('netinst');
  expect(e && installable(e)).toBe(true);
});

test('Debian 12 and 13, missing from the database, are derived from their predecessors with their codenames', () => {
  const c = loadCatalogue(db);
  const e = c.get('debian12');
  expect(e?.derivedFrom).toBe('debian11');
  expect(e?.codename).toBe('bookworm');
  expect(e?.trees[0]?.url).toBe('http://mirror.example/debian/dists/bookworm/main/installer-amd64');
  expect(c.get('debianbookworm')).toBe(e);
  expect(c.get('debian11')?.derivedFrom).toBeUndefined();
  const trixie = c.get('debian13');
  expect([trixie?.derivedFrom, trixie?.codename, trixie?.version, trixie?.trees[0]?.url]).toEqual(['debian12', 'trixie', '13', 'http://mirror.example/debian/dists/trixie/main/installer-amd64']);
  expect(c.get('debiantrixie')).toBe(trixie);
});

test('which automation each distribution takes', () => {
  expect(automationFor('debian', '12')).toBe('preseed');
  expect(automationFor('ubuntu', '18.04')).toBe('preseed');
  expect(automationFor('ubuntu', '22.04')).toBe('autoinstall');
  expect(automationFor('fedora', '39')).toBe('kickstart');
  expect(automationFor('centos-stream', '9')).toBe('kickstart');
  expect(automationFor('freebsd', '14')).toBeUndefined();
});

test('an unknown id: the error names it and suggests near ids', () => {
  const r = findOs(loadCatalogue(db), 'debian14');
  expect('error' in r && r.error).toMatch(/--os debian14: not in libosinfo's database.*did you mean .*debian11/);
  const none = findOs(loadCatalogue(path.join(db, 'nothing')), 'debian12');
  expect('error' in none && none.error).toMatch(/is empty or missing: apt-get install osinfo-db/);
});

const REAL = '/usr/share/osinfo/os/debian.org/debian-11.xml';
testIf(file(REAL, 'osinfo-db (Debian package osinfo-db)'))("this machine's osinfo-db: debian12 derived, fedora and ubuntu entries installable", () => {
  const c = loadCatalogue();
  expect(c.get('debian12')?.codename).toBe('bookworm');
  expect(c.get('debian13')?.codename).toBe('trixie');
  expect(c.get('debian11')?.resources.minRamMb).toBeGreaterThan(0);
  const fedora = [...c.values()].find((e) => e.distro === 'fedora' && e.automation === 'kickstart' && installable(e));
  expect(fedora).toBeDefined();
});
