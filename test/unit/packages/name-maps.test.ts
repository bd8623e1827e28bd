import { mapFileText, mapNames, osFamily, resolvePkgMap, resolveSvcMaps } from '../../../lib/packages/name-maps.js';
import { applies, parsePackageInstalls } from '../../../lib/packages/installs.js';

const MAP = JSON.stringify({
  default: { 'dhcp-client': 'isc-dhcp-client', ndisc6: '', both: 'default-both' },
  family: { debian: { growpart: 'cloud-utils', both: 'family-both' }, redhat: { growpart: 'cloud-utils-growpart' } },
  distro: { debian: { both: 'distro-both' } },
  release: { debian: { bookworm: { both: 'release-both', multi: 'one two' } } },
});

describe('pkg-map', () => {
  test('levels override in order: default, family, distro, release', () => {
    const m = resolvePkgMap(MAP, 'pkg-map', 'fx', 'debian', 'bookworm');
    expect(m.get('both')).toBe('release-both');
    expect(resolvePkgMap(MAP, 'pkg-map', 'fx', 'debian', 'bullseye').get('both')).toBe('distro-both');
    expect(resolvePkgMap(MAP, 'pkg-map', 'fx', 'ubuntu', 'jammy').get('both')).toBe('family-both');
    expect(resolvePkgMap(MAP, 'pkg-map', 'fx', 'fedora', '40').get('growpart')).toBe('cloud-utils-growpart');
    expect(resolvePkgMap(MAP, 'pkg-map', 'fx', 'gentoo', '').get('both')).toBe('default-both');
  });

  test('names map, drop when mapped to "", split on spaces, and pass unchanged when unmapped (--missing-ok)', () => {
    const m = resolvePkgMap(MAP, 'pkg-map', 'fx', 'debian', 'bookworm');
    expect(mapNames(['growpart', 'dhcp-client', 'ndisc6', 'multi', 'vim'], m)).toEqual(['cloud-utils', 'isc-dhcp-client', 'one', 'two', 'vim']);
    expect(mapNames(['vim'], undefined)).toEqual(['vim']);
    expect(mapFileText(new Map([['a', 'b'], ['c', '']]))).toBe('a\tb\nc\t\n');
  });

  test.each([
    ['{', /\[fx\] \/x\/pkg-map: not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"family": {"debian": ["a"]}}', /"family.debian" must map package names/],
    ['{"default": {"a": 1}}', /"default.a" must be a string/],
  ])('bad map %s is bad input naming the file', (text, re) => {
    expect(() => resolvePkgMap(text, '/x/pkg-map', 'fx', 'debian', 'bookworm')).toThrow(re);
  });

  test('families', () => {
    expect(['debian', 'ubuntu', 'centos', 'opensuse', 'gentoo', 'plan9'].map(osFamily)).toEqual(['debian', 'debian', 'redhat', 'suse', 'gentoo', undefined]);
  });
});

describe('svc-map', () => {
  test('distro over family over default; unmapped keeps its name', () => {
    const m = resolveSvcMaps(
      [
        { text: 'ssh:\n  default: sshd\n  debian: ssh\nntp:\n  default: ntpd\n  debian: ntp\n', file: 'a/svc-map', flavour: 'a' },
        { text: 'web:\n  default: httpd\n  redhat: httpd\nodd: {}\n', file: 'b/svc-map', flavour: 'b' },
      ],
      'ubuntu',
    );
    expect(Object.fromEntries(m)).toEqual({ ssh: 'ssh', ntp: 'ntp', web: 'httpd', odd: 'odd' });
  });

  test('a service mapped by two flavours names both; bad YAML names file:line', () => {
    expect(() => resolveSvcMaps([{ text: 'ssh:\n  default: a\n', file: 'a/svc-map', flavour: 'a' }, { text: 'ssh:\n  default: b\n', file: 'b/svc-map', flavour: 'b' }], 'debian')).toThrow(
      '[b] b/svc-map: service "ssh" is already mapped by flavour "a"',
    );
    expect(() => resolveSvcMaps([{ text: 'ssh:\n  default: [a\n', file: 'a/svc-map', flavour: 'a' }], 'debian')).toThrow(/\[a\] a\/svc-map:\d+:\d+/);
  });
});

describe('package-installs installtype and dib_python_version', () => {
  const entries = parsePackageInstalls('src-only:\n  installtype: source\npkg-only:\n  installtype: package\npy2:\n  dib_python_version: 2\npy3:\n  dib_python_version: 3\n', 'package-installs.yaml', 'my-el');
  const kept = (env: Record<string, string>) => entries.filter((e) => applies(e, 'amd64', env)).map((e) => e.name);
  test('the flavour\'s install type chooses (DIB_INSTALLTYPE_<flavour>, then DIB_DEFAULT_INSTALLTYPE, then source)', () => {
    expect(kept({})).toEqual(['src-only', 'py3']);
    expect(kept({ DIB_DEFAULT_INSTALLTYPE: 'package' })).toEqual(['pkg-only', 'py3']);
    expect(kept({ DIB_DEFAULT_INSTALLTYPE: 'package', DIB_INSTALLTYPE_my_el: 'source' })).toEqual(['src-only', 'py3']);
    expect(kept({ DIB_PYTHON_VERSION: '2' })).toEqual(['src-only', 'py2']);
  });
});
