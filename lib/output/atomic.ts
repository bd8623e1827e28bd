/**
 * Outputs appear complete or not at all: each is written beside its destination under a temporary
 * name with a kiln marker (.NAME.kiln-part-PID), registered on the Scope for removal, and renamed
 * into place only when complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { currentOwner, type Owner } from '../namespace/owner.js';
import type { Scope } from '../scope/index.js';

export const PART_MARKER = '.kiln-part-';

/** .NAME.kiln-part-PID-START: the owner is the building process as the host sees it. */
export function partialPathFor(dest: string, owner: Owner = currentOwner()): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}${PART_MARKER}${owner.pid}-${owner.start}`);
}

/** The owner of a partial output, from its name; undefined for names that are not kiln's. */
export function partialOwner(name: string): Owner | undefined {
  // Outputs: .NAME.kiln-part-PID-START; cached base trees: NAME.kiln-part-PID-START.tar.zst.
  const m = /\.kiln-part-([0-9]+)-([0-9]+)(\.tar\.zst)?$/.exec(name);
  return m ? { pid: Number(m[1]), start: m[2] as string } : undefined;
}

/** True for names kiln uses for partial outputs (so stale ones can be found and cleaned). */
export function isPartialName(name: string): boolean {
  return partialOwner(name) !== undefined;
}

/** Runs write(tmp); on success renames tmp onto dest; on failure (or if the scope closes first) removes tmp. */
export async function writeAtomically<T>(scope: Scope, dest: string, write: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = partialPathFor(dest);
  const label = `remove partial output ${tmp}`;
  fs.rmSync(tmp, { force: true, recursive: true });
  scope.defer(label, () => fs.rmSync(tmp, { force: true, recursive: true }));
  try {
    const result = await write(tmp);
    fs.renameSync(tmp, dest);
    scope.keep(label);
    return result;
  } catch (e) {
    fs.rmSync(tmp, { force: true, recursive: true });
    scope.keep(label);
    throw e;
  }
}

/** Writes a small text file atomically. */
export async function writeTextAtomically(scope: Scope, dest: string, text: string): Promise<void> {
  await writeAtomically(scope, dest, async (tmp) => fs.writeFileSync(tmp, text, { mode: 0o644 }));
}
