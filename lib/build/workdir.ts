/**
 * The build's work directory and its owner marker. A marker names the owning process (host pid and
 * its start time) so that a later build can tell a dead build's leftovers from a running build's, and
 * sweep only kiln's own stale state — never anything else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failed } from '../errors/index.js';
import { run } from '../exec/index.js';
import { isMounted, mountFs, unmountAllUnder } from '../mount/index.js';
import { clearStaleLock, isLockLeftover, removeLockLeftover } from '../namespace/lock.js';
import { currentOwner, ownerAlive, readOwnerFile } from '../namespace/owner.js';
import { partialOwner } from '../output/atomic.js';
import type { Scope } from '../scope/index.js';

const PREFIX = 'kiln-build-';
const MARKER = '.kiln-owner';

/** Creates the work directory (a tmpfs when asked), registering its removal. */
export async function createWorkDir(scope: Scope, tmpfs: boolean): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  scope.defer(`remove ${dir}`, () => removeTree(dir));
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify(currentOwner()));
  if (tmpfs) await mountFs(scope, 'tmpfs', 'kiln-build', dir, { options: ['mode=0755'] });
  return dir;
}

const MiB = 2 ** 20;

/**
 * A failure because the work directory's filesystem filled up becomes one clear error: where, how big that
 * filesystem is, how far the build got. Undefined when the filesystem still has room (another cause).
 */
export async function workDirFull(e: unknown, work: string): Promise<Error | undefined> {
  let st: fs.StatsFs;
  try {
    st = fs.statfsSync(work);
  } catch {
    return undefined;
  }
  const free = st.bavail * st.bsize;
  const text = `${(e as Error).message ?? ''} ${(e as { detail?: string }).detail ?? ''}`;
  if (free >= MiB && !(/No space left on device|ENOSPC/.test(text) && free < 16 * MiB)) return undefined;
  const du = await run('du', ['-sxb', work], { allowFailure: true, cancellable: false });
  const used = Number(du.stdout.split('\t')[0]);
  const reached = Number.isFinite(used) ? `; the build had written ${(used / MiB).toFixed(1)} MiB there and needed more` : '';
  const tmpfs = isMounted(work);
  const cause = (e as Error).message ? `: ${(e as Error).message}` : '';
  return failed(`no space left in the work directory ${work}${tmpfs ? ', kiln\'s tmpfs' : ''} (${((st.blocks * st.bsize) / MiB).toFixed(1)} MiB filesystem, ${(free / MiB).toFixed(1)} MiB free)${cause}${reached}`, {
    hint: tmpfs ? 'build with --no-tmpfs (the work directory then lives on TMPDIR\'s filesystem), or add memory' : 'point TMPDIR at a larger filesystem: kiln makes its work directory there',
  });
}

/** Unmounts whatever is still mounted below dir, then rm -rf that never crosses into another filesystem. */
export async function removeTree(dir: string): Promise<void> {
  await unmountAllUnder(dir);
  await run('rm', ['-rf', '--one-file-system', dir], { cancellable: false, allowFailure: true });
}

/** Removes work directories and partial outputs left by kiln builds that are no longer running. */
export async function sweepStale(outputDirs: readonly string[], log: (msg: string) => void): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of safeList(tmp)) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(tmp, name);
    const owner = readOwnerFile(path.join(dir, MARKER));
    if (!owner || ownerAlive(owner)) continue;
    log(`removing ${dir}, left by a kiln build that is no longer running (pid ${owner.pid})`);
    await removeTree(dir);
  }
  for (const out of outputDirs) {
    for (const name of safeList(out)) {
      if (name.endsWith('.kiln-lock')) {
        clearStaleLock(path.join(out, name));
        continue;
      }
      if (isLockLeftover(name)) {
        removeLockLeftover(out, name);
        continue;
      }
      const owner = partialOwner(name);
      if (!owner || ownerAlive(owner)) continue;
      log(`removing ${path.join(out, name)}, a partial output of a kiln build that is no longer running`);
      fs.rmSync(path.join(out, name), { force: true, recursive: true });
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
