/**
 * The step cache on the busybox tree, from the --json events: a warm build restores the last step and runs
 * only cleanup.d; a changed hook, a changed environment variable that a hook reads, and a changed package
 * list invalidate exactly the steps from theirs on, and the miss names the change; a variable no hook
 * reads changes nothing; --no-cache stores nothing; two builds at once share a fresh cache and leave it
 * consistent; the size limit and `kiln cache ls|prune`; `kiln plan` says the same as the build.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { cacheReasons, cacheStates, cacheStores, expectNoLeaks, hostState, kiln, phasesRun, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-cache');
const F = path.join(work, 'flavours');
const C = path.join(work, 'cache');
const out = path.join(work, 'img');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const hook = (file: string, text: string) => `#!/bin/sh\nset -eu\necho "${text}"\n${file}\n`;
const installHook = (v: string) => hook('echo "foo=${KILN_T_FOO:-none} v' + v + '" > /etc/foo', `install hook v${v}`);
writeFlavour(path.join(F, 'cachetest'), {
  hooks: {
    'root.d': { '20-mark': hook('echo root > "$TARGET_ROOT/etc/root-mark"', 'root hook') },
    'install.d': { '50-foo': installHook('1') },
    'finalise.d': { '90-bar': hook('echo "bar=${KILN_T_BAR:-none}" > /etc/bar', 'finalise hook') },
    'cleanup.d': { '99-late': hook('echo late1 > "$TARGET_ROOT/etc/late"', 'late hook 1') },
  },
});
const env = { ELEMENTS_PATH: F, KILN_NO_CACHE: '0' };
const args = (o = out, ...extra: string[]) => ['build', '--json', '-t', 'tar', '--image-cache', C, '-o', o, ...extra, 'busybox', 'cachetest'];

const tarFile = (tar: string, file: string) => spawnSync('tar', ['-xOf', tar, `./${file}`], { encoding: 'utf8' }).stdout;
const entries = (dir = C) => (JSON.parse(spawnSync(process.execPath, ['bin/kiln', 'cache', 'ls', '--json', '--image-cache', dir], { encoding: 'utf8' }).stdout) as { entries: { step: string; key: string }[] }).entries;

async function ok(a: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const r = await kiln(a, { env: { ...env, ...extraEnv } });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  return r;
}

test('cold: every step misses (no earlier build), runs and is stored; nothing leaks', async () => {
  const before = hostState();
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:miss', 'install:miss', 'finalise:miss']);
  expect(cacheReasons(r, 'install')).toEqual(['no earlier build of img in the cache']);
  expect(cacheStores(r)).toEqual(['root', 'install', 'finalise']);
  expect(phasesRun(r)).toEqual(['root.d', 'install.d', 'finalise.d', 'cleanup.d']);
  expect(entries().map((e) => e.step).sort()).toEqual(['finalise', 'install', 'root']);
  expect(tarFile(`${out}.tar`, 'etc/foo')).toBe('foo=none v1\n');
  expectNoLeaks(before, work);
  expect(fs.readdirSync(path.join(C, 'kiln', 'steps')).filter((n) => /kiln-part|\.pin-|\.lock$/.test(n))).toEqual([]);
});

test('warm: the last step is restored, only cleanup.d runs, and the output has the same files', async () => {
  const cold = spawnSync('tar', ['-tvf', `${out}.tar`], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.replace(/\s\d{4}-\d\d-\d\d \d\d:\d\d/, '')).sort();
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  expect(phasesRun(r)).toEqual(['cleanup.d']);
  expect(cacheStores(r)).toEqual([]);
  expect(r.stderr).toMatch(/restore finalise from the step cache/);
  const warm = spawnSync('tar', ['-tvf', `${out}.tar`], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.replace(/\s\d{4}-\d\d-\d\d \d\d:\d\d/, '')).sort();
  expect(warm).toEqual(cold);
  expect(tarFile(`${out}.tar`, 'etc/bar')).toBe('bar=none\n');
});

test('a changed cleanup.d hook (the latest phase) runs on a fully restored tree', async () => {
  fs.writeFileSync(path.join(F, 'cachetest', 'cleanup.d', '99-late'), hook('echo late2 > "$TARGET_ROOT/etc/late"', 'late hook 2'), { mode: 0o755 });
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  expect(r.stderr).toContain('late hook 2');
  expect(tarFile(`${out}.tar`, 'etc/late')).toBe('late2\n');
});

test('a changed install.d hook: root hits, install and finalise miss, the miss names the hook', async () => {
  fs.writeFileSync(path.join(F, 'cachetest', 'install.d', '50-foo'), installHook('2'), { mode: 0o755 });
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:hit', 'install:miss', 'finalise:miss']);
  expect(cacheReasons(r, 'install')).toEqual(['cachetest/install.d/50-foo changed']);
  expect(cacheReasons(r, 'finalise')).toEqual(['follows install, which changed']);
  expect(phasesRun(r)).toEqual(['install.d', 'finalise.d', 'cleanup.d']);
  expect(cacheStores(r)).toEqual(['install', 'finalise']);
  expect(tarFile(`${out}.tar`, 'etc/foo')).toBe('foo=none v2\n');
  expect(tarFile(`${out}.tar`, 'etc/root-mark')).toBe('root\n');
});

test('an environment variable a finalise.d hook reads invalidates finalise only; one no hook reads, nothing', async () => {
  const r = await ok(args(), { KILN_T_BAR: 'two' });
  expect(cacheStates(r)).toEqual(['root:hit', 'install:hit', 'finalise:miss']);
  expect(cacheReasons(r, 'finalise')).toEqual(['environment KILN_T_BAR set (a hook reads it)']);
  expect(phasesRun(r)).toEqual(['finalise.d', 'cleanup.d']);
  expect(tarFile(`${out}.tar`, 'etc/bar')).toBe('bar=two\n');
  const again = await ok(args(), { KILN_T_BAR: 'three', KILN_T_UNREAD: 'x' });
  expect(cacheStates(again)).toEqual(['root:hit', 'install:hit', 'finalise:miss']);
  expect(cacheReasons(again, 'finalise')).toEqual(['environment KILN_T_BAR changed']);
  expect(JSON.stringify(fs.readdirSync(path.join(C, 'kiln', 'steps', 'lineage')).map((n) => fs.readFileSync(path.join(C, 'kiln', 'steps', 'lineage', n), 'utf8')))).not.toContain('three');
  const unread = await ok(args(), { KILN_T_BAR: 'three', KILN_T_UNREAD: 'y' });
  expect(cacheStates(unread)).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  // An install.d variable: install and finalise.
  const foo = await ok(args(), { KILN_T_BAR: 'three', KILN_T_FOO: 'x' });
  expect(cacheStates(foo)).toEqual(['root:hit', 'install:miss', 'finalise:miss']);
  expect(cacheReasons(foo, 'install')).toEqual(['environment KILN_T_FOO set (a hook reads it)']);
});

test('kiln plan says what the build will do, and changes nothing', async () => {
  const before = fs.readdirSync(path.join(C, 'kiln', 'steps')).sort();
  const r = await kiln(['plan', '-t', 'tar', '--image-cache', C, '-o', out, 'busybox', 'cachetest'], { env: { ...env, KILN_T_BAR: 'three', KILN_T_FOO: 'y' } });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/root \(base tree and root\.d\): hit [0-9a-f]{12}/);
  expect(r.stdout).toContain('install (extra-data.d to install.d and packages): miss: environment KILN_T_FOO changed');
  expect(r.stdout).toContain('finalise (post-install.d to finalise.d and first-boot.d): miss: follows install, which changed');
  expect(fs.readdirSync(path.join(C, 'kiln', 'steps')).sort()).toEqual(before);
  const off = await kiln(['plan', '--no-cache', '-t', 'tar', '-o', out, 'busybox', 'cachetest'], { env });
  expect(off.stdout).toContain('Step cache (off: --no-cache)');
});

test('--no-cache: every step runs, nothing is restored or stored', async () => {
  const n = entries().length;
  const r = await ok(args(out, '--no-cache'));
  expect(cacheStates(r)).toEqual(['root:off', 'install:off', 'finalise:off']);
  expect(phasesRun(r)).toEqual(['root.d', 'install.d', 'finalise.d', 'cleanup.d']);
  expect(cacheStores(r)).toEqual([]);
  expect(entries()).toHaveLength(n);
});

test('two builds at once on an empty shared cache both succeed; the cache holds one entry per step and serves a third', async () => {
  const shared = path.join(work, 'shared-cache');
  const before = hostState();
  const a = path.join(work, 'a');
  const b = path.join(work, 'b');
  const both = await Promise.all([a, b].map((o) => kiln(['build', '--json', '-t', 'tar', '--image-cache', shared, '-o', o, 'busybox', 'cachetest'], { env })));
  for (const r of both) expect(r.code).toBe(0);
  const e = entries(shared);
  expect(e.map((x) => x.step).sort()).toEqual(['finalise', 'install', 'root']);
  expect(fs.readdirSync(path.join(shared, 'kiln', 'steps')).filter((n) => /kiln-part|\.pin-|\.lock$/.test(n))).toEqual([]);
  const third = await ok(['build', '--json', '-t', 'tar', '--image-cache', shared, '-o', path.join(work, 'c'), 'busybox', 'cachetest']);
  expect(cacheStates(third)).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  expect(tarFile(path.join(work, 'c.tar'), 'etc/foo')).toBe(tarFile(`${a}.tar`, 'etc/foo'));
  // Two warm builds at once restore side by side.
  const warm = await Promise.all([a, b].map((o) => kiln(['build', '--json', '-t', 'tar', '--image-cache', shared, '-o', o, 'busybox', 'cachetest'], { env })));
  for (const r of warm) {
    expect(r.code).toBe(0);
    expect(cacheStates(r)).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  }
  expectNoLeaks(before, work);
});

test('the size limit prunes least recently used entries after a store; kiln cache prune', async () => {
  const n = entries().length;
  expect(n).toBeGreaterThan(3);
  const r = await ok(args(), { KILN_T_BAR: 'four', KILN_CACHE_SIZE: '1M' });
  expect(r.stderr).toMatch(/pruned [0-9a-f]{12} .*over the cache size limit/);
  // What this build uses stays.
  const left = entries();
  expect(left.map((e) => e.step).sort()).toEqual(['finalise', 'install', 'root']);
  expect(cacheStates(await ok(args(), { KILN_T_BAR: 'four' }))).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
  const bad = spawnSync(process.execPath, ['bin/kiln', 'cache', 'prune', '--older-than', 'soon', '--image-cache', C], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--older-than: "soon" is not an age');
  expect(entries()).toHaveLength(3);
  const all = spawnSync(process.execPath, ['bin/kiln', 'cache', 'prune', '--all', '--image-cache', C], { encoding: 'utf8' });
  expect(all.status).toBe(0);
  expect(all.stdout).toMatch(/removed 3, freed [0-9.]+ MiB; 0\.0 MiB left/);
  expect(entries()).toEqual([]);
  const r2 = await ok(args(), { KILN_T_BAR: 'four' });
  expect(cacheStates(r2)).toEqual(['root:miss', 'install:miss', 'finalise:miss']);
  expect(cacheReasons(r2, 'root')).toEqual(['the entry was pruned']);
});

test('a rebuild with nothing changed links the outputs from the output cache (digests verified); an output changed in place is never served', async () => {
  writeFlavour(path.join(F, 'nochange'), { hooks: { 'install.d': { '50-n': hook('echo n > /etc/n', 'n hook') } } });
  const o = path.join(work, 'nc');
  const build = (...extra: string[]) => ok(['build', '--json', '-t', 'tar', '--image-cache', C, '-o', o, ...extra, 'busybox', 'nochange']);
  const sha = () => spawnSync('sha256sum', [`${o}.tar`], { encoding: 'utf8' }).stdout.split(' ')[0] as string;
  const first = await build();
  expect(first.stderr).toContain('outputs kept in the output cache');
  const made = sha();
  const again = await build('--checksum');
  expect(again.stderr).toMatch(/nothing changed since the build that made these outputs: reused from the output cache/);
  expect(again.stdout).toContain('"event":"output","path":"' + o + '.tar","format":"tar"');
  expect(again.stdout).toContain('"reused":true');
  expect(phasesRun(again)).toEqual([]);
  expect(sha()).toBe(made);
  expect(fs.readFileSync(`${o}.tar.sha256`, 'utf8')).toBe(`${made}  nc.tar\n`);
  expect(fs.existsSync(`${o}.manifest.json`)).toBe(true);
  // The output is the cache's file (a hard link): changed in place, it fails the digest and is rebuilt.
  fs.appendFileSync(`${o}.tar`, 'tampered');
  const third = await build();
  expect(third.stderr).not.toMatch(/reused from the output cache/);
  expect(phasesRun(third)).toEqual([]);
  expect(sha()).toBe(made);
  expect(fs.existsSync(`${o}.tar.sha256`)).toBe(false);
  // A build with a cleanup.d hook (never cached, it may act on anything) never reuses outputs.
  expect((await ok(args())).stderr).not.toMatch(/reused from the output cache|kept in the output cache/);
});
