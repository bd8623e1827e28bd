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

/** Subordinate ids a new user is given (useradd's default), as the hints and the tests give them. */
export const SUBID_COUNT = 65536;
/**
 * Subordinate ids a rootless build needs: the user is 0 inside, these are 1…65534 (every id a Debian tree uses:
 * nogroup is 65534); a build maps at most 65535 (1…65535), as unshare --map-auto does with a range of 65536.
 */
export const SUBID_NEEDED = 65534;
const SUBID_MAPPED = 65535;

export interface SubidRange {
  readonly start: number;
  readonly count: number;
}

/** One line of a user namespace's id map: `count` ids from `outer` (this namespace) appear as `inner`. */
export interface IdMapping {
  readonly inner: number;
  readonly outer: number;
  readonly count: number;
}

export interface RootlessProblem {
  readonly message: string;
  readonly hint: string;
}

/** The lines of /etc/subuid (or subgid) text, NAME_OR_ID:START:COUNT each; comments and bad lines are skipped. */
function subidLines(text: string): { readonly owner: string; readonly start: number; readonly count: number }[] {
  return text.split('\n').flatMap((line) => {
    const m = /^([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(line.trim());
    return m ? [{ owner: m[1] as string, start: Number(m[2]), count: Number(m[3]) }] : [];
  });
}

/** Every range of /etc/subuid (or subgid) text for a user, by name or by uid (as newuidmap reads it), in the file's order. */
export function subidRanges(text: string, name: string | undefined, id: number): SubidRange[] {
  return subidLines(text)
    .filter((l) => l.owner === name || l.owner === String(id))
    .map(({ start, count }) => ({ start, count }));
}

/** The first range of /etc/subuid (or subgid) text for a user (subidRanges), or undefined. */
export function subidRange(text: string, name: string | undefined, id: number): SubidRange | undefined {
  return subidRanges(text, name, id)[0];
}

/**
 * The ids that exist in this process's user namespace, from its /proc/self/uid_map (or gid_map) text: the
 * inner column. Everything on the host (no text, or the whole space mapped); in a container, what its runtime
 * mapped (a rootless podman's 0…65536, a Kubernetes pod's 0…65535).
 */
export function presentIds(mapText: string | undefined): SubidRange[] {
  if (mapText === undefined) return [{ start: 0, count: 2 ** 32 - 1 }];
  return mapText
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([inner, , count]) => ({ start: inner!, count: count! }));
}

/**
 * The id map of a rootless build: 0 inside is the user (`self`), 1… inside are the user's subordinate ranges in
 * the file's order, cut to the ids that exist in this namespace (`present`) and never `self`, at most 65535 of
 * them. A container's non-root user can so be given two ranges around its own id (1…999 and 1001…).
 */
export function rootlessIdMap(ranges: readonly SubidRange[], present: readonly SubidRange[], self: number): IdMapping[] {
  const map: IdMapping[] = [{ inner: 0, outer: self, count: 1 }];
  let next = 1;
  const pieces: SubidRange[] = [];
  for (const r of ranges) {
    for (const p of present) {
      const start = Math.max(r.start, p.start);
      const end = Math.min(r.start + r.count, p.start + p.count);
      if (end <= start) continue;
      if (self >= start && self < end) {
        pieces.push({ start, count: self - start }, { start: self + 1, count: end - self - 1 });
      } else pieces.push({ start, count: end - start });
    }
  }
  for (const piece of pieces) {
    const count = Math.min(piece.count, SUBID_MAPPED + 1 - next);
    if (count <= 0) continue;
    map.push({ inner: next, outer: piece.start, count });
    next += count;
  }
  return map;
}

/** How many subordinate ids an id map gives beside the user's own. */
export function subordinateCount(map: readonly IdMapping[]): number {
  return map.slice(1).reduce((n, m) => n + m.count, 0);
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
  for (const text of texts) for (const l of subidLines(text ?? '')) end = Math.max(end, l.start + l.count);
  return end;
}

/** What a rootless build's unshare can map: several --map-users ranges (util-linux 2.39), or only --map-auto. */
export type UnshareMaps = 'ranges' | 'auto';

/**
 * A user's id map for one of the files, or what keeps them from one. `self`: their uid (or gid); `present`: the
 * ids of this namespace (presentIds); `free`: where a new range could start (freeSubidStart), for the hint's
 * command. With `auto` only the first range counts (unshare --map-auto maps it alone) and it must not be split.
 */
export function subidMap(
  file: '/etc/subuid' | '/etc/subgid',
  text: string | undefined,
  user: { readonly name: string | undefined; readonly uid: number; readonly self: number },
  present: readonly SubidRange[],
  free: number,
  maps: UnshareMaps = 'ranges',
): { readonly map: IdMapping[] } | { readonly problem: RootlessProblem } {
  const who = user.name ?? `uid ${user.uid}`;
  const ids = `${free}-${free + SUBID_COUNT - 1}`;
  const hint = `as root: usermod --add-subuids ${ids} --add-subgids ${ids} ${who}`;
  const kind = file === '/etc/subuid' ? 'uid' : 'gid';
  const all = text === undefined ? [] : subidRanges(text, user.name, user.uid);
  if (all.length === 0) return { problem: { message: `${who} has no subordinate ${kind} range in ${file} (the image's owners are mapped to one)`, hint } };
  const ranges = maps === 'auto' ? all.slice(0, 1) : all;
  // unshare --map-auto maps one id fewer than the range holds (inside 1…count-1).
  const mapped = maps === 'auto' ? ranges.map((r) => ({ start: r.start, count: r.count - 1 })) : ranges;
  const map = rootlessIdMap(mapped, present, user.self);
  const n = subordinateCount(map);
  const listed = ranges.reduce((sum, r) => sum + r.count, 0);
  if (n < SUBID_NEEDED) {
    const usable = maps === 'auto' ? ` (unshare --map-auto maps ${n} of them)` : n === Math.min(listed, SUBID_MAPPED) ? '' : ` (${n} usable: the others are their own id or do not exist in this user namespace)`;
    const what = ranges.length === 1 ? `range in ${file} has ${listed} ids` : `ranges in ${file} have ${listed} ids`;
    return { problem: { message: `${who}'s subordinate ${kind} ${what}${usable}; a rootless build needs ${SUBID_NEEDED} (the image's owners 1…${SUBID_NEEDED})`, hint } };
  }
  if (maps === 'auto' && map.length > 2) {
    return { problem: { message: `${who}'s subordinate ${kind} range in ${file} is split (by their own id or by this namespace's map); this unshare can only map it whole (--map-auto)`, hint: 'util-linux 2.39 or later (several --map-users ranges)' } };
  }
  return { map };
}

/** unshare's arguments that make a rootless build's user namespace with these maps. */
export function unshareMapArgs(uids: readonly IdMapping[], gids: readonly IdMapping[], maps: UnshareMaps): string[] {
  if (maps === 'auto') return ['--user', '--map-auto', '--map-root-user'];
  const line = (m: IdMapping) => `${m.inner}:${m.outer}:${m.count}`;
  return ['--user', ...uids.flatMap((m) => ['--map-users', line(m)]), ...gids.flatMap((m) => ['--map-groups', line(m)]), '--setuid', '0', '--setgid', '0'];
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
 * How this user builds rootless here (unshare's namespace and map arguments), or why they cannot: the kernel's
 * switches, newuidmap and newgidmap, util-linux's unshare (2.38's --map-auto, or 2.39's --map-users ranges), the
 * user's subordinate ranges cut to the ids of this namespace, and finally a probe (a namespace made and left
 * at once), which catches what no file says (a seccomp filter, a container, a setuid newuidmap where root has no
 * CAP_SYS_ADMIN).
 */
export async function rootlessSetup(): Promise<{ readonly args: string[] } | { readonly problem: RootlessProblem }> {
  const sys = (p: string) => readOptional(`/proc/sys/${p}`);
  const userns = usernsProblem({ unprivilegedClone: sys('kernel/unprivileged_userns_clone'), maxUserNamespaces: sys('user/max_user_namespaces'), apparmorRestrict: sys('kernel/apparmor_restrict_unprivileged_userns') });
  if (userns) return { problem: userns };
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!findCommand(tool)) return { problem: { message: `${tool} is not installed (it maps a rootless build's owners through /etc/subuid and /etc/subgid)`, hint: 'as root: apt-get install uidmap' } };
  }
  if (!findCommand('unshare')) return { problem: { message: 'unshare is not installed', hint: 'as root: apt-get install util-linux' } };
  const help = (await run('unshare', ['--help'], { allowFailure: true })).stdout;
  if (!help.includes('--map-auto')) return { problem: { message: 'this unshare has no --map-auto (util-linux 2.38 or later is needed for rootless builds)', hint: 'upgrade util-linux (Debian 12 ships 2.38)' } };
  const maps: UnshareMaps = help.includes('<inneruid>:<outeruid>:<count>') ? 'ranges' : 'auto';
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const name = userName();
  const files = { '/etc/subuid': readOptional('/etc/subuid'), '/etc/subgid': readOptional('/etc/subgid') } as const;
  const free = freeSubidStart(...Object.values(files));
  const uids = subidMap('/etc/subuid', files['/etc/subuid'], { name, uid, self: uid }, presentIds(readOptional('/proc/self/uid_map')), free, maps);
  if ('problem' in uids) return uids;
  const gids = subidMap('/etc/subgid', files['/etc/subgid'], { name, uid, self: gid }, presentIds(readOptional('/proc/self/gid_map')), free, maps);
  if ('problem' in gids) return gids;
  const args = unshareMapArgs(uids.map, gids.map, maps);
  const probe = await run('unshare', [...args, '--', 'true'], { allowFailure: true, label: 'rootless probe' });
  if (probe.exitCode !== 0) {
    const why = probe.stderr.trim().split('\n').pop() ?? `unshare exited ${probe.exitCode}`;
    return {
      problem: {
        message: `cannot make a user namespace here (${why})`,
        hint: 'a container needs a seccomp/AppArmor profile that allows unshare(CLONE_NEWUSER); check /etc/subuid, /etc/subgid and newuidmap/newgidmap (setuid root on a host; in a container whose root lacks CAP_SYS_ADMIN, file capabilities: setcap cap_setuid+ep newuidmap, cap_setgid+ep newgidmap)',
      },
    };
  }
  return { args };
}

/**
 * Re-runs the current command as root of a new user namespace (plus mount and PID) made with `mapArgs`
 * (rootlessSetup) and returns its exit code.
 */
export async function runRootless(mapArgs: readonly string[], argv: readonly string[]): Promise<number> {
  // Under a user namespace, SUDO_UID/SUDO_GID (left in the environment by an earlier sudo) would hand the outputs
  // to a subordinate id: the user's own files are root's inside already.
  const env: Record<string, string | undefined> = { ...process.env, SUDO_UID: undefined, SUDO_GID: undefined, SUDO_USER: undefined, SUDO_COMMAND: undefined };
  return runNamespaced(mapArgs, argv, env);
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
