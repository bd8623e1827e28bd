/**
 * The test environment of every file: Node's, plus the removal of the temporary directories the file made
 * through test/helpers/tmp.ts. It runs after all of the file's own afterAll hooks (which unmount what they
 * mounted there), so nothing is pulled from under them. What cannot be removed is reported and left for
 * scripts/test's final TMPDIR check to fail on.
 */
import fs from 'node:fs';
import { TestEnvironment } from 'jest-environment-node';

export default class KilnTestEnvironment extends TestEnvironment {
  override async teardown(): Promise<void> {
    const dirs = (this.global as { __kilnTestTempDirs?: string[] }).__kilnTestTempDirs ?? [];
    for (const dir of dirs.reverse()) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        process.stderr.write(`kiln tests: could not remove ${dir}: ${(e as Error).message}\n`);
      }
    }
    await super.teardown();
  }
}
