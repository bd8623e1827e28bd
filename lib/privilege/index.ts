/**
 * Builds need root, or what root has inside a user namespace. A user in the `kiln` group (sudoers.d/kiln)
 * runs kiln as themselves: the privileged part is re-run through `sudo -n` (never prompting), and the outputs
 * come back owned by the user (SUDO_UID/SUDO_GID). Anyone else builds rootless (lib/namespace/rootless.ts)
 * where the host allows it; where it does not, one clear line names both ways, exit 2.
 * KILN_ROOTLESS=1 builds rootless even for a member of the kiln group; KILN_ROOTLESS=0 never does (sudo only).
 */
import fs from 'node:fs';
import os from 'node:os';
import { invalid } from '../errors/index.js';
import { run, runRelayingSignals } from '../exec/index.js';
import { findCommand } from '../exec/spawn.js';
import { inNamespace } from '../namespace/index.js';
import { rootlessSetup, runRootless } from '../namespace/rootless.js';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** CAP_SYS_ADMIN's bit in /proc/self/status's CapEff: without it, root cannot mount. */
const CAP_SYS_ADMIN = 21n;

/**
 * Root without root's power: uid 0 of a container (a rootless runtime's, or one given no added capability)
 * that lacks CAP_SYS_ADMIN, so it can neither mount nor set up loop devices. Such a build goes the way of a
 * user's (rootless, in a user namespace of its own, mapped through root's line of /etc/subuid) — not after a
 * re-run already inside kiln's namespace, where uid 0 has the namespace's capabilities.
 */
export function isPowerlessRoot(status = readStatus()): boolean {
  if (!isRoot() || inNamespace() || status === undefined) return false;
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m !== undefined && m !== null && ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN) & 1n) === 0n;
}

function readStatus(): string | undefined {
  try {
    return fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether this kiln must build as an unprivileged user does (through sudo or rootless): not root, or a powerless root. */
export function needsUnprivilegedPath(): boolean {
  return !isRoot() || isPowerlessRoot();
}

function who(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/**
 * Re-runs this kiln command as root through `sudo -n` and returns its exit code. `script` is the kiln
 * executable as invoked (sudoers names /usr/local/bin/kiln and the aliases), `args` its arguments.
 */
export async function runThroughSudo(script: string, args: readonly string[]): Promise<number> {
  const hint = 'builds need root: run as root, or install sudoers.d/kiln and join the kiln group (README: "Building without root")';
  if (!findCommand('sudo')) throw invalid(`${who()} is not root and sudo is not installed`, hint);
  // -l with a command: may this user run exactly this without a password? (exit 0 yes, 1 no)
  const allowed = await run('sudo', ['-n', '-l', script, ...args], { allowFailure: true });
  if (allowed.exitCode !== 0) {
    throw invalid(`${who()} may not run "${script}" as root through sudo without a password (not in the kiln group?)`, hint);
  }
  return runRelayingSignals('sudo', ['-n', script, ...args]); // sudo relays signals to the build
}

export type RootlessMode = 'auto' | 'always' | 'never';

/** KILN_ROOTLESS: unset or empty → auto, 1/yes/true → always, 0/no/false → never; anything else is bad input. */
export function rootlessMode(raw: string | undefined): RootlessMode {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (['1', 'yes', 'true', 'on'].includes(v)) return 'always';
  if (['0', 'no', 'false', 'off'].includes(v)) return 'never';
  throw invalid(`KILN_ROOTLESS=${raw}: expected 1 (always rootless), 0 (never: sudo only) or auto`);
}

/** May this user run exactly this as root through `sudo -n` (no password)? */
async function sudoAllows(script: string, args: readonly string[]): Promise<boolean> {
  if (!findCommand('sudo')) return false;
  return (await run('sudo', ['-n', '-l', script, ...args], { allowFailure: true })).exitCode === 0;
}

/** Whether this process's user is a member of the group (by name), as `id -Gn` reports it. */
async function inGroup(name: string): Promise<boolean> {
  const r = await run('id', ['-Gn'], { allowFailure: true });
  return r.exitCode === 0 && r.stdout.trim().split(/\s+/).includes(name);
}

/**
 * A non-root user's build: through sudo when sudoers.d/kiln lets them (a member of the kiln group, as before),
 * else rootless in a user namespace; returns the exit code of the re-run. Only a member is asked about first
 * (sudo logs, and may mail, a refused user's every attempt); anyone else tries sudo only when rootless is not
 * possible. Neither possible: one error naming what to enable.
 */
export async function runUnprivileged(script: string, args: readonly string[]): Promise<number> {
  const mode = rootlessMode(process.env.KILN_ROOTLESS);
  if (mode === 'never') return runThroughSudo(script, args);
  const member = mode === 'auto' && (await inGroup('kiln'));
  if (member && (await sudoAllows(script, args))) return runThroughSudo(script, args);
  const setup = await rootlessSetup();
  if ('args' in setup) return runRootless(setup.args, [script, ...args]);
  const { problem } = setup;
  if (mode === 'auto' && !member && (await sudoAllows(script, args))) return runThroughSudo(script, args);
  const sudo = member ? 'may not run kiln through sudo without a password' : 'may not run kiln through sudo (not in the kiln group)';
  const lead = mode === 'auto' ? `${who()} is not root, ${sudo}, and cannot build rootless` : `${who()} cannot build rootless (KILN_ROOTLESS=1)`;
  throw invalid(`${lead}: ${problem.message}`, `${problem.hint}; README: "Rootless builds"`);
}
