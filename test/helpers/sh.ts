/** A command's standard output, for tests that read what real tools say; a failure throws with its stderr. */
import { spawnSync } from 'node:child_process';

export function output(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
