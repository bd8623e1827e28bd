import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(process.cwd());

/** Runs one of kiln's executables (the real bin/ shim) and returns its exit code and output. */
export function runBin(
  bin: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--', path.join(REPO, 'bin', bin), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
