/**
 * Builds need root. A user in the `kiln` group (sudoers.d/kiln) runs kiln as themselves: the privileged
 * part is re-run through `sudo -n` (never prompting), and the outputs come back owned by the user
 * (SUDO_UID/SUDO_GID). Anyone else gets one clear line, exit 2.
 */
import os from 'node:os';
import { invalid } from '../errors/index.js';
import { run, runRelayingSignals } from '../exec/index.js';
import { findCommand } from '../exec/spawn.js';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
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
