/**
 * Entering a tree: /proc, /sys, /dev and /dev/pts mounted, the staged hooks visible read-only at
 * /tmp/in_target.d, the host's resolv.conf while the build runs, daemons blocked from starting
 * (policy-rc.d). Everything is undone in reverse order by the Scope, which restores the image's own
 * resolv.conf and policy-rc.d. (The shared apt archive cache is bound in only around kiln's own package
 * steps: see build/packages.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { bindMount, mountFs } from '../mount/index.js';
import { inUserNamespace } from '../namespace/rootless.js';
import { existsInTree, hostPath } from '../rootfs/paths.js';
import { Scope } from '../scope/index.js';

export const HOOKS_INSIDE = '/tmp/in_target.d';


export interface ChrootOptions {
  /** Host directory with the staged hooks (TMP_HOOKS_PATH), bound read-only at /tmp/in_target.d. */
  readonly hooksDir?: string;
}

/** Sets the tree up for running commands inside it; the returned Scope undoes it all. */
export async function enterChroot(root: string, opts: ChrootOptions): Promise<Scope> {
  const scope = new Scope();
  try {
    // Every place is resolved inside the tree first: a tree whose /proc or /dev is a link to a host
    // directory gets the mount inside itself, never on the host's directory.
    await mountFs(scope, 'proc', 'proc', hostPath(root, 'proc'));
    // In a user namespace (a rootless build) the host's /sys and /dev are locked together with their submounts
    // (cgroup, /dev/pts, /dev/shm, …): only a recursive bind may take them, and it brings /dev/pts along.
    const locked = inUserNamespace();
    await bindMount(scope, '/sys', hostPath(root, 'sys'), { readonly: true, recursive: locked });
    await bindMount(scope, '/dev', hostPath(root, 'dev'), { recursive: locked });
    if (!locked) await bindMount(scope, '/dev/pts', hostPath(root, 'dev/pts'));
    if (opts.hooksDir) await bindMount(scope, opts.hooksDir, hostPath(root, HOOKS_INSIDE), { readonly: true });
    replaceFile(scope, root, 'etc/resolv.conf', hostResolvConf());
    replaceFile(scope, root, 'usr/sbin/policy-rc.d', '#!/bin/sh\n# kiln: no daemons start during the build\nexit 101\n', 0o755);
    return scope;
  } catch (e) {
    await scope.close();
    throw e;
  }
}

/**
 * The host's resolver for one command in the tree (a package manager run), when a package installed
 * earlier in the build replaced the tree's resolv.conf (systemd-resolved makes it a symlink to a stub that
 * only answers in a booted system): that replacement is put back afterwards, so the image keeps it.
 */
export function ensureHostResolvConf(scope: Scope, root: string): void {
  const content = hostResolvConf();
  if (unchanged(hostPath(root, 'etc/resolv.conf', { keepLast: true }), content)) return;
  replaceFile(scope, root, 'etc/resolv.conf', content, 0o644, '.kiln-pkg');
}

function hostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Puts a file in place for the build and registers the restore of what was there (a file, a
 * symlink, or nothing). The original is moved aside under a kiln-marked name inside the tree. The
 * directory is resolved inside the tree (its /etc may be a link) and the file itself is never followed:
 * a symlink there is moved aside as a link.
 */
export function replaceFile(scope: Scope, root: string, rel: string, content: string, mode = 0o644, savedSuffix = '.kiln-orig'): void {
  const target = hostPath(root, rel, { keepLast: true });
  if (!fs.existsSync(path.dirname(target))) return;
  const saved = `${target}${savedSuffix}`;
  const existed = lexists(target);
  if (existed) fs.renameSync(target, saved);
  // wx: whatever appears at the name meanwhile is never written through.
  fs.writeFileSync(target, content, { mode, flag: 'wx' });
  scope.defer(`restore /${rel}`, () => {
    // A package or hook that replaced the file on purpose (e.g. systemd-resolved's symlink) wins.
    if (!unchanged(target, content)) {
      fs.rmSync(saved, { force: true });
      return;
    }
    fs.rmSync(target, { force: true });
    if (existed) fs.renameSync(saved, target);
  });
}

function unchanged(p: string, content: string): boolean {
  try {
    return !fs.lstatSync(p).isSymbolicLink() && fs.readFileSync(p, 'utf8') === content;
  } catch {
    return false;
  }
}

function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Which shell runs hooks inside the tree: bash when the tree has it (Debian), else sh (busybox). */
export function treeShell(root: string): string {
  return existsInTree(root, '/bin/bash') ? '/bin/bash' : '/bin/sh';
}
