/**
 * Debian's releases, in one table: what kiln builds, what each release's archive looks like (updates and
 * security suites), how its apt sources are written, and what the suite names (stable, testing, …) mean.
 * Everything else that depends on the release reads it from here.
 *
 * A suite name moves when Debian releases, so a build resolves it to a codename from the mirror's own
 * Release file (lib/rootfs/release.ts); kiln then builds, caches and names the codename. SUITE_AT_WRITING
 * only says what the names meant when this table was written (for messages and the README), never what a
 * build uses.
 */

export interface DebianRelease {
  readonly codename: string;
  /** The major version (os-release VERSION_ID); undefined for sid, which has none. */
  readonly version: string | undefined;
  /** Whether the archive has CODENAME-updates and the security archive CODENAME-security. */
  readonly updates: boolean;
  readonly security: boolean;
  /** The tree's apt sources: one-line /etc/apt/sources.list, or deb822 /etc/apt/sources.list.d/debian.sources (trixie on). */
  readonly sources: 'one-line' | 'deb822';
}

export const DEBIAN_RELEASE_TABLE: readonly DebianRelease[] = [
  { codename: 'bookworm', version: '12', updates: true, security: true, sources: 'one-line' },
  { codename: 'trixie', version: '13', updates: true, security: true, sources: 'deb822' },
  { codename: 'forky', version: '14', updates: true, security: true, sources: 'deb822' },
  { codename: 'sid', version: undefined, updates: false, security: false, sources: 'deb822' },
];

/** Debian's suite names, and the codename each stood for when this table was written. */
export const SUITE_AT_WRITING: Readonly<Record<string, string>> = { oldstable: 'bookworm', stable: 'trixie', testing: 'forky', unstable: 'sid' };

/** A release name as a build resolved it (lib/rootfs/release.ts). */
export interface ResolvedRelease {
  /** The name as given (--release / DIB_RELEASE): a codename or a suite name. */
  readonly asked: string;
  readonly codename: string;
  /** The Release file's Valid-Until (ISO 8601), when it has one and kiln read it. */
  readonly validUntil: string | undefined;
  /** Valid-Until is in the past (a frozen mirror): apt's Check-Valid-Until is off for this build. */
  readonly expired: boolean;
  /** Where the facts came from: the mirror's Release file, kiln's record of an earlier read, or the name alone. */
  readonly from: 'mirror' | 'record' | 'name';
}

/** The release a build makes when none is named: the current stable. */
export const DEFAULT_RELEASE = 'trixie';

/** The release of a codename, or undefined for one kiln does not build. */
export function debianRelease(codename: string): DebianRelease | undefined {
  return DEBIAN_RELEASE_TABLE.find((r) => r.codename === codename);
}

/** Whether `name` is a suite name (stable, …) rather than a codename. */
export function isSuiteName(name: string): boolean {
  return Object.hasOwn(SUITE_AT_WRITING, name);
}

/** Whether a build may name `name` (a codename of the table, or a suite name). */
export function isKnownRelease(name: string): boolean {
  return debianRelease(name) !== undefined || isSuiteName(name);
}

/** What kiln builds, for messages: "bookworm (12), trixie (13, the default), …; or stable, …". */
export function describeReleases(): string {
  const names = DEBIAN_RELEASE_TABLE.map((r) => {
    const notes = [r.version, r.codename === DEFAULT_RELEASE ? 'the default' : undefined].filter((x) => x !== undefined);
    return notes.length > 0 ? `${r.codename} (${notes.join(', ')})` : r.codename;
  });
  return `${names.join(', ')}; or a suite name: ${Object.keys(SUITE_AT_WRITING).join(', ')}`;
}

/** The suites of a release's apt sources: the release, its updates, and (from the security archive) its security suite. */
export function releaseSuites(codename: string): { main: string[]; security: string | undefined } {
  const r = debianRelease(codename);
  if (!r) return { main: [codename], security: undefined };
  return { main: r.updates ? [codename, `${codename}-updates`] : [codename], security: r.security ? `${codename}-security` : undefined };
}
