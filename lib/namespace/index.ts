/**
 * Builds run in a private mount and PID namespace: every mount a build makes is invisible to the host
 * and disappears with the namespace, and when the build's main process dies (even by SIGKILL) the
 * kernel kills every process it started. The outer kiln forwards SIGINT/SIGTERM/SIGHUP to the inner
 * one, which tears down and exits 130; the inner one watches the outer and stops if it vanishes.
 */
import fs from 'node:fs';
import { hasCommand, runRelayingSignals } from '../exec/index.js';
import { cancel } from '../exec/cancel.js';

const INNER = 'KILN_NAMESPACE';
const OUTER_PID = 'KILN_OUTER_PID';

export function inNamespace(): boolean {
  return process.env[INNER] === '1';
}

/** Whether this process should re-run itself inside a namespace (root, not yet inside, tool present). */
export async function shouldIsolate(): Promise<boolean> {
  return process.getuid?.() === 0 && !inNamespace() && process.env.KILN_NO_NAMESPACE !== '1' && (await hasCommand('unshare'));
}

/** Re-runs the current command inside unshare and returns its exit code. */
export async function runIsolated(argv: readonly string[]): Promise<number> {
  return runNamespaced([], argv, process.env);
}

/**
 * Re-runs the current command in new mount and PID namespaces (plus what `extra` asks unshare for: a user
 * namespace for rootless builds, lib/namespace/rootless.ts) and returns its exit code.
 */
export async function runNamespaced(extra: readonly string[], argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  // The signals go to unshare's child (the inner kiln), which tears down and exits 130.
  return runRelayingSignals(
    'unshare',
    [...extra, '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', '--', process.execPath, '--', ...argv],
    { env: { ...env, [INNER]: '1', [OUTER_PID]: String(process.pid) }, relayTo: childrenOf },
  );
}

/** Inside: stop the build if the outer kiln disappears (e.g. it was killed with SIGKILL). */
export function watchOuter(): void {
  const outer = Number(process.env[OUTER_PID]);
  if (!inNamespace() || !Number.isInteger(outer) || outer <= 0) return;
  // Inside a PID namespace kill(outer, 0) cannot see host pids; /proc (the host's) can.
  const timer = setInterval(() => {
    if (!fs.existsSync(`/proc/${outer}`)) cancel('SIGKILL of the parent kiln');
  }, 250);
  timer.unref();
}

/** This build's pid as the host sees it (inside the namespace the inner kiln is pid 1). */
export function hostPid(): number {
  const outer = Number(process.env[OUTER_PID]);
  return inNamespace() && Number.isInteger(outer) && outer > 0 ? outer : process.pid;
}

function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}
