/**
 * Architectures kiln cannot build are refused before anything is built (exit 2), naming what it can:
 * amd64 and arm64; a tree of a foreign architecture needs a binfmt handler.
 */
import { architectureProblem } from '../../../lib/build/preflight.js';
import { runBin } from '../helpers/cli.js';

const none = () => false;
const all = () => true;

test('amd64 and arm64 only, whatever the host can run and whatever the output', () => {
  expect(architectureProblem({ arch: 'amd64', host: 'amd64', runsInTree: true, binfmt: none })).toBeUndefined();
  expect(architectureProblem({ arch: 'arm64', host: 'amd64', runsInTree: true, binfmt: all })).toBeUndefined();
  expect(architectureProblem({ arch: 'arm64', host: 'arm64', runsInTree: true, binfmt: none })).toBeUndefined();
  for (const arch of ['s390x', 'i386', 'riscv64']) {
    expect(architectureProblem({ arch, host: 'amd64', runsInTree: true, binfmt: all })).toBe(`-a ${arch}: kiln builds images for amd64 and arm64 only (supported: amd64, arm64)`);
  }
});

test('a foreign tree needs the binfmt handler of its architecture; a tree where nothing runs does not', () => {
  const seen: string[] = [];
  const p = architectureProblem({ arch: 'arm64', host: 'amd64', runsInTree: true, binfmt: (u) => (seen.push(u), false) });
  expect(seen).toEqual(['aarch64']);
  expect(p).toBe(
    '-a arm64: this amd64 host cannot run arm64 programs in the tree (no binfmt handler for aarch64): install the Debian packages qemu-user-static and binfmt-support, with binfmt_misc mounted at /proc/sys/fs/binfmt_misc, or build for amd64',
  );
  expect(architectureProblem({ arch: 'amd64', host: 'arm64', runsInTree: true, binfmt: (u) => u === 'x86_64' })).toBeUndefined();
  expect(architectureProblem({ arch: 'arm64', host: 'amd64', runsInTree: false, binfmt: none })).toBeUndefined();
});

test('an unknown architecture is bad input naming the known ones', () => {
  const r = runBin('kiln', ['plan', '-a', 'vax', 'busybox']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown architecture "vax" \(known: amd64, arm64, i386, armhf, ppc64el, s390x, riscv64\)/);
});
