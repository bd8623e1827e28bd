/**
 * Per family: the one command that checks a list of packages, the one that installs them, and how a
 * version pin is written (apt `name=ver`, dnf/yum `name-ver`, zypper `name=ver`; rpm -q `name-ver`).
 */
import type { CommandResult, DistroFamily } from './targets/target.js';
import type { PackageRef } from './types.js';

export type PackageTool = 'apt' | 'dnf' | 'yum' | 'zypper';

export interface CommandSpec {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
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

/** dpkg-query prints one line per known package: name, version, status abbreviation ("ii " = installed). */
export const DPKG_FORMAT = '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n';

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

export function installCommand(tool: PackageTool, pkgs: readonly PackageRef[]): CommandSpec {
  const names = pkgs.map((p) => renderPin(tool, p));
  switch (tool) {
    case 'apt':
      return { argv: ['apt-get', '-y', 'install', ...names], env: { DEBIAN_FRONTEND: 'noninteractive' } };
    case 'dnf':
    case 'yum':
      return { argv: [tool, 'install', '-y', ...names], env: {} };
    case 'zypper':
      return { argv: ['zypper', '--non-interactive', 'install', ...names], env: {} };
  }
}

/** What is missing according to the check's result: one phrase per package ("curl", "jq (have 1.6, want 1.7)"). */
export function missingPackages(tool: PackageTool, pkgs: readonly PackageRef[], r: CommandResult): string[] {
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

function missingFromRpm(pkgs: readonly PackageRef[], r: CommandResult): string[] {
  const missing: string[] = [];
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const m = /^package (\S+) is not installed/.exec(line.trim());
    if (m?.[1]) missing.push(m[1]);
  }
  // rpm failed without saying which: report the whole list.
  if (missing.length === 0 && r.exitCode !== 0) return pkgs.map((p) => (p.version === undefined ? p.name : `${p.name}-${p.version}`));
  return missing;
}
