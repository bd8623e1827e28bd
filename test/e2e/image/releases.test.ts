/**
 * The releases besides the default (trixie, built and booted as the seed's image by image/vm.test.ts; bookworm
 * by image/cache-debian.test.ts): sid, as cheaply as a real build can be — `debian-minimal` as a tar, no disk and
 * no kernel (KILN_KERNEL=0). This machine's mirror serves a frozen sid whose Release file has expired: the build
 * turns apt's Check-Valid-Until off for itself (and says so), and the image keeps nothing of it. `kiln plan`
 * resolves a suite name to the codename the mirror's Release file names, without building.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { kiln } from '../helpers/kiln.js';

const work = tempDir('e2e-releases');
const out = path.join(work, 'sid');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const inTar = (f: string) => spawnSync('tar', ['-xOf', `${out}.tar`, f], { encoding: 'utf8', maxBuffer: 2 ** 26 }).stdout;

test('--release sid: a tar whose debian_version says sid, its Release file expired but signatures checked, no kernel', async () => {
  const r = await kiln(['build', '--release', 'sid', '-t', 'tar', '-o', out, 'debian-minimal'], { env: { KILN_KERNEL: '0' } });
  process.stdout.write(`releases: sid tar in ${r.seconds.toFixed(1)} s\n`);
  expect({ code: r.code, tail: r.code === 0 ? '' : r.stderr.slice(-3000) }).toEqual({ code: 0, tail: '' });
  expect(inTar('./etc/debian_version')).toMatch(/sid/);
  expect(`${r.stdout}${r.stderr}`).toMatch(/the mirror's sid Release file expired on \S+ \(Valid-Until[^)]*\): apt's Check-Valid-Until is off for this build only, signatures are still checked/);
  const sources = inTar('./etc/apt/sources.list.d/debian.sources');
  // sid has no updates or security suite.
  expect(sources.match(/^Suites: .*$/gm)).toEqual(['Suites: sid']);
  const files = spawnSync('tar', ['-tf', `${out}.tar`], { encoding: 'utf8', maxBuffer: 2 ** 26 }).stdout;
  expect(files).not.toMatch(/00kiln-check-valid-until|99mmdebstrap/);
  expect(files).not.toMatch(/^\.\/boot\/vmlinuz-/m);
  expect(files).toMatch(/^\.\/usr\/bin\/apt-get$/m);
});

test('kiln plan --release stable: the base tree is the codename the mirror names for stable (trixie), DIB_RELEASE=unstable is sid', async () => {
  const stable = await kiln(['plan', '--release', 'stable', '--no-cache', 'debian-minimal']);
  expect(stable.code).toBe(0);
  expect(stable.stdout).toMatch(/base tree\s+\[debian-minimal\] trixie\/amd64/);
  const unstable = await kiln(['plan', '--no-cache', 'debian-minimal'], { env: { DIB_RELEASE: 'unstable' } });
  expect(unstable.stdout).toMatch(/base tree\s+\[debian-minimal\] sid\/amd64/);
});
