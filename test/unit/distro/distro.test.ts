/** lib/distro/packages.ts: the one table of families and the package-manager commands of builds and specs. */
import { cleanCommand, familyOf, installCommand, removeCommand, toolFor, updateCommand } from '../../../lib/distro/packages.js';

describe('package-manager commands', () => {
  test.each([
    ['apt', ['apt-get', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', 'a', 'b=1']],
    ['dnf', ['dnf', '-y', '--setopt=install_weak_deps=False', 'install', 'a', 'b-1']],
    ['yum', ['yum', 'install', '-y', 'a', 'b-1']],
    ['zypper', ['zypper', '--non-interactive', 'install', '--no-recommends', 'a', 'b=1']],
  ] as const)('a build installs with %s: one call, nothing it did not name, the tree\'s config files kept', (tool, argv) => {
    expect(installCommand(tool, ['a', { name: 'b', version: '1' }], 'minimal').argv).toEqual(argv);
  });

  test.each([
    ['apt', ['apt-get', '-y', 'install', 'a', 'b=1']],
    ['dnf', ['dnf', 'install', '-y', 'a', 'b-1']],
    ['yum', ['yum', 'install', '-y', 'a', 'b-1']],
    ['zypper', ['zypper', '--non-interactive', 'install', 'a', 'b=1']],
  ] as const)("a spec installs with %s as Sahara's image-pack does (recommends included)", (tool, argv) => {
    expect(installCommand(tool, ['a', { name: 'b', version: '1' }], 'defaults').argv).toEqual(argv);
  });

  test('apt runs without questions in both styles; update, remove and clean', () => {
    for (const style of ['minimal', 'defaults'] as const) expect(installCommand('apt', ['a'], style).env).toEqual({ DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' });
    expect(updateCommand('apt')?.argv).toEqual(['apt-get', '-q', 'update']);
    expect(updateCommand('dnf')).toBeUndefined();
    expect(removeCommand('apt', ['a']).argv).toEqual(['apt-get', '-y', '-q', '--auto-remove', 'purge', 'a']);
    expect(cleanCommand('apt').argv).toEqual(['sh', '-c', 'apt-get clean && rm -rf /var/lib/apt/lists/*']);
  });
});

describe('families', () => {
  test.each([
    ['debian', [], 'debian'],
    ['ubuntu', ['debian'], 'debian'],
    ['rocky', ['rhel', 'centos', 'fedora'], 'redhat'],
    ['opensuse-leap', ['suse', 'opensuse'], 'suse'],
    ['linuxmint', ['ubuntu', 'debian'], 'debian'],
    ['pop', ['ubuntu', 'debian'], 'debian'],
    ['alpine', [], undefined],
  ])('%s (like %j) is %s', (id, like, family) => {
    expect(familyOf(id, like)).toBe(family);
  });

  test('each family has its tool; redhat uses dnf where the target has it', () => {
    expect([toolFor('debian', false), toolFor('redhat', true), toolFor('redhat', false), toolFor('suse', false)]).toEqual(['apt', 'dnf', 'yum', 'zypper']);
  });
});
