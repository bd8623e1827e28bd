/**
 * Faults on a real Debian tree (the seed's `vm local-config fbtest`), at each disk-assembly step: sfdisk, mkfs.ext4 failing,
 * grub-mkimage failing, qemu-img convert failing, SIGINT while qemu-img converts; SIGTERM while apt installs
 * packages (two Debian builds at once sharing the package cache: engine.test). After each: the exit code, the culprit
 * named, nothing mounted, no loop device, no work directory, no partial output, the previous output of the
 * same name untouched, and every package in the shared cache whole.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SEED_FLAVOURS, testFlavours, testHome } from '../helpers/images.js';
import { aptArchives, debsIn, expectNoLeaks, hostState, kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-debfaults');
const shims = path.join(work, 'shims');
const out = path.join(work, 'img');
const marker = path.join(work, 'converting');
const previous = 'the previous image\n';

/** The real path of a host command (before the shims go on PATH). */
const real = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

fs.mkdirSync(shims, { recursive: true });
fs.writeFileSync(
  path.join(shims, 'mkfs.ext4'),
  `#!/bin/sh\nif [ "$KILN_TEST_FAULT" = mkfs ]; then echo "mkfs.ext4: injected failure" >&2; exit 1; fi\nexec ${real('mkfs.ext4')} "$@"\n`,
  { mode: 0o755 },
);
fs.writeFileSync(
  path.join(shims, 'sfdisk'),
  `#!/bin/sh\nif [ "$KILN_TEST_FAULT" = sfdisk ]; then echo "sfdisk: injected failure" >&2; exit 1; fi\nexec ${real('sfdisk')} "$@"\n`,
  { mode: 0o755 },
);
fs.writeFileSync(
  path.join(shims, 'qemu-img'),
  `#!/bin/sh
if [ "$1" = convert ] && [ "$KILN_TEST_FAULT" = convert ]; then echo "qemu-img: injected failure" >&2; exit 1; fi
if [ "$1" = convert ] && [ "$KILN_TEST_FAULT" = slow-convert ]; then touch ${marker}; sleep 60; fi
exec ${real('qemu-img')} "$@"
`,
  { mode: 0o755 },
);
// The seed's flavours with the step cache on: this file and the seed fixture (image/vm.test.ts) share the
// run's cached steps, so whichever runs first builds the Debian tree and the other restores it.
// grub-mkimage runs inside the tree: fbtest's cleanup.d hook replaces the tree's with a failing one when
// KILN_TEST_FAULT=grub (KILN_TEST_FAULT is read by no cached step).
const env = { PATH: `${shims}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
const diskArgs = ['build', '-t', 'qcow2', '-o', out, ...SEED_FLAVOURS];
const diskEnv = { ...env, ELEMENTS_PATH: testFlavours(), HOME: testHome().home, KILN_NO_CACHE: '0' };

beforeEach(() => fs.writeFileSync(`${out}.qcow2`, previous));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test.each([
  ['sfdisk', /kiln: error: sfdisk exited 1/, 'sfdisk: injected failure'],
  ['mkfs', /kiln: error: mkfs\.ext4 \(root filesystem\) exited 1/, 'mkfs.ext4: injected failure'],
  ['grub', /kiln: error: .*grub-mkimage.*/, 'grub-mkimage: injected failure'],
  ['convert', /kiln: error: .*qemu-img.* exited 1/, 'qemu-img: injected failure'],
])('disk assembly fault at %s on a Debian tree: exit 1, culprit named, nothing leaked, previous image untouched', async (fault, message, said) => {
  const before = hostState();
  const r = await kiln(diskArgs, { env: { ...diskEnv, KILN_TEST_FAULT: fault } });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toContain(said);
  expectNoLeaks(before, work);
  expect(fs.readFileSync(`${out}.qcow2`, 'utf8')).toBe(previous);
});

test('SIGINT while qemu-img converts the Debian disk: exit 130, nothing leaked, previous image untouched', async () => {
  const before = hostState();
  fs.rmSync(marker, { force: true });
  let sent = false;
  const poll = (child: ChildProcess) => {
    const timer = setInterval(() => {
      if (!sent && fs.existsSync(marker)) {
        sent = true;
        child.kill('SIGINT');
      }
      if (sent || child.exitCode !== null) clearInterval(timer);
    }, 200);
  };
  let polling = false;
  const r = await kiln(diskArgs, {
    env: { ...diskEnv, KILN_TEST_FAULT: 'slow-convert' },
    onStdout: (_text, child) => {
      if (!polling) {
        polling = true;
        poll(child);
      }
    },
  });
  expect(sent).toBe(true);
  expect(r.code).toBe(130);
  expect(r.stderr).toContain('interrupted by SIGINT');
  expectNoLeaks(before, work);
  expect(fs.readFileSync(`${out}.qcow2`, 'utf8')).toBe(previous);
});

test('SIGTERM while apt installs packages into a Debian tree: exit 130, nothing leaked, the package cache holds only whole packages', async () => {
  const before = hostState();
  fs.writeFileSync(`${out}.tar`, previous);
  let sent = false;
  const r = await kiln(['build', '-t', 'tar', '-o', out, 'debian-minimal', '-p', 'tree'], {
    env,
    onStdout: (text, child) => {
      if (!sent && /Unpacking /.test(text)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  expect(sent).toBe(true);
  expect(r.code).toBe(130);
  expectNoLeaks(before, work);
  expect(fs.readFileSync(`${out}.tar`, 'utf8')).toBe(previous);
  // apt downloads into partial/ and moves a package into the cache only once it is whole and verified.
  const t0 = Date.now() - r.seconds * 1000;
  for (const deb of debsIn(aptArchives()).filter((f) => fs.statSync(f).mtimeMs >= t0)) expect([deb, spawnSync('dpkg-deb', ['--info', deb]).status]).toEqual([deb, 0]);
});
