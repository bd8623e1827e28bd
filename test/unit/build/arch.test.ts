/**
 * Architectures kiln cannot build are refused before anything is built (exit 2), naming what it can:
 * disk images are amd64 only (x86 GRUB); a tree of a foreign architecture needs a binfmt handler.
 */
import { architectureProblem } from '../../../lib/build/preflight.js';
import { runBin } from '../helpers/cli.js';

const none = () => false;
const all = () => true;

test('disk images: amd64 only, whatever the host can run', () => {
  expect(architectureProblem({ arch: 'amd64', host: 'amd64', disk: true, runsInTree: true, binfmt: none })).toBeUndefined();
  for (const arch of ['arm64', 's390x', 'i386']) {
    expect(architectureProblem({ arch, host: 'amd64', disk: true, runsInTree: true, binfmt: all })).toBe(
      `-a ${arch}: kiln makes disk images (qcow2, raw, vhd, vmdk) for amd64 only (they boot with x86 GRUB); for ${arch}, build -t tar, tgz or squashfs, or a ramdisk`,
    );
  }
});

test('a foreign tree needs the binfmt handler of its architecture; a tree where nothing runs does not', () => {
  const seen: string[] = [];
  const p = architectureProblem({ arch: 's390x', host: 'amd64', disk: false, runsInTree: true, binfmt: (u) => (seen.push(u), false) });
  expect(p).toBe('-a s390x: this amd64 host cannot run s390x programs in the tree (no binfmt handler for s390x); install qemu-user-static, or build for amd64');
  expect(architectureProblem({ arch: 'arm64', host: 'amd64', disk: false, runsInTree: true, binfmt: (u) => u === 'aarch64' })).toBeUndefined();
  expect(architectureProblem({ arch: 'arm64', host: 'amd64', disk: false, runsInTree: false, binfmt: none })).toBeUndefined();
});

test('an unknown architecture is bad input naming the known ones', () => {
  const r = runBin('kiln', ['plan', '-a', 'vax', 'busybox']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown architecture "vax" \(known: amd64, arm64, i386, armhf, ppc64el, s390x, riscv64\)/);
});
