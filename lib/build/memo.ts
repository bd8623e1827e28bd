/**
 * Memoised hook work, for finalise.d (the distribution's initramfs: flavours/debian-minimal/finalise.d/10-initramfs).
 * A hook that makes something expensive from inputs it can digest looks in KILN_MEMO_DIR (the memo, bound read-only
 * into the tree) for an entry under the digest of those inputs, and leaves a new entry in KILN_MEMO_OUT (a directory
 * in the tree); after the phase kiln moves new entries into its cache, <image cache>/kiln/memo/<kind>/<digest>/, and
 * keeps the newest few of each kind. A hook that reused an entry leaves <kind>/<digest>.used there, which keeps it
 * fresh. The variables are set only while finalise.d runs with the step cache on: with --no-cache hooks make
 * everything. The tree is left as it was (the two directories removed, /run's times put back), so a build that
 * used the memo makes the same bytes as one that did not.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/index.js';
import { bindMount } from '../mount/index.js';
import { hostPath } from '../rootfs/paths.js';
import { Scope } from '../scope/index.js';
import { currentOwner } from '../namespace/owner.js';

export const MEMO_INSIDE = '/run/kiln-memo';
export const MEMO_OUT_INSIDE = '/run/kiln-memo-out';
/** Entries kept per kind (an initramfs is 10-40 MiB): the newest made or used. */
export const MEMO_KEEP = 6;

const ENTRY = /^[0-9a-f]{32}$/;

export function memoDir(imageCache: string): string {
  return path.join(imageCache, 'kiln', 'memo');
}

/** Runs fn (a phase in the entered tree) with the memo bound in and the variables set in env; collects new entries after. */
export async function withMemo<T>(root: string, imageCache: string, env: Record<string, string>, log: Logger, fn: () => Promise<T>): Promise<T> {
  const cache = memoDir(imageCache);
  fs.mkdirSync(cache, { recursive: true });
  const run = hostPath(root, 'run');
  const runExisted = fs.existsSync(run);
  const runTimes = runExisted ? fs.statSync(run) : undefined;
  const mountpoint = path.join(run, path.basename(MEMO_INSIDE));
  const out = path.join(run, path.basename(MEMO_OUT_INSIDE));
  if (fs.existsSync(mountpoint) || fs.existsSync(out)) {
    log.info(`  memo: ${MEMO_INSIDE} or ${MEMO_OUT_INSIDE} is already in the tree: hooks make everything`);
    return fn();
  }
  fs.mkdirSync(out, { recursive: true, mode: 0o755 });
  const scope = new Scope();
  try {
    await bindMount(scope, cache, mountpoint, { readonly: true });
    env.KILN_MEMO_DIR = MEMO_INSIDE;
    env.KILN_MEMO_OUT = MEMO_OUT_INSIDE;
    const result = await fn();
    await scope.close();
    collectMemo(out, cache, log);
    return result;
  } finally {
    delete env.KILN_MEMO_DIR;
    delete env.KILN_MEMO_OUT;
    await scope.close();
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(mountpoint, { recursive: true, force: true });
    if (!runExisted) fs.rmSync(run, { recursive: true, force: true });
    else if (runTimes) fs.utimesSync(run, runTimes.atime, runTimes.mtime);
  }
}

/** Moves the entries hooks left in `out` into the memo, refreshes the ones they reused, prunes each kind to MEMO_KEEP. */
export function collectMemo(out: string, cache: string, log: Logger): void {
  for (const kind of readDirs(out)) {
    if (!/^[a-z0-9-]+$/.test(kind)) continue;
    const from = path.join(out, kind);
    const to = path.join(cache, kind);
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) {
      const used = /^([0-9a-f]{32})\.used$/.exec(name);
      if (used) {
        const entry = path.join(to, used[1] as string);
        if (fs.existsSync(entry)) fs.utimesSync(entry, new Date(), new Date());
        continue;
      }
      if (!ENTRY.test(name) || !fs.statSync(path.join(from, name)).isDirectory()) continue;
      const dst = path.join(to, name);
      if (fs.existsSync(dst)) continue;
      const o = currentOwner();
      const part = `${dst}.kiln-part-${o.pid}-${o.start}`;
      try {
        fs.cpSync(path.join(from, name), part, { recursive: true });
        fs.renameSync(part, dst);
        log.info(`  memo: kept ${kind} ${name.slice(0, 12)} (${(dirBytes(dst) / 2 ** 20).toFixed(1)} MiB) for a later build with the same inputs`);
      } catch {
        // Another build stored the same entry meanwhile: the same bytes.
      } finally {
        fs.rmSync(part, { recursive: true, force: true });
      }
    }
    for (const gone of pruneKind(to, MEMO_KEEP)) log.info(`  memo: pruned ${kind} ${gone.slice(0, 12)} (over ${MEMO_KEEP} entries)`);
  }
}

/** Removes all but the `keep` newest entries (by mtime) of a kind's directory; the names removed. */
export function pruneKind(dir: string, keep: number): string[] {
  const entries = readDirs(dir)
    .filter((n) => ENTRY.test(n))
    .map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t || (a.n < b.n ? -1 : 1));
  const gone = entries.slice(keep).map((e) => e.n);
  for (const n of gone) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  return gone;
}

function readDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/**
 * What `kiln plan` says of the memo: the finalise.d hooks that use it (their text names KILN_MEMO_DIR), as
 * "[flavour] finalise.d/hook", and how many entries the memo holds of each kind.
 */
export function memoOutlook(phases: readonly { name: string; hooks: readonly { name: string; flavour: string; path: string }[] }[], imageCache: string): { users: string[]; entries: Record<string, number> } {
  const finalise = phases.find((p) => p.name === 'finalise.d');
  const users = (finalise?.hooks ?? []).filter((h) => readText(h.path).includes('KILN_MEMO_DIR')).map((h) => `[${h.flavour}] finalise.d/${h.name}`);
  const dir = memoDir(imageCache);
  const entries = Object.fromEntries(readDirs(dir).map((k) => [k, readDirs(path.join(dir, k)).filter((n) => ENTRY.test(n)).length]));
  return { users, entries };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}
