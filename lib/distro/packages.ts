/**
 * Distribution families and their package tools: the one home of every package-manager command kiln runs,
 * for builds (lib/build/packages.ts) and for image specs (lib/spec/validators/package.ts).
 *
 * Callers install differently on purpose, and say which with an InstallStyle:
 * - `minimal` (builds): exactly what the flavours name: no recommended (weak) packages, quiet, and a
 *   configuration file the tree already has is kept (dpkg --force-confdef/confold), as diskimage-builder does;
 * - `defaults` (image specs, and the packages kiln install adds to an installed system): the tool's defaults,
 *   recommended packages included, as Sahara's image-pack runs them (`apt-get -y install`, `dnf install -y`),
 *   so a spec brings an image to the state Sahara's would.
 */

/** A distribution family: the family name each package tool serves. */
export type DistroFamily = 'debian' | 'redhat' | 'suse';
export type PackageTool = 'apt' | 'dnf' | 'yum' | 'zypper';
export type InstallStyle = 'minimal' | 'defaults';

/** A package, with the version to pin when given. */
export interface PackageRef {
  readonly name: string;
  readonly version: string | undefined;
}

export interface CommandSpec {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * os-release IDs and their family. Sahara's table lacked `debian` itself (so package validators raised
 * KeyError on Debian); here every family name maps to itself, and ID_LIKE finds derivatives not listed.
 */
const FAMILIES: Readonly<Record<string, DistroFamily>> = {
  debian: 'debian',
  ubuntu: 'debian',
  raspbian: 'debian',
  linuxmint: 'debian',
  devuan: 'debian',
  redhat: 'redhat',
  rhel: 'redhat',
  redhatenterpriseserver: 'redhat',
  centos: 'redhat',
  centos7: 'redhat',
  fedora: 'redhat',
  rocky: 'redhat',
  almalinux: 'redhat',
  ol: 'redhat',
  amzn: 'redhat',
  suse: 'suse',
  sles: 'suse',
  opensuse: 'suse',
  'opensuse-leap': 'suse',
  'opensuse-tumbleweed': 'suse',
};

/** The family of an os-release ID, else of the first ID_LIKE entry that has one. */
export function familyOf(id: string, like: readonly string[] = []): DistroFamily | undefined {
  for (const name of [id, ...like]) {
    const family = FAMILIES[name.toLowerCase()];
    if (family) return family;
  }
  return undefined;
}

/** Which tool installs on a family; redhat uses dnf when the target has it, else yum. */
export function toolFor(family: DistroFamily, hasDnf: boolean): PackageTool {
  switch (family) {
    case 'debian':
      return 'apt';
    case 'redhat':
      return hasDnf ? 'dnf' : 'yum';
    case 'suse':
      return 'zypper';
  }
}

/** apt's environment: no questions (debconf's defaults), and none asked again later. */
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' } as const;

/** How a version pin is written: apt and zypper `name=ver`, dnf/yum `name-ver`. */
export function renderPin(tool: PackageTool, p: PackageRef): string {
  if (p.version === undefined) return p.name;
  switch (tool) {
    case 'apt':
    case 'zypper':
      return `${p.name}=${p.version}`;
    case 'dnf':
    case 'yum':
      return `${p.name}-${p.version}`;
  }
}

const refs = (pkgs: readonly (PackageRef | string)[]): PackageRef[] => pkgs.map((p) => (typeof p === 'string' ? { name: p, version: undefined } : p));

/** The one call that installs a list of packages (see InstallStyle for how builds and specs differ). */
export function installCommand(tool: PackageTool, pkgs: readonly (PackageRef | string)[], style: InstallStyle): CommandSpec {
  const names = refs(pkgs).map((p) => renderPin(tool, p));
  const build = style === 'minimal';
  switch (tool) {
    case 'apt':
      return {
        argv: build
          ? ['apt-get', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', 'install', ...names]
          : ['apt-get', '-y', 'install', ...names],
        env: APT_ENV,
      };
    case 'dnf':
      return { argv: build ? ['dnf', '-y', '--setopt=install_weak_deps=False', 'install', ...names] : ['dnf', 'install', '-y', ...names], env: {} };
    case 'yum':
      return { argv: ['yum', 'install', '-y', ...names], env: {} };
    case 'zypper':
      return { argv: ['zypper', '--non-interactive', 'install', ...(build ? ['--no-recommends'] : []), ...names], env: {} };
  }
}

/** Removes packages (and, on apt, what only they needed). */
export function removeCommand(tool: PackageTool, names: readonly string[]): CommandSpec {
  switch (tool) {
    case 'apt':
      return { argv: ['apt-get', '-y', '-q', '--auto-remove', 'purge', ...names], env: APT_ENV };
    case 'dnf':
    case 'yum':
      return { argv: [tool, '-y', 'remove', ...names], env: {} };
    case 'zypper':
      return { argv: ['zypper', '--non-interactive', 'remove', ...names], env: {} };
  }
}

/** Refreshes the package lists, or undefined where the tool refreshes them itself (dnf, yum). */
export function updateCommand(tool: PackageTool): CommandSpec | undefined {
  switch (tool) {
    case 'apt':
      return { argv: ['apt-get', '-q', 'update'], env: APT_ENV };
    case 'zypper':
      return { argv: ['zypper', '--non-interactive', 'refresh'], env: {} };
    case 'dnf':
    case 'yum':
      return undefined;
  }
}

/** Drops the package lists and downloaded packages again (an image ships without them). */
export function cleanCommand(tool: PackageTool): CommandSpec {
  switch (tool) {
    case 'apt':
      return { argv: ['sh', '-c', 'apt-get clean && rm -rf /var/lib/apt/lists/*'], env: APT_ENV };
    case 'dnf':
    case 'yum':
      return { argv: [tool, 'clean', 'all'], env: {} };
    case 'zypper':
      return { argv: ['zypper', '--non-interactive', 'clean', '--all'], env: {} };
  }
}

/** dpkg-query prints one line per known package: name, version, status abbreviation ("ii " = installed). */
export const DPKG_FORMAT = '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n';

/** The one call that checks a list of packages (dpkg-query on apt, rpm -q elsewhere). */
export function checkCommand(tool: PackageTool, pkgs: readonly PackageRef[]): CommandSpec {
  switch (tool) {
    case 'apt':
      return { argv: ['dpkg-query', '-W', `-f=${DPKG_FORMAT}`, ...pkgs.map((p) => p.name)], env: {} };
    case 'dnf':
    case 'yum':
    case 'zypper':
      return { argv: ['rpm', '-q', ...pkgs.map((p) => (p.version === undefined ? p.name : `${p.name}-${p.version}`))], env: {} };
  }
}

/** What is missing according to the check's result: one phrase per package ("curl", "jq=1.7 (installed: 1.6)"). */
export function missingPackages(tool: PackageTool, pkgs: readonly PackageRef[], r: { exitCode: number; stdout: string; stderr: string }): string[] {
  switch (tool) {
    case 'apt':
      return missingFromDpkg(pkgs, r.stdout);
    case 'dnf':
    case 'yum':
    case 'zypper':
      return missingFromRpm(pkgs, r);
  }
}

function missingFromDpkg(pkgs: readonly PackageRef[], stdout: string): string[] {
  const known = new Map<string, { version: string; status: string }>();
  for (const line of stdout.split('\n')) {
    const [name, version, status] = line.split('\t');
    if (name && version !== undefined) known.set(name, { version, status: status ?? '' });
  }
  const missing: string[] = [];
  for (const p of pkgs) {
    const k = known.get(p.name) ?? known.get(p.name.split(':')[0] ?? p.name);
    if (!k || !k.status.startsWith('ii')) missing.push(p.version === undefined ? p.name : `${p.name}=${p.version}`);
    else if (p.version !== undefined && k.version !== p.version) missing.push(`${p.name}=${p.version} (installed: ${k.version})`);
  }
  return missing;
}

function missingFromRpm(pkgs: readonly PackageRef[], r: { exitCode: number; stdout: string; stderr: string }): string[] {
  const missing: string[] = [];
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const m = /^package (\S+) is not installed/.exec(line.trim());
    if (m?.[1]) missing.push(m[1]);
  }
  // rpm failed without saying which: report the whole list.
  if (missing.length === 0 && r.exitCode !== 0) return pkgs.map((p) => (p.version === undefined ? p.name : `${p.name}-${p.version}`));
  return missing;
}
