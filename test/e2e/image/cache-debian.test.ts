/**
 * The step cache on a real Debian build (debian-minimal vm): cold stores the install and finalise steps,
 * warm restores the finalised tree and only cleanup.d, the disk and the outputs run, and what it writes —
 * in another directory, time zone and locale, minutes later — is the cold build's, byte for byte (qcow2, raw,
 * tar, manifest, SBOM: reproducible outputs), and so is what a --no-cache build writes from nothing;
 * an edited late hook rebuilds from the restored tree. The cold build (builder A) also pushes its steps and its
 * base tree to a real registry (test/e2e/helpers/registry.ts); builder B, with an empty --image-cache, gets a
 * registry hit for every step that does work and writes the cold build's outputs, byte for byte. (That a changed package list misses, naming the
 * package, is in test/unit/cache: a third real Debian install here cost three minutes for no new proof.)
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { buildEvents, cacheSources, cacheStates, expectNoLeaks, hostState, kiln, phasesRun, type Run } from '../helpers/kiln.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-cache-deb');
const F = path.join(work, 'flavours');
const out = path.join(work, 'deb');
// The run's image cache (test/e2e/setup.ts), so the base tree is made once per run.
const imageCache = process.env.DIB_IMAGE_CACHE as string;
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(() => reg.stop());
const registryArgs = () => ['--cache-registry', `${reg.host}/kiln/cache-debian`];
const registryEnv = () => ({ REGISTRY_AUTH_FILE: reg.authFile() });

const late = (v: string) => `#!/bin/sh\nset -eu\necho "late hook ${v}"\necho ${v} > "$TARGET_ROOT/etc/kiln-late"\n`;
writeFlavour(path.join(F, 'cachedeb'), {
  hooks: {
    // A fresh nonce per run: this run's keys are new even when the shared image cache holds earlier runs'.
    'install.d': { '50-mark': `#!/bin/sh\nset -eu\n# run ${crypto.randomUUID()}\necho cached > /etc/kiln-cache-mark\n` },
    'cleanup.d': { '99-late': late('one') },
  },
});
const OUTPUTS = ['qcow2', 'raw', 'tar', 'manifest.json', 'cdx.json'] as const;
// bookworm (the previous stable, not the default): the suite's one build of Debian 12.
const args = (prefix: string) => ['build', '--json', '-t', 'qcow2,raw,tar', '--release', 'bookworm', '--image-cache', imageCache, '-o', prefix, 'debian-minimal', 'vm', 'cachedeb'];
const env = { ELEMENTS_PATH: F, KILN_NO_CACHE: '0' };
/** sha256 of each output of a build. */
const digests = (prefix: string): Record<string, string> =>
  Object.fromEntries(OUTPUTS.map((ext) => [ext, spawnSync('sha256sum', [`${prefix}.${ext}`], { encoding: 'utf8' }).stdout.split(' ')[0] ?? '']));
let coldDigests: Record<string, string> = {};

/** The output tree as a sorted list of entries without their times. */
const listing = (): string[] =>
  spawnSync('tar', ['-tvf', `${out}.tar`, '--numeric-owner'], { encoding: 'utf8', maxBuffer: 2 ** 28 })
    .stdout.split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^(\S+ \S+\s+\S+) \S+ \S+ /, '$1 '))
    .sort();
let coldListing: string[] = [];

const inTar = (file: string) => spawnSync('tar', ['-xOf', `${out}.tar`, `./${file}`], { encoding: 'utf8' }).stdout;

async function build(prefix = out, extra: Record<string, string> = {}, more: string[] = [], wrap: string[] = []): Promise<Run> {
  const r = await kiln([...args(prefix), ...more], { env: { ...env, ...extra }, wrap });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-4000)}`);
  process.stdout.write(`cache-debian: ${cacheStates(r).join(' ')} in ${r.seconds.toFixed(1)} s\n`);
  return r;
}

test('cold (builder A, with the cache registry): install and finalise run and are stored, and pushed with the base tree (its own cache)', async () => {
  const before = hostState();
  const r = await build(out, registryEnv(), registryArgs());
  expect(cacheStates(r)).toEqual(['root:empty', 'install:miss', 'finalise:miss']);
  expect(buildEvents(r).filter((e) => e.event === 'cache-store').map((e) => e.step)).toEqual(['install', 'finalise']);
  const pushed = buildEvents(r).filter((e) => e.event === 'cache-push');
  expect(pushed.map((e) => `${e.kind}:${e.failed ?? 'ok'}`).sort()).toEqual(['base:ok', 'step:ok', 'step:ok']);
  expect(inTar('etc/kiln-cache-mark')).toBe('cached\n');
  // The initramfs memo (made here, or reused from an earlier run's build in the shared image cache: either way the
  // no-cache build below, which never uses the memo, must write the same bytes).
  expect(`${r.stdout}${r.stderr}`).toMatch(/initramfs: (reused|making it) for \S+ \(digest [0-9a-f]{12}/);
  // --release bookworm builds Debian 12, with bookworm's one-line sources.list.
  expect(inTar('usr/lib/os-release')).toMatch(/^VERSION_ID="12"$/m);
  expect(inTar('etc/apt/sources.list')).toMatch(/^deb \S+ bookworm-security main$/m);
  expectNoLeaks(before, work);
  coldListing = listing();
  expect(coldListing.length).toBeGreaterThan(1000);
  expect(coldListing.some((l) => /\.\/boot\/initrd\.img-/.test(l))).toBe(true);
  coldDigests = digests(out);
});

test('builder B, an empty --image-cache and the cache registry: a registry hit for every step, and every output is the cold build\'s, byte for byte', async () => {
  const other = path.join(work, 'builder-b', 'deb');
  fs.mkdirSync(path.dirname(other), { recursive: true });
  const r = await kiln([...args(other).map((a) => (a === imageCache ? tempDir('e2e-cache-deb-b') : a)), ...registryArgs()], { env: { ...env, ...registryEnv() } });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-4000)}`);
  process.stdout.write(`cache-debian: builder B ${cacheSources(r).join(' ')} in ${r.seconds.toFixed(1)} s\n`);
  expect(cacheSources(r)).toEqual(['root:empty', 'install:hit:registry', 'finalise:hit:registry']);
  expect(buildEvents(r).filter((e) => e.event === 'cache-pull').map((e) => e.kind)).toEqual(['step']);
  expect(phasesRun(r)).toEqual(['cleanup.d']);
  expect(digests(other)).toEqual(coldDigests);
  for (const ext of OUTPUTS) fs.rmSync(`${other}.${ext}`);
});

test("warm, elsewhere and offline (--offline, in a network namespace without network): the finalised tree is restored, only cleanup.d runs, and every output is the cold build's, byte for byte", async () => {
  const other = path.join(work, 'elsewhere', 'deb');
  fs.mkdirSync(path.dirname(other), { recursive: true });
  const r = await build(other, { TZ: 'Asia/Tokyo', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' }, ['--offline'], ['unshare', '-n']);
  expect(cacheStates(r)).toEqual(['root:empty', 'install:hit', 'finalise:hit']);
  expect(phasesRun(r)).toEqual(['cleanup.d']);
  expect(digests(other)).toEqual(coldDigests);
  expect(Object.values(coldDigests).every((d) => /^[0-9a-f]{64}$/.test(d))).toBe(true);
  for (const ext of OUTPUTS) fs.rmSync(`${other}.${ext}`);
});

test('built again from nothing (--no-cache), elsewhere, in another time zone and locale, minutes later: every output is the cold build\'s, byte for byte', async () => {
  const other = path.join(work, 'nocache', 'deb');
  fs.mkdirSync(path.dirname(other), { recursive: true });
  const r = await build(other, { TZ: 'Pacific/Auckland', LANG: 'ja_JP.UTF-8', LC_ALL: 'ja_JP.UTF-8' }, ['--no-cache']);
  expect(buildEvents(r).filter((e) => String(e.event).startsWith('cache-'))).toEqual([]);
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/initramfs: (reused|making it)/);
  expect(phasesRun(r)).toEqual(expect.arrayContaining(['install.d', 'finalise.d', 'cleanup.d']));
  expect(digests(other)).toEqual(coldDigests);
  for (const ext of OUTPUTS) fs.rmSync(`${other}.${ext}`);
});

test('an edited cleanup.d hook runs on the restored tree', async () => {
  fs.writeFileSync(path.join(F, 'cachedeb', 'cleanup.d', '99-late'), late('two'), { mode: 0o755 });
  const r = await build();
  expect(cacheStates(r)).toEqual(['root:empty', 'install:hit', 'finalise:hit']);
  expect(r.stderr).toContain('late hook two');
  expect(inTar('etc/kiln-late')).toBe('two\n');
});

test('offline without network, a step the cache lacks: apt installs the packages the archive cache holds (no download), and a package it lacks fails naming it, exit 2, no output', async () => {
  writeFlavour(path.join(F, 'offmiss'), {});
  fs.writeFileSync(path.join(F, 'offmiss', 'package-installs.yaml'), 'cowsay:\n  phase: post-install.d\n');
  const miss = path.join(work, 'offline-miss', 'deb');
  fs.mkdirSync(path.dirname(miss), { recursive: true });
  const before = hostState();
  const r = await kiln(['build', '-t', 'tar', '--offline', '--release', 'bookworm', '--image-cache', imageCache, '-o', miss, 'debian-minimal', 'vm', 'cachedeb', 'offmiss'], { env, wrap: ['unshare', '-n'] });
  expect([r.code, r.stderr.slice(-1500)]).toEqual([2, expect.stringMatching(/kiln: error: --offline: post-install\.d packages: not in the local package cache: (\S+ \(\S+\.deb\), )*cowsay \(cowsay_\S+_all\.deb\)/)]);
  // install.d's packages (the kernel, GRUB, …) came from the archive cache, without a network.
  expect(`${r.stdout}${r.stderr}`).toMatch(/install\.d packages: install .*linux-image-amd64/);
  expect(fs.readdirSync(path.dirname(miss))).toEqual([]);
  expectNoLeaks(before, work);
});

