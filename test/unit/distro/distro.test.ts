import { familyOf, packageManager } from '../../../lib/distro/index.js';

describe('package-manager families', () => {
  test.each([
    ['apt', ['apt-get', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', 'a', 'b']],
    ['dnf', ['dnf', '-y', '--setopt=install_weak_deps=False', 'install', 'a', 'b']],
    ['zypper', ['zypper', '--non-interactive', 'install', '--no-recommends', 'a', 'b']],
  ] as const)('%s installs with one call', (family, argv) => {
    expect(packageManager(family).install(['a', 'b'])).toEqual(argv);
  });

  test.each([
    ['debian', [], 'apt'],
    ['ubuntu', ['debian'], 'apt'],
    ['rocky', ['rhel', 'centos', 'fedora'], 'dnf'],
    ['opensuse-leap', ['suse', 'opensuse'], 'zypper'],
    ['linuxmint', ['ubuntu', 'debian'], 'apt'],
    ['alpine', [], undefined],
  ])('%s (like %j) is %s', (id, like, family) => {
    expect(familyOf(id, like)).toBe(family);
  });
});
