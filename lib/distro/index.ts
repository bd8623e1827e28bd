/**
 * Package-manager families. kiln builds apt-family trees today; dnf and zypper are the documented
 * interface for the other families (their argv is unit-tested, their base trees are not built here).
 */
export type Family = 'apt' | 'dnf' | 'zypper';

/** The PATH root's commands run with inside a tree or on a target host (hooks add their own directories). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface PackageManager {
  readonly family: Family;
  /** Refreshes package lists (argv), or undefined when the family needs no separate step. */
  readonly update: readonly string[] | undefined;
  install(pkgs: readonly string[]): string[];
  remove(pkgs: readonly string[]): string[];
  /** Extra environment for the package manager. */
  readonly env: Readonly<Record<string, string>>;
}

export function packageManager(family: Family): PackageManager {
  switch (family) {
    case 'apt':
      return {
        family,
        update: ['apt-get', '-q', 'update'],
        install: (p) => ['apt-get', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', ...p],
        remove: (p) => ['apt-get', '-y', '-q', '--auto-remove', 'purge', ...p],
        env: { DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' },
      };
    case 'dnf':
      return {
        family,
        update: undefined,
        install: (p) => ['dnf', '-y', '--setopt=install_weak_deps=False', 'install', ...p],
        remove: (p) => ['dnf', '-y', 'remove', ...p],
        env: {},
      };
    case 'zypper':
      return {
        family,
        update: ['zypper', '--non-interactive', 'refresh'],
        install: (p) => ['zypper', '--non-interactive', 'install', '--no-recommends', ...p],
        remove: (p) => ['zypper', '--non-interactive', 'remove', ...p],
        env: {},
      };
  }
}

/** The family of a distribution, from /etc/os-release ID and ID_LIKE. */
export function familyOf(id: string, idLike: readonly string[] = []): Family | undefined {
  for (const x of [id, ...idLike]) {
    if (['debian', 'ubuntu'].includes(x)) return 'apt';
    if (['fedora', 'rhel', 'centos', 'rocky', 'almalinux'].includes(x)) return 'dnf';
    if (['suse', 'opensuse', 'sles', 'opensuse-leap', 'opensuse-tumbleweed'].includes(x)) return 'zypper';
  }
  return undefined;
}
