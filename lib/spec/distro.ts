/**
 * Distro detection from os-release (ID, ID_LIKE) and the family table. Sahara's table lacked
 * `debian` itself (so package validators raised KeyError on Debian); here every family name maps to
 * itself, and ID_LIKE finds the family of derivatives the table does not list.
 */
import { parseOsRelease } from '../distro/os-release.js';
import type { RunContext } from './context.js';

export { parseOsRelease };
import type { Distro, DistroFamily } from './targets/target.js';

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

/** The family of a distro ID, else of the first ID_LIKE entry that has one. */
export function familyOf(id: string, like: readonly string[] = []): DistroFamily | undefined {
  for (const name of [id, ...like]) {
    const family = FAMILIES[name.toLowerCase()];
    if (family) return family;
  }
  return undefined;
}

export function distroFromOsRelease(text: string): Distro | undefined {
  const fields = parseOsRelease(text);
  const id = fields.ID?.toLowerCase();
  if (!id) return undefined;
  const like = (fields.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter((s) => s !== '');
  return { id, like, family: familyOf(id, like) };
}

/**
 * The distro a validator sees: the `distro` argument (a script's `output` may overwrite it, as in
 * Sahara), with ID_LIKE applied only while it is still the detected one.
 */
export function effectiveDistro(ctx: RunContext): Distro {
  const id = ctx.args.get('distro') ?? ctx.detected.id;
  if (id === ctx.detected.id) return ctx.detected;
  return { id, like: [], family: familyOf(id) };
}
