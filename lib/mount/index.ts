/**
 * The only place kiln mounts. Every mount is registered on a Scope, which unmounts in reverse order.
 * Builds run in a private mount namespace (lib/namespace), so even a killed build leaks nothing to the host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import { inUserNamespace } from '../namespace/rootless.js';
import type { Scope } from '../scope/index.js';

export interface MountOptions {
  readonly readonly?: boolean;
  readonly recursive?: boolean;
  readonly options?: readonly string[];
}

/** Bind-mounts src on dst (created if missing); read-only needs a remount, done here. */
export async function bindMount(scope: Scope, src: string, dst: string, opts: MountOptions = {}): Promise<void> {
  fs.mkdirSync(dst, { recursive: true });
  await run('mount', [opts.recursive ? '--rbind' : '--bind', src, dst]);
  scope.defer(`unmount ${dst}`, () => unmount(dst, opts.recursive === true));
  await run('mount', ['--make-rprivate', dst]);
  if (opts.readonly) await run('mount', ['-o', 'remount,bind,ro', dst]);
}

/** Mounts a filesystem of a type (proc, sysfs, tmpfs, devpts, …). */
export async function mountFs(scope: Scope, type: string, src: string, dst: string, opts: MountOptions = {}): Promise<void> {
  fs.mkdirSync(dst, { recursive: true });
  const o = [...(opts.options ?? []), ...(opts.readonly ? ['ro'] : [])];
  await run('mount', ['-t', type, ...(o.length > 0 ? ['-o', o.join(',')] : []), src, dst]);
  scope.defer(`unmount ${dst}`, () => unmount(dst, false));
}

/**
 * A throwaway writable view of `lower` at `dst`: overlayfs whose upper and work directories are on a tmpfs of
 * their own at `scratch`, so whatever is written through `dst` lands in memory and is gone when the scope
 * closes; `lower` is never written.
 */
export async function mountOverlay(scope: Scope, lower: string, dst: string, scratch: string): Promise<void> {
  const abs = path.resolve(lower);
  // overlayfs options are comma-separated and lowerdir colon-separated: such a path cannot be passed.
  const unsafe = (p: string) => /[,:\\\n]/.test(p);
  if (unsafe(abs)) throw invalid(`tree "${lower}": its path holds a comma, colon, backslash or newline, which an overlay mount cannot name`, 'move or link the tree to a plain path');
  if (unsafe(path.resolve(scratch))) throw invalid(`the temporary directory "${scratch}" holds a comma, colon, backslash or newline, which an overlay mount cannot name`, 'point TMPDIR at a plain path');
  await mountFs(scope, 'tmpfs', 'kiln-overlay', scratch, { options: ['mode=0700'] });
  fs.mkdirSync(path.join(scratch, 'upper'));
  fs.mkdirSync(path.join(scratch, 'work'));
  fs.mkdirSync(dst, { recursive: true });
  const o = `lowerdir=${abs},upperdir=${path.join(scratch, 'upper')},workdir=${path.join(scratch, 'work')}`;
  const r = await run('mount', ['-t', 'overlay', '-o', o, 'kiln-overlay', dst], { allowFailure: true, label: `overlay of ${lower}` });
  if (r.exitCode !== 0) throw failed(`cannot lay a throwaway overlay over the tree "${lower}" (${r.stderr.trim().split('\n').pop() ?? `mount exited ${r.exitCode}`})`, { hint: 'overlayfs cannot use a tree on this filesystem as its lower layer; copy the tree to a local filesystem' });
  scope.defer(`unmount ${dst}`, () => unmount(dst, false));
}

/**
 * Mounts the filesystem found at [offset, offset+size) of a file, through a loop device that detaches
 * itself when unmounted (and when kiln's mount namespace ends, after a kill). Returns the early unmount,
 * or undefined when nothing mountable is there.
 */
export async function mountLoop(scope: Scope, file: string, dst: string, at: { offset: number; size: number }): Promise<(() => Promise<void>) | undefined> {
  fs.mkdirSync(dst, { recursive: true });
  const r = await run('mount', ['-o', `loop,offset=${at.offset},sizelimit=${at.size}`, file, dst], { allowFailure: true, label: `mount ${file}` });
  if (r.exitCode !== 0) return undefined;
  return scope.defer(`unmount ${dst}`, () => unmount(dst, false));
}

/** Unmounts; a busy mount is retried, then detached lazily so teardown always completes. */
export async function unmount(dst: string, recursive: boolean): Promise<void> {
  // In a user namespace a recursive bind's submounts came locked from the host (rootless builds): they cannot be
  // unmounted one by one (umount -R fails on them), only detached with their parent, which one lazy umount does.
  if (recursive && inUserNamespace()) {
    await run('umount', ['--lazy', dst], { cancellable: false });
    return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    // Teardown runs after an interrupt too: never cancelled.
    const r = await run('umount', [...(recursive ? ['-R'] : []), dst], { allowFailure: true, cancellable: false });
    if (r.exitCode === 0 || !isMounted(dst)) return;
    await new Promise((res) => setTimeout(res, 200 * (attempt + 1)));
  }
  await run('umount', ['--lazy', ...(recursive ? ['-R'] : []), dst], { cancellable: false });
}

/** Mount points at or below a directory, deepest first (reads /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts every mount at or below dir, deepest first, and returns their paths: the mounts a hook made
 * (diskimage-builder's pip-cache binds a host cache into the tree) must go before anything deletes files
 * in the tree, or the deletion would reach through them into the host.
 */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const found = mountsUnder(dir);
  for (const m of found) if (isMounted(m)) await unmount(m, true);
  return found;
}

export function isMounted(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}
