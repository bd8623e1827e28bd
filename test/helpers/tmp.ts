/**
 * Temporary directories for tests: every one is made under TMPDIR with a `kiln-test-` prefix and removed
 * after its test file, after the file's own afterAll hooks (test/environment.ts), so a run leaves nothing in
 * TMPDIR; scripts/test checks that at its end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEST_TMP_PREFIX = 'kiln-test-';

const registry = (): string[] => {
  const g = globalThis as { __kilnTestTempDirs?: string[] };
  g.__kilnTestTempDirs ??= [];
  return g.__kilnTestTempDirs;
};

/** A new empty directory `TMPDIR/kiln-test-NAME-XXXXXX`, removed when the test file ends. */
export function tempDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEST_TMP_PREFIX}${name}-`));
  registry().push(dir);
  return dir;
}
