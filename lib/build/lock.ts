/**
 * One build per output name at a time: `.NAME.kiln-lock` beside the output holds its owner (host pid and
 * start time). A second build to the same name is refused while the owner lives; a lock whose owner is
 * gone (killed) is taken over. Different names build side by side.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { currentOwner, ownerAlive, readOwnerFile } from '../namespace/owner.js';

export function lockPathFor(output: string): string {
  const abs = path.resolve(output);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.kiln-lock`);
}

/** Takes the lock for `output` or throws (exit 2) naming the build that holds it; returns the release. */
export function lockOutput(output: string): () => void {
  const file = lockPathFor(output);
  const me = currentOwner();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx', mode: 0o644 });
      return () => {
        if (readOwnerFile(file)?.pid === me.pid) fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readOwnerFile(file);
    if (owner && ownerAlive(owner)) {
      throw invalid(`-o ${output}: another kiln build (pid ${owner.pid}) is writing this output now`, 'wait for it to finish, or choose another -o');
    }
    // The owner is gone (or the lock is half-written by a build that just started: retry once more).
    if (!owner && attempt === 0) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    }
    fs.rmSync(file, { force: true });
  }
  throw invalid(`-o ${output}: could not take the lock ${file}`);
}
