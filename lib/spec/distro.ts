/** The distro a spec sees: detected from os-release (ID, ID_LIKE) with lib/distro's family table. */
import { familyOf } from '../distro/packages.js';
import { parseOsRelease } from '../distro/os-release.js';
import type { RunContext } from './context.js';
import type { Distro } from './targets/target.js';

export { familyOf, parseOsRelease };

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
