/**
 * Lock files that two processes can never both hold, even when both find a dead owner's lock at once.
 *
 * A lock is a file holding its owner (lib/namespace/owner.ts), created whole with link(2), which fails when
 * the name exists: no half-written lock is ever seen. A lock whose owner is gone is taken over in two
 * atomic steps: first a marker named after the dead owner (`LOCK.takeover-PID-START-N`, again made with
 * link, so one process wins it), then, by the marker's winner only, a check that the lock still names the
 * dead owner and its removal. A dead owner never takes a lock again, so nobody else can change a lock
 * that names it meanwhile; everyone else retries and finds either no lock or the winner's live one. A
 * winner that dies holding its marker leaves the next attempt to marker N+1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { currentOwner, ownerAlive, readOwnerFile, type Owner } from './owner.js';

export type LockAttempt = { readonly release: () => void } | { readonly holder: Owner };

const sameOwner = (a: Owner | undefined, b: Owner) => a !== undefined && a.pid === b.pid && a.start === b.start;
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** How long a lock file that names no owner may be one being written (only on filesystems without link(2)). */
const UNNAMED_GRACE_MS = 60_000;

/**
 * Who a lock (or marker) file names, and whether that owner lives; undefined when there is no file. A file
 * that names no owner (written by something else, or half-written where link(2) is not available) is known
 * by its inode and counts as alive while it is young.
 */
function identify(file: string): { owner: Owner; alive: boolean } | undefined {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  const owner = readOwnerFile(file);
  if (owner) return { owner, alive: ownerAlive(owner) };
  if (!fs.existsSync(file)) return undefined;
  return { owner: { pid: 0, start: `inode-${st.ino}` }, alive: Date.now() - st.mtimeMs < UNNAMED_GRACE_MS };
}

/** Creates `file` holding `content` unless it exists (false then); never leaves it half-written where link(2) works. */
function createWhole(file: string, content: string, mode: number): boolean {
  const me = currentOwner();
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.new-${me.pid}-${me.start}-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(tmp, content, { mode });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // vfat, exFAT and some network filesystems have no hard links: an exclusive create instead.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createExclusive(file, content, mode);
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function createExclusive(file: string, content: string, mode: number): boolean {
  try {
    fs.writeFileSync(file, content, { mode, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes the lock `file` for this process, or returns the live owner that holds it; a dead owner's lock is
 * taken over. The release removes the lock if it is still this process's.
 */
export function tryLock(file: string, mode = 0o644): LockAttempt {
  const me = currentOwner();
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 300; attempt++) {
    if (createWhole(file, text, mode)) {
      return { release: () => (sameOwner(readOwnerFile(file), me) ? fs.rmSync(file, { force: true }) : undefined) };
    }
    const held = identify(file);
    if (held === undefined) continue; // released meanwhile: try again
    if (held.alive && held.owner.pid !== 0) return { holder: held.owner };
    if (held.alive) {
      sleep(10); // a file that names no owner yet: maybe one being written
      continue;
    }
    if (!removeDead(file, held.owner)) sleep(10);
  }
  throw new Error(`${file} exists but does not name a live owner; remove it if no kiln is running`);
}

/**
 * Removes `file` if it still names `dead` (whose owner is gone), taking the takeover marker first; false
 * when another process is taking it over right now.
 */
function removeDead(file: string, dead: Owner): boolean {
  const me = currentOwner();
  for (let n = 0; n < 100; n++) {
    const marker = `${file}.takeover-${dead.pid}-${dead.start}-${n}`;
    if (!createWhole(marker, JSON.stringify(me), 0o644)) {
      const taker = identify(marker);
      if (taker === undefined || taker.alive) return false;
      continue; // its taker died: the next marker
    }
    try {
      if (sameOwner(identify(file)?.owner, dead)) fs.rmSync(file, { force: true });
      return true;
    } finally {
      fs.rmSync(marker, { force: true });
    }
  }
  return false;
}

/** Removes the lock `file` if its owner is gone (never a live owner's, even one that just took it over). */
export function clearStaleLock(file: string): void {
  const held = identify(file);
  if (held !== undefined && !held.alive) removeDead(file, held.owner);
}

/** Whether a directory entry is a lock's leftover marker or half-made file (see removeLockLeftover). */
export function isLockLeftover(name: string): boolean {
  return /\.takeover-\d+-[\w-]+-\d+$/.test(name) || /\.new-\d+-\d+-[0-9a-z]+$/.test(name);
}

/**
 * Removes a marker or half-made lock file in `dir` whose maker is gone. A dead maker's marker may go once
 * the lock no longer names the owner it was taking over from (that never changes back).
 */
export function removeLockLeftover(dir: string, name: string): void {
  const p = path.join(dir, name);
  const maker = identify(p);
  if (maker === undefined || maker.alive) return;
  const m = /^(.*)\.takeover-(\d+)-([\w-]+)-\d+$/.exec(name);
  if (m && sameOwner(identify(path.join(dir, m[1] as string))?.owner, { pid: Number(m[2]), start: m[3] as string })) return;
  fs.rmSync(p, { force: true });
}
