/**
 * The engine end to end: a real debian-minimal tree plus a recorder flavour whose hooks in every phase
 * record where they ran and what they saw. One build, several checks; a second Debian build runs at the
 * same time, sharing the package cache, and each gets its own extra package.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { aptArchives, debsIn, expectNoLeaks, hostState, kiln, type HostState, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const PHASES = ['root.d', 'extra-data.d', 'pre-install.d', 'install.d', 'post-install.d', 'post-root.d', 'pre-finalise.d', 'finalise.d', 'cleanup.d'];
const CHROOT = new Set(['pre-install.d', 'install.d', 'post-install.d', 'finalise.d']);

const RECORD = `#!/bin/bash
set -eu -o pipefail
phase=$(basename "$(dirname "$0")")
if [ -e /.kiln-recorder-tree ]; then where=chroot; log=/kiln-record; else where=host; log=$TARGET_ROOT/kiln-record; fi
echo "$phase|$where|$0|TARGET_ROOT=\${TARGET_ROOT:-}|TMP_HOOKS_PATH=\${TMP_HOOKS_PATH:-}|ARCH=\${ARCH:-}|DIB_RELEASE=\${DIB_RELEASE:-}|IMAGE_ELEMENT=\${IMAGE_ELEMENT:-}|FROM_ENV_D=\${FROM_ENV_D:-}|DIB_CUSTOM=\${DIB_CUSTOM:-}|DISTRO_NAME=\${DISTRO_NAME:-}" >> "$log"
if [ "$where" = chroot ]; then touch "/kiln-marker-$phase"; else echo "$phase" >> "$KILN_TEST_HOST_RECORD"; fi
`;

let work: string;
let build: Run;
let other: Run;
let before: HostState;
let records: string[][];

beforeAll(async () => {
  work = tempDir('e2e-engine');
  const flavours = path.join(work, 'flavours');
  const hooks: Record<string, Record<string, string>> = {};
  for (const p of PHASES) hooks[p] = { '50-record': RECORD };
  hooks['root.d'] = { '90-record': `${RECORD}touch "$TARGET_ROOT/.kiln-recorder-tree"\n` };
  writeFlavour(path.join(flavours, 'recorder'), { hooks, environment: { '20-recorder': 'export FROM_ENV_D=yes\n' } });
  before = hostState();
  [build, other] = await Promise.all([
    kiln(['build', '-t', 'tar', '-o', path.join(work, 'out'), '-p', 'tree', 'debian-minimal', 'recorder'], {
      env: { ELEMENTS_PATH: flavours, DIB_CUSTOM: 'passed-through', KILN_TEST_HOST_RECORD: path.join(work, 'host-record') },
    }),
    kiln(['build', '-t', 'tar', '-o', path.join(work, 'other'), '-p', 'jq', 'debian-minimal']),
  ]);
  const rec = spawnSync('tar', ['-xOf', path.join(work, 'out.tar'), './kiln-record'], { encoding: 'utf8' });
  records = rec.stdout.trim().split('\n').map((l) => l.split('|'));
}, 20 * 60_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the build succeeds and writes the tar', () => {
  if (build.code !== 0) throw new Error(`build failed (${build.code}):\n${build.stderr}\n${build.stdout.slice(-3000)}`);
  expect(fs.statSync(path.join(work, 'out.tar')).size).toBeGreaterThan(50 * 2 ** 20);
  process.stdout.write(`debian-minimal tar build: ${build.seconds.toFixed(1)} s\n`);
});

test('a second Debian build at the same time, sharing the package cache: both succeed with their own packages', () => {
  expect([other.code, other.stderr]).toEqual([0, '']);
  const status = (tar: string) => spawnSync('tar', ['-xOf', tar, './var/lib/dpkg/status'], { encoding: 'utf8', maxBuffer: 2 ** 26 }).stdout;
  expect(status(path.join(work, 'out.tar'))).toMatch(/^Package: tree$/m);
  expect(status(path.join(work, 'out.tar'))).not.toMatch(/^Package: jq$/m);
  expect(status(path.join(work, 'other.tar'))).toMatch(/^Package: jq$/m);
  const debs = debsIn(aptArchives()).map((f) => path.basename(f));
  expect(debs.some((f) => /^tree_.*\.deb$/.test(f))).toBe(true);
  expect(debs.some((f) => /^jq_.*\.deb$/.test(f))).toBe(true);
});

test('every phase ran, in order, on the host or in the chroot as planned', () => {
  expect(records.map((r) => r[0])).toEqual(PHASES);
  for (const r of records) expect(`${r[0]}:${r[1]}`).toBe(`${r[0]}:${CHROOT.has(r[0] as string) ? 'chroot' : 'host'}`);
});

test('chroot hooks ran inside the tree: their markers are in the tar; host hooks left none', () => {
  const list = spawnSync('tar', ['-tf', path.join(work, 'out.tar')], { encoding: 'utf8', maxBuffer: 2 ** 28 }).stdout;
  for (const p of PHASES) expect(list.includes(`./kiln-marker-${p}\n`)).toBe(CHROOT.has(p));
  const host = fs.readFileSync(path.join(work, 'host-record'), 'utf8').trim().split('\n');
  expect(host).toEqual(PHASES.filter((p) => !CHROOT.has(p)));
});

test('hooks see the documented environment, environment.d and the caller\'s DIB_* variables', () => {
  for (const r of records) {
    const env = Object.fromEntries(r.slice(3).map((kv) => kv.split('=') as [string, string]));
    expect(env.ARCH).toBe('amd64');
    expect(env.DIB_RELEASE).toBe('trixie');
    expect(env.IMAGE_ELEMENT).toBe('debian-minimal recorder');
    expect(env.FROM_ENV_D).toBe('yes');
    expect(env.DIB_CUSTOM).toBe('passed-through');
    expect(env.DISTRO_NAME).toBe('debian');
    expect(env.TARGET_ROOT).toMatch(/\/kiln-build-[^/]+\/mnt$/);
    expect(env.TMP_HOOKS_PATH).toBe(CHROOT.has(r[0] as string) ? '/tmp/in_target.d' : env.TMP_HOOKS_PATH);
    expect(r[2]).toBe(CHROOT.has(r[0] as string) ? `/tmp/in_target.d/${r[0]}/${r[0] === 'root.d' ? '90' : '50'}-record` : r[2]);
  }
});

test('the image keeps its own resolv.conf and no policy-rc.d', () => {
  const list = spawnSync('tar', ['-tf', path.join(work, 'out.tar')], { encoding: 'utf8', maxBuffer: 2 ** 28 }).stdout;
  expect(list).not.toContain('./usr/sbin/policy-rc.d\n');
  expect(list).not.toContain('kiln-orig');
  expect(list).not.toContain('./tmp/in_target.d');
});

test('the log has a line per hook with its duration and the slowest-hooks table', () => {
  expect(build.stdout).toMatch(/✓ \[recorder\] install.d\/50-record \([0-9.]+ s\)/);
  expect(build.stdout).toContain('Slowest hooks:');
});

test('nothing is left mounted, attached or in /tmp', () => {
  expectNoLeaks(before, work);
});
