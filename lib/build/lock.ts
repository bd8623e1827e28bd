/**
 * One build per output name at a time: `.NAME.kiln-lock` beside the output holds its owner (host pid and
 * start time). A second build to the same name is refused while the owner lives; a lock whose owner is
 * gone (killed) is taken over, by one build only however many find it at once (lib/namespace/lock.ts).
 * Different names build side by side.
 */
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { tryLock, type LockAttempt } from '../namespace/lock.js';

export function lockPathFor(output: string): string {
  const abs = path.resolve(output);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.kiln-lock`);
}

/** Takes the lock for `output` or throws (exit 2) naming the build that holds it; returns the release. */
export function lockOutput(output: string): () => void {
  const file = lockPathFor(output);
  let got: LockAttempt;
  try {
    got = tryLock(file);
  } catch (e) {
    throw invalid(`-o ${output}: ${(e as Error).message}`);
  }
  if ('holder' in got) throw invalid(`-o ${output}: another kiln build (pid ${got.holder.pid}) is writing this output now`, 'wait for it to finish, or choose another -o');
  return got.release;
}
