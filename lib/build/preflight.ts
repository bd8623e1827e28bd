/**
 * Checks made before a build changes anything: every mistake found here is bad input (exit 2) named
 * by flavour and hook, instead of a failure minutes into the build.
 * - a hook that run-parts would skip because it is not executable, although it is a script (`#!`);
 * - a shell hook (sh, bash, dash) with a syntax error (`sh -n`);
 * - every package-installs file parses (file:line errors), and every pkg-map and svc-map file;
 * - the architecture is one this host can build (architectureProblem).
 */
import fs from 'node:fs';
import { invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import { readPackageInstalls } from '../packages/installs.js';
import { hostArch } from '../config/parse.js';
import { unameArch } from '../distro/arch.js';
import { DEBIAN_RELEASE_TABLE, SUITE_AT_WRITING, describeReleases } from '../distro/releases.js';
import { pkgMaps, svcMap } from './packages.js';
import type { BuildPlan } from '../plan/build-plan.js';

const SHELLS = new Set(['sh', 'bash', 'dash']);

/** The interpreter named by a shebang line, without its directory: `#!/usr/bin/env bash` → bash. */
export function shebangShell(firstLine: string): string | undefined {
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
  if (!m) return undefined;
  const prog = (m[1] as string).split('/').pop() as string;
  const name = prog === 'env' && m[2] ? m[2] : prog;
  return SHELLS.has(name) ? name : undefined;
}

function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, 256, 0);
    return buf.toString('utf8', 0, n).split('\n')[0] as string;
  } finally {
    fs.closeSync(fd);
  }
}

/** Debian's codenames and suite names kiln builds (lib/distro/releases.ts). */
export const DEBIAN_RELEASES: readonly string[] = [...DEBIAN_RELEASE_TABLE.map((r) => r.codename), ...Object.keys(SUITE_AT_WRITING)];

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** The architectures kiln builds: their trees, disks (GRUB for x86 BIOS/EFI, for arm64 EFI) and boots. */
export const SUPPORTED_ARCHES = ['amd64', 'arm64'] as const;

/**
 * Whether this host can build `arch`: kiln builds SUPPORTED_ARCHES only (others are refused whatever the
 * output); a tree of another architecture than the host's runs its programs (package scripts, chroot hooks)
 * through a binfmt handler (Debian's qemu-user-static with binfmt-support). Undefined when it can; else the
 * error, before anything is built.
 */
export function architectureProblem(o: { arch: string; host: string; runsInTree: boolean; binfmt: (uname: string) => boolean }): string | undefined {
  if (!(SUPPORTED_ARCHES as readonly string[]).includes(o.arch)) {
    return `-a ${o.arch}: kiln builds images for ${SUPPORTED_ARCHES.join(' and ')} only (supported: ${SUPPORTED_ARCHES.join(', ')})`;
  }
  if (o.arch !== o.host && o.runsInTree && !o.binfmt(unameArch(o.arch))) {
    return (
      `-a ${o.arch}: this ${o.host} host cannot run ${o.arch} programs in the tree (no binfmt handler for ${unameArch(o.arch)}): ` +
      `install the Debian packages qemu-user-static and binfmt-support, with binfmt_misc mounted at ${BINFMT_DIR}, or build for ${o.host}`
    );
  }
  return undefined;
}

const binfmtRegistered = (uname: string) => fs.existsSync(`${BINFMT_DIR}/qemu-${uname}`);

export async function preflight(plan: BuildPlan, release: string, arch: string = hostArch()): Promise<void> {
  const base = plan.flavours.find((f) => f.files.rootfs);
  const runsInTree = base !== undefined || plan.phases.some((p) => p.where === 'chroot' && p.runs && p.hooks.length > 0) || plan.flavours.some((f) => f.files.packageInstalls);
  const archProblem = architectureProblem({ arch, host: hostArch(), runsInTree, binfmt: binfmtRegistered });
  if (archProblem) throw invalid(archProblem);
  if (base && !DEBIAN_RELEASES.includes(release)) {
    throw invalid(`release "${release}" (--release / DIB_RELEASE) is not a Debian release that flavour "${base.name}" can build; supported: ${describeReleases()}`);
  }
  for (const s of plan.skipped) {
    if (s.why === 'not executable' && firstLine(s.path).startsWith('#!')) {
      const rel = s.path.split('/').slice(-2).join('/');
      throw invalid(`[${s.flavour}] ${rel} is a script but not executable (run-parts would skip it): ${s.path}`, `chmod +x ${s.path}`);
    }
  }
  // environment.d files are sourced by bash; hooks run with the shell their #! names.
  const scripts = [
    ...plan.phases.flatMap((phase) => phase.hooks.map((h) => ({ path: h.path, flavour: h.flavour, label: `${phase.name}/${h.name}`, shell: shebangShell(firstLine(h.path)) }))),
    ...plan.environment.map((e) => ({ path: e.path, flavour: e.flavour, label: e.path.split('/').slice(-2).join('/'), shell: 'bash' })),
  ];
  for (const h of scripts) {
    if (!h.shell) continue;
    const r = await run(h.shell, ['-n', h.path], { allowFailure: true });
    if (r.exitCode !== 0) {
      const why = r.stderr.trim().split('\n')[0]?.replace(`${h.path}: `, '') ?? `${h.shell} -n exited ${r.exitCode}`;
      throw invalid(`[${h.flavour}] ${h.label}: syntax error: ${why}`);
    }
  }
  for (const f of plan.flavours) if (f.files.packageInstalls) readPackageInstalls(f.files.packageInstalls, f.name);
  pkgMaps(plan, { DISTRO_NAME: 'debian', DIB_RELEASE: release });
  svcMap(plan, 'debian');
}
