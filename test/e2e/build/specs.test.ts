/**
 * Flavours' image.yaml in builds, on the busybox tree: the spec is reconciled after install.d (its script
 * runs in the chroot and its change is in the output), `--check` runs it test-only on the finished tree and
 * fails the build (exit 1, flavour and validator named, no output) when the tree does not hold what it
 * promises, and a spec with an error is refused before the build starts (exit 2, file:line).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-specs');
const F = path.join(work, 'flavours');
const out = path.join(work, 'out');
fs.mkdirSync(out);
const MARKER_SPEC = `arguments:
  motd:
    description: the line
    default: built by kiln
validators:
  - script:
      motd:
        env_vars: [motd]
        inline: |
          if [ "$test_only" = 1 ]; then grep -qx "$motd" /etc/motd; else echo "$motd" > /etc/motd; fi
`;
writeFlavour(path.join(F, 'withspec'), {});
fs.writeFileSync(path.join(F, 'withspec', 'image.yaml'), MARKER_SPEC);
// A cleanup.d hook that undoes the promise: --check must catch it.
writeFlavour(path.join(F, 'breaker'), { hooks: { 'cleanup.d': { '90-break': '#!/bin/sh\nrm -f "$TARGET_ROOT/etc/motd"\n' } } });
writeFlavour(path.join(F, 'badspec'), {});
fs.writeFileSync(path.join(F, 'badspec', 'image.yaml'), 'validators:\n  - script: {x: {inline: "true"}}\n  - pkg: vim\n');
const env = { ELEMENTS_PATH: F };
const build = (name: string, ...more: string[]) => ['build', '-t', 'tar', '-o', path.join(out, name), 'busybox', ...more];

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function tarFile(tar: string, member: string): string {
  return spawnSync('tar', ['-xOf', tar, member], { encoding: 'utf8' }).stdout;
}

test('image.yaml is reconciled in the build, and --check proves it on the finished tree', async () => {
  const r = await kiln([...build('good', 'withspec'), '--check'], { env });
  expect(r.code).toBe(0);
  expect(r.stdout + r.stderr).toMatch(/reconcile \[withspec\] image\.yaml/);
  expect(r.stdout + r.stderr).toMatch(/check \[withspec\] image\.yaml/);
  expect(tarFile(path.join(out, 'good.tar'), './etc/motd')).toBe('built by kiln\n');
}, 300_000);

test('--check fails the build when a later hook broke the promise: exit 1, flavour and validator named, no output', async () => {
  const r = await kiln([...build('broken', 'withspec', 'breaker'), '--check'], { env });
  expect(r.stderr).toMatch(/kiln: error: \[withspec\] image\.yaml: 1 of 1 validators do not hold on the finished image \(first: validators\[0\]\.script: script motd exited 2\)/);
  expect(r.code).toBe(1);
  expect(fs.existsSync(path.join(out, 'broken.tar'))).toBe(false);
  // Without --check the same build succeeds: the check is what caught it.
  expect((await kiln(build('unchecked', 'withspec', 'breaker'), { env })).code).toBe(0);
}, 300_000);

test('a flavour whose image.yaml has an error is refused before the build: exit 2 with file:line', async () => {
  const r = await kiln(build('bad', 'badspec'), { env });
  expect(r.stderr).toMatch(/badspec\/image\.yaml:3:\d+: validators\[1\]: unknown validator type "pkg"/);
  expect(r.code).toBe(2);
  expect(fs.readdirSync(out).filter((n) => n.startsWith('bad'))).toEqual([]);
}, 120_000);
