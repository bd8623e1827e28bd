import fs from 'node:fs';
import path from 'node:path';
import { parseStanzas } from '../../../lib/distro/deb822.js';
import { osReleaseOf } from '../../../lib/distro/os-release.js';
import { parseDpkgStatus, resolveDepends } from '../../../lib/output/dpkg.js';

const STATUS = fs.readFileSync(path.join(process.cwd(), 'test/fixtures/dpkg/status'), 'utf8');

describe('parseDpkgStatus', () => {
  const pkgs = parseDpkgStatus(STATUS);
  test('only installed packages, sorted by name', () => {
    expect(pkgs.map((p) => p.name)).toEqual(['base-files', 'bash', 'libc6', 'libgcc-s1', 'sysvinit-utils']);
  });
  test.each([
    ['base-files', { version: '12.4+deb12u11', source: 'base-files', sourceVersion: '12.4+deb12u11', installedSizeKiB: 341, summary: 'Debian base system miscellaneous files' }],
    ['libc6', { version: '2.36-9+deb12u10', source: 'glibc', sourceVersion: '2.36-9+deb12u10', homepage: 'https://www.gnu.org/software/libc/libc.html', depends: ['libgcc-s1'] }],
    ['libgcc-s1', { source: 'gcc-12', sourceVersion: '12.2.0-14', depends: ['libc6'] }],
    ['bash', { depends: ['base-files', 'libc6'] }],
    ['sysvinit-utils', { version: '1:3.06-4', depends: ['libc6'], installedSizeKiB: undefined }],
  ])('%s', (name, fields) => {
    expect(pkgs.find((p) => p.name === name)).toMatchObject(fields);
  });
  test('stanzas join continuation lines', () => {
    expect(parseStanzas('A: 1\nB: x\n y\n\nA: 2\n').map((s) => Object.fromEntries(s))).toEqual([{ A: '1', B: 'x\ny' }, { A: '2' }]);
  });
  test.each([
    ['libc6 (>= 2.34), mawk | gawk', ['gawk'], ['gawk']],
    ['a:any, b [amd64] | c', ['a', 'b', 'c'], ['a', 'b']],
    ['', ['a'], []],
  ])('resolveDepends(%j)', (field, installed, out) => {
    expect(resolveDepends(field, new Set(installed))).toEqual(out);
  });
});

test('osReleaseOf: the id, version and name (one parser with image specs: escapes in double quotes; no ID is "linux")', () => {
  expect(osReleaseOf('NAME=x\n')).toEqual({ id: 'linux', versionId: undefined, prettyName: undefined });
  expect(osReleaseOf('PRETTY_NAME="A \\"quoted\\" name"\nID=debian\n').prettyName).toBe('A "quoted" name');
  expect(osReleaseOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')).toEqual({
    id: 'debian',
    versionId: '12',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
  });
});
