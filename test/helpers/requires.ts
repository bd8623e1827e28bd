/**
 * Tests that need something of the machine (root, a tool) say so through here. Nothing skips silently:
 * under CI (CI=true, where scripts/setup has installed everything) a missing need fails the file with its
 * reason; elsewhere the tests are skipped with the reason in their name and on stderr.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** A need: true when met, else why not. */
export type Need = true | string;

export const root = (): Need => process.getuid?.() === 0 || 'needs root';
export const file = (p: string, what = p): Need => fs.existsSync(p) || `needs ${what}`;
export const command = (name: string, pkg = name): Need =>
  spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name]).status === 0 || `needs ${name} (Debian package ${pkg})`;

/** The reasons the needs are not met ('' when all are). */
export function unmet(needs: readonly Need[]): string {
  return needs.filter((n): n is string => n !== true).join(', ');
}

/** `describe` when every need is met; otherwise a failure under CI, a named skip elsewhere. */
export function describeIf(...needs: Need[]): (name: string, fn: () => void) => void {
  const why = unmet(needs);
  if (why === '') return describe;
  if (process.env.CI === 'true') throw new Error(`this test file cannot run here: ${why} (under CI nothing may skip; scripts/setup installs what tests need)`);
  process.stderr.write(`skipping tests: ${why}\n`);
  return (name, fn) => describe.skip(`${name} [skipped: ${why}]`, fn);
}

/** `test` when every need is met; otherwise as describeIf. */
export function testIf(...needs: Need[]): (name: string, fn: jest.ProvidesCallback, timeout?: number) => void {
  const why = unmet(needs);
  if (why === '') return test;
  if (process.env.CI === 'true') throw new Error(`this test cannot run here: ${why} (under CI nothing may skip; scripts/setup installs what tests need)`);
  process.stderr.write(`skipping a test: ${why}\n`);
  return (name, fn, timeout) => test.skip(`${name} [skipped: ${why}]`, fn, timeout);
}
