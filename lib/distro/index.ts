/**
 * Facts about distributions, one home each: the system PATH (here), os-release (os-release.ts), deb822
 * stanzas (deb822.ts), architectures (arch.ts), families and package-manager commands (packages.ts).
 */

/** The PATH root's commands run with inside a tree or on a target host (hooks add their own directories). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
