/** kiln's own flavours: a README, executable hooks with valid names, strict shell. */
import fs from 'node:fs';
import path from 'node:path';
import { builtinFlavoursDir, discoverFlavours } from '../../../lib/flavours/discover.js';
import { HOOK_NAME } from '../../../lib/flavours/phases.js';
import { parsePackageInstalls } from '../../../lib/packages/installs.js';

const dir = path.resolve('flavours');
const index = discoverFlavours([dir]);

test('discovery finds kiln\'s flavours where the CLI looks for them', () => {
  expect(path.resolve(builtinFlavoursDir())).toBe(dir);
  expect([...index.keys()]).toEqual(expect.arrayContaining(['busybox', 'debian', 'debian-minimal', 'efi', 'local-config', 'serial-console', 'vm']));
});

describe.each([...index.values()].map((f) => [f.name, f] as const))('flavour %s', (_name, f) => {
  test('has a README with a summary', () => {
    expect(f.hasReadme).toBe(true);
    expect(f.summary).toBeTruthy();
  });

  test('hooks are executable, validly named, and shell hooks are strict', () => {
    for (const [, hooks] of Object.entries(f.hooks)) {
      for (const h of hooks) {
        expect(`${h.name}: ${HOOK_NAME.test(h.name)}`).toBe(`${h.name}: true`);
        expect(`${h.path}: ${h.executable}`).toBe(`${h.path}: true`);
        const text = fs.readFileSync(h.path, 'utf8');
        // bash hooks: -eu and pipefail; POSIX sh hooks (they run in any tree with a shell; Debian's dash has no pipefail): -eu.
        if (/^#!.*\bbash\b/.test(text)) expect(`${h.path}: ${/^set -eu -o pipefail$/m.test(text)}`).toBe(`${h.path}: true`);
        else if (/^#!.*\bsh\b/.test(text)) expect(`${h.path}: ${/^set -eu( -o pipefail)?$/m.test(text)}`).toBe(`${h.path}: true`);
      }
    }
  });

  test('package-installs parses', () => {
    if (f.files.packageInstalls) expect(() => parsePackageInstalls(fs.readFileSync(f.files.packageInstalls!, 'utf8'), f.files.packageInstalls!, f.name)).not.toThrow();
  });
});
