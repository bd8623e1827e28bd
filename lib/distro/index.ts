/**
 * Facts about distributions, one home each: the system PATH and cloud-init's default users (here), os-release (os-release.ts), deb822
 * stanzas (deb822.ts), architectures (arch.ts), families and package-manager commands (packages.ts).
 */

/** The PATH root's commands run with inside a tree or on a target host (hooks add their own directories). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The user cloud-init makes (its distro default, `system_info.default_user`) on each distribution, by os-release ID. */
export const CLOUD_INIT_DEFAULT_USER: Readonly<Record<string, string>> = { debian: 'debian', ubuntu: 'ubuntu' };
