/**
 * Reproducible outputs on the busybox tree: the same flavours built three times (cache on and cold; cache on
 * and warm, restored from the step cache; --no-cache in another directory, another time zone and locale,
 * seconds later) give the same bytes for tar, tgz, squashfs, oci, the manifest and the SBOM. The oci archive
 * is read by skopeo: one layer, which is the tar output.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hostArch } from '../../../lib/config/parse.js';
import { ociPlatform } from '../../../lib/distro/arch.js';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { cacheStates, kiln, type Run } from '../helpers/kiln.js';
import { command, testIf } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-repro');
const F = path.join(work, 'flavours');
const C = path.join(work, 'cache');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// Hooks that leave build-time marks: files made now (mtimes), in install.d and in cleanup.d (which always runs).
writeFlavour(path.join(F, 'stamp'), {
  hooks: {
    'install.d': { '50-files': '#!/bin/sh\nset -eu\nmkdir -p /opt/stamp\necho one > /opt/stamp/a\nln -s a /opt/stamp/b\n' },
    'cleanup.d': { '90-late': '#!/bin/sh\nset -eu\necho late > "$TARGET_ROOT/opt/stamp/late"\n' },
  },
});
const digests = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => !f.endsWith('.log'))
      .sort()
      .map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]),
  );

async function build(dir: string, extra: string[], env: Record<string, string>): Promise<Run> {
  fs.mkdirSync(dir, { recursive: true });
  const r = await kiln(['build', '--json', '-t', 'tar,tgz,squashfs,oci', '--image-cache', C, '-o', path.join(dir, 'img'), ...extra, 'busybox', 'stamp'], { env: { ELEMENTS_PATH: F, ...env } });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  return r;
}

test('cold, warm from the cache, and --no-cache elsewhere (other TZ, LANG, seconds later): identical bytes', async () => {
  const cold = await build(path.join(work, 'a'), [], { KILN_NO_CACHE: '0' });
  expect(cacheStates(cold)).toEqual(['root:miss', 'install:miss', 'finalise:empty']);
  const a = digests(path.join(work, 'a'));
  expect(Object.keys(a)).toEqual(['img.cdx.json', 'img.manifest.json', 'img.oci.tar', 'img.squash', 'img.tar', 'img.tgz']);
  const warm = await build(path.join(work, 'a'), [], { KILN_NO_CACHE: '0' });
  expect(cacheStates(warm)).toEqual(['root:hit', 'install:hit', 'finalise:empty']);
  expect(digests(path.join(work, 'a'))).toEqual(a);
  await new Promise((r) => setTimeout(r, 2100));
  const other = await build(path.join(work, 'elsewhere', 'b'), ['--no-cache'], { TZ: 'Asia/Tokyo', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' });
  expect(cacheStates(other)).toEqual(['root:off', 'install:off', 'finalise:off']);
  expect(other.stderr).toMatch(/SOURCE_DATE_EPOCH=1577836800 \(2020-01-01T00:00:00\.000Z, kiln's default/);
  expect(digests(path.join(work, 'elsewhere', 'b'))).toEqual(a);
});

testIf(command('skopeo'))('-t oci: skopeo reads one layer holding the tree (the tar output, gzipped), the platform and the build\'s labels', () => {
  const archive = path.join(work, 'a', 'img.oci.tar');
  const inspect = (extra: string[]) => {
    const r = spawnSync('skopeo', ['inspect', ...extra, `oci-archive:${archive}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`skopeo inspect: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const info = inspect([]);
  expect(info).toMatchObject({ Architecture: ociPlatform(hostArch()).architecture, Os: 'linux', Created: '2020-01-01T00:00:00Z' });
  expect(info.Layers).toHaveLength(1);
  expect(info.Labels).toMatchObject({ 'org.opencontainers.image.title': 'img', 'kiln.flavours': 'busybox stamp' });
  const tree = crypto.createHash('sha256').update(fs.readFileSync(path.join(work, 'a', 'img.tar'))).digest('hex');
  expect(inspect(['--config']).rootfs.diff_ids).toEqual([`sha256:${tree}`]);
});

test('SOURCE_DATE_EPOCH from the caller sets the times; a bad one is refused before anything is built', async () => {
  const r = await build(path.join(work, 'c'), ['--no-cache'], { SOURCE_DATE_EPOCH: '1700000000' });
  expect(r.stderr).toMatch(/SOURCE_DATE_EPOCH=1700000000 .*\(SOURCE_DATE_EPOCH\)|SOURCE_DATE_EPOCH=1700000000 \(2023-11-14T22:13:20\.000Z, SOURCE_DATE_EPOCH\)/);
  expect(digests(path.join(work, 'c'))['img.tar']).not.toBe(digests(path.join(work, 'a'))['img.tar']);
  fs.mkdirSync(path.join(work, 'd'));
  const bad = await kiln(['build', '-t', 'tar', '--no-cache', '-o', path.join(work, 'd', 'img'), 'busybox'], { env: { SOURCE_DATE_EPOCH: 'yesterday' } });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('SOURCE_DATE_EPOCH: "yesterday" is not a whole number of seconds');
  expect(fs.readdirSync(path.join(work, 'd'))).toEqual([]);
});

test('--verify: identical outputs say so (exit 0); a build that writes the time is caught, naming the file and the tar member', async () => {
  fs.mkdirSync(path.join(work, 'v'));
  const ok = await kiln(['build', '--verify', '-t', 'tar,squashfs', '--no-cache', '-o', path.join(work, 'v', 'img'), 'busybox', 'stamp'], { env: { ELEMENTS_PATH: F } });
  expect([ok.code, ok.code === 0 ? '' : ok.stderr.slice(-2000)]).toEqual([0, '']);
  expect(ok.stdout).toMatch(/identical {2}img\.tar/);
  expect(ok.stdout).toContain('kiln: --verify: all 4 files identical to a --no-cache rebuild');
  expect(fs.readdirSync(path.join(work, 'v')).sort()).toEqual(['img.cdx.json', 'img.manifest.json', 'img.squash', 'img.tar']);
  writeFlavour(path.join(F, 'clock'), { hooks: { 'cleanup.d': { '90-now': '#!/bin/sh\nset -eu\ndate +%s%N > "$TARGET_ROOT/etc/now"\n' } } });
  const bad = await kiln(['build', '--verify', '-t', 'tar', '--no-cache', '-o', path.join(work, 'v', 'clock'), 'busybox', 'clock'], { env: { ELEMENTS_PATH: F } });
  expect(bad.code).toBe(1);
  expect(bad.stdout).toMatch(/DIFFERS {4}clock\.tar: first difference at byte \d+ \(in \.\/etc\/now\)/);
  expect(bad.stderr).toContain('kiln: error: --verify: 1 of 3 files differ between the build and its --no-cache rebuild: clock.tar');
  expect(fs.readdirSync(path.join(work, 'v')).filter((n) => n.startsWith('.kiln-verify'))).toEqual([]);
});
