/**
 * Rootless builds: an ordinary user (no sudo) runs the build inside a user namespace of its own, mapped
 * through /etc/subuid and /etc/subgid (newuidmap/newgidmap, Debian's uidmap): the user is root (0) inside,
 * uids 1…65535 inside are the user's subordinate range outside. So package scripts chown, chroot enters, the
 * mounts kiln makes (proc, tmpfs, overlay, recursive binds of /dev and /sys) work, and every file of the tree
 * keeps its real owner in the outputs (a root-owned file is 0:0 in the tar and the ext4), while what lands
 * outside the namespace (outputs, cache files, the lock) belongs to the user. Mount and PID namespaces come
 * with it, as for root builds (lib/namespace/index.ts).
 *
 * What the host must allow is checked first, and a refusal names what to enable; nothing is changed then.
 */
import fs from 'node:fs';
import os from 'node:os';
import { run } from '../exec/index.js';
import { findCommand } from '../exec/spawn.js';
import { runNamespaced } from './index.js';

/** Subordinate ids a user needs: 0…65535 inside covers every id a Debian tree uses (nogroup is 65534). */
export const SUBID_COUNT = 65536;

export interface SubidRange {
  readonly start: number;
  readonly count: number;
}

export interface RootlessProblem {
  readonly message: string;
  readonly hint: string;
}

/**
 * The first range of /etc/subuid (or subgid) text for a user, by name or by uid (as newuidmap reads it), or
 * undefined. Lines are NAME_OR_ID:START:COUNT; comments and bad lines are skipped.
 */
export function subidRange(text: string, name: string | undefined, id: number): SubidRange | undefined {
  for (const line of text.split('\n')) {
    const m = /^([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(line.trim());
    if (!m) continue;
    if (m[1] !== name && m[1] !== String(id)) continue;
    return { start: Number(m[2]), count: Number(m[3]) };
  }
  return undefined;
}

/** The kernel's switches for unprivileged user namespaces, read from /proc/sys (a missing file allows). */
export interface UsernsSwitches {
  /** kernel.unprivileged_userns_clone (Debian kernels before 6.x; absent upstream). */
  readonly unprivilegedClone: string | undefined;
  /** user.max_user_namespaces. */
  readonly maxUserNamespaces: string | undefined;
  /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later). */
  readonly apparmorRestrict: string | undefined;
}

/** What forbids unprivileged user namespaces on this kernel, as one problem; undefined when nothing does. */
export function usernsProblem(s: UsernsSwitches): RootlessProblem | undefined {
  if (s.unprivilegedClone?.trim() === '0') {
    return { message: 'unprivileged user namespaces are disabled on this host (kernel.unprivileged_userns_clone = 0)', hint: 'as root: sysctl -w kernel.unprivileged_userns_clone=1' };
  }
  if (s.maxUserNamespaces?.trim() === '0') {
    return { message: 'user namespaces are disabled on this host (user.max_user_namespaces = 0)', hint: 'as root: sysctl -w user.max_user_namespaces=15000' };
  }
  if (s.apparmorRestrict?.trim() === '1') {
    return {
      message: 'AppArmor restricts unprivileged user namespaces on this host (kernel.apparmor_restrict_unprivileged_userns = 1)',
      hint: 'as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile that allows userns for kiln\'s node',
    };
  }
  return undefined;
}

/**
 * The first id after every range of the given /etc/subuid and /etc/subgid texts (at least 100000, useradd's
 * SUB_UID_MIN): where a new range can start without overlapping another user's.
 */
export function freeSubidStart(...texts: readonly (string | undefined)[]): number {
  let end = 100000;
  for (const text of texts) {
    for (const line of (text ?? '').split('\n')) {
      const m = /^[^:#\s][^:]*:(\d+):(\d+)\s*$/.exec(line.trim());
      if (m) end = Math.max(end, Number(m[1]) + Number(m[2]));
    }
  }
  return end;
}

/**
 * What keeps a user from a usable subordinate range in one of the files, or undefined. `free`: where a new range
 * could start (freeSubidStart), for the hint's command.
 */
export function subidProblem(file: '/etc/subuid' | '/etc/subgid', text: string | undefined, name: string | undefined, id: number, free: number): RootlessProblem | undefined {
  const who = name ?? `uid ${id}`;
  const ids = `${free}-${free + SUBID_COUNT - 1}`;
  const hint = `as root: usermod --add-subuids ${ids} --add-subgids ${ids} ${who}`;
  const kind = file === '/etc/subuid' ? 'uid' : 'gid';
  const range = text === undefined ? undefined : subidRange(text, name, id);
  if (!range) return { message: `${who} has no subordinate ${kind} range in ${file} (the image's owners are mapped to one)`, hint };
  if (range.count < SUBID_COUNT) {
    return { message: `${who}'s subordinate ${kind} range in ${file} has ${range.count} ids; a rootless build needs ${SUBID_COUNT} (the image's owners 0…65535)`, hint };
  }
  return undefined;
}

function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function userName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

/**
 * Why this user cannot build rootless here, or undefined when it can: the kernel's switches, newuidmap and
 * newgidmap, util-linux's unshare with --map-auto (2.38), the user's subordinate ranges, and finally a probe
 * (a namespace made and left at once), which catches what no file says (a seccomp filter, a container).
 */
export async function rootlessProblem(): Promise<RootlessProblem | undefined> {
  const sys = (p: string) => readOptional(`/proc/sys/${p}`);
  const userns = usernsProblem({ unprivilegedClone: sys('kernel/unprivileged_userns_clone'), maxUserNamespaces: sys('user/max_user_namespaces'), apparmorRestrict: sys('kernel/apparmor_restrict_unprivileged_userns') });
  if (userns) return userns;
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!findCommand(tool)) return { message: `${tool} is not installed (it maps a rootless build's owners through /etc/subuid and /etc/subgid)`, hint: 'as root: apt-get install uidmap' };
  }
  if (!findCommand('unshare')) return { message: 'unshare is not installed', hint: 'as root: apt-get install util-linux' };
  const help = await run('unshare', ['--help'], { allowFailure: true });
  if (!help.stdout.includes('--map-auto')) return { message: 'this unshare has no --map-auto (util-linux 2.38 or later is needed for rootless builds)', hint: 'upgrade util-linux (Debian 12 ships 2.38)' };
  const id = process.getuid?.() ?? -1;
  const name = userName();
  const files = { '/etc/subuid': readOptional('/etc/subuid'), '/etc/subgid': readOptional('/etc/subgid') } as const;
  const free = freeSubidStart(...Object.values(files));
  for (const [file, text] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
    const p = subidProblem(file, text, name, id, free);
    if (p) return p;
  }
  const probe = await run('unshare', ['--user', '--map-auto', '--map-root-user', '--', 'true'], { allowFailure: true, label: 'rootless probe' });
  if (probe.exitCode !== 0) {
    const why = probe.stderr.trim().split('\n').pop() ?? `unshare exited ${probe.exitCode}`;
    return { message: `cannot make a user namespace here (${why})`, hint: 'a container needs a seccomp/AppArmor profile that allows unshare(CLONE_NEWUSER); check /etc/subuid, /etc/subgid and that newuidmap/newgidmap are setuid or have file capabilities' };
  }
  return undefined;
}

/** Re-runs the current command as root of a new user namespace (plus mount and PID) and returns its exit code. */
export async function runRootless(argv: readonly string[]): Promise<number> {
  // Under a user namespace, SUDO_UID/SUDO_GID (left in the environment by an earlier sudo) would hand the outputs
  // to a subordinate id: the user's own files are root's inside already.
  const env: Record<string, string | undefined> = { ...process.env, SUDO_UID: undefined, SUDO_GID: undefined, SUDO_USER: undefined, SUDO_COMMAND: undefined };
  return runNamespaced(['--user', '--map-auto', '--map-root-user'], argv, env);
}

/**
 * Whether this process runs in a user namespace that does not map the whole id space (a rootless build, or a
 * container): there, mounts copied from the host are locked together with their submounts, so /dev and /sys
 * can only be bound recursively, and loop devices cannot be set up.
 */
export function inUserNamespace(): boolean {
  const map = readOptional('/proc/self/uid_map');
  if (map === undefined) return false;
  return map.trim().split(/\s+/).join(' ') !== '0 0 4294967295';
}

/**
 * tar options that leave out a tarball's device nodes when unpacking in a user namespace, where mknod(2) is
 * refused (mmdebstrap's base tarballs carry /dev/null, /dev/zero, … and a step-cache entry a root build made
 * may too); none elsewhere. The tree's /dev is the host's, bound in, while hooks run; the booted image's is
 * devtmpfs, and a root build's image leaves /dev empty as well (lib/rootfs/dev.ts), so both are the same.
 * `decompress`: tar's -I argument for the tarball.
 */
export async function deviceExcludes(tarball: string, decompress: string): Promise<string[]> {
  if (!inUserNamespace()) return [];
  const r = await run('tar', ['-t', '-v', '--numeric-owner', '-I', decompress, '-f', tarball], { label: 'list device nodes' });
  const names = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('c') || l.startsWith('b'))
    // "crw-rw-rw- 0/0 1,3 2020-01-01 00:00 ./dev/null": the name is everything after the time.
    .map((l) => l.replace(/^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+/, ''));
  return names.length === 0 ? [] : ['--no-wildcards', ...names.map((n) => `--exclude=${n}`)];
}
