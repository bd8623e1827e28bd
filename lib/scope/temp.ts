/**
 * kiln's temporary directories, made by tmp-promise (TMPDIR/PREFIX-PID-RANDOM, mode 0700) and removed with
 * everything in them: when their scope closes (success, failure or interrupt), and in any case when the
 * process exits (tmp's graceful cleanup). The build's work directory is the exception (lib/build/workdir.ts):
 * it holds mounts, and its removal must unmount them first.
 */
import { dir, dirSync, setGracefulCleanup, withDir } from 'tmp-promise';
import type { Scope } from './index.js';

setGracefulCleanup();

/** A new temporary directory, removed when `scope` closes (under `label`, which scope.keep() may name). */
export async function scopedTempDir(scope: Scope, prefix: string, label = `remove the temporary directory ${prefix}`, parent?: string): Promise<string> {
  const d = await dir({ prefix, unsafeCleanup: true, ...(parent === undefined ? {} : { tmpdir: parent }) });
  scope.defer(label, () => d.cleanup());
  return d.path;
}

/** A new temporary directory made at once, for a constructor: `remove()` removes it (or the process's exit does). */
export function tempDirSync(prefix: string): { readonly path: string; remove(): void } {
  const d = dirSync({ prefix, unsafeCleanup: true });
  return { path: d.name, remove: () => d.removeCallback() };
}

/** Runs `fn` with a new temporary directory, removed afterwards whatever happens. */
export function withTempDir<T>(prefix: string, fn: (path: string) => Promise<T>, parent?: string): Promise<T> {
  return withDir((d) => fn(d.path), { prefix, unsafeCleanup: true, ...(parent === undefined ? {} : { tmpdir: parent }) });
}
