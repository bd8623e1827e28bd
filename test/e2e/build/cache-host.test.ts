/**
 * The step cache and what host-side hooks read, on the busybox tree: a host file an extra-data.d hook copies
 * (same path, new content) and the building user's public key (local-config) reach the install step's key, so
 * the next image has the new content and only the new key; the miss names the product that changed, and
 * `kiln plan` says so first. A hook that needs the real tree makes install and finalise uncacheable, never
 * stale. Outputs are compared by digest as well as by content.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { cacheReasons, cacheStates, kiln, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-cache-host');
const F = path.join(work, 'flavours');
const C = path.join(work, 'cache');
const out = path.join(work, 'img');
const home = path.join(work, 'home');
const hostFile = path.join(work, 'host-data');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
fs.writeFileSync(hostFile, 'host data v1\n');
// The hook names the host file by a literal path: only what it produces can tell the cache that it changed.
writeFlavour(path.join(F, 'hostcopy'), {
  hooks: {
    'extra-data.d': { '50-copy': `#!/bin/sh\nset -eu\ncp ${hostFile} "$TMP_HOOKS_PATH/hostcopy-data"\n` },
    'install.d': { '60-use': '#!/bin/sh\nset -eu\ncp "$TMP_HOOKS_PATH/hostcopy-data" /etc/host-data\n' },
  },
});
writeFlavour(path.join(F, 'needstree'), {
  hooks: { 'extra-data.d': { '50-into-tree': `#!/bin/sh\nset -eu\ncp ${hostFile} "$TARGET_ROOT/etc/apt-like/needs-tree"\n` }, 'root.d': { '90-dir': '#!/bin/sh\nmkdir -p "$TARGET_ROOT/etc/apt-like"\n' } },
});
const env = { ELEMENTS_PATH: F, KILN_NO_CACHE: '0', HOME: home };
const flavours = ['busybox', 'local-config', 'hostcopy'];
const args = (...extra: string[]) => ['build', '--json', '-t', 'tar', '--image-cache', C, '-o', out, ...extra, ...flavours];

const tarFile = (tar: string, file: string) => spawnSync('tar', ['-xOf', tar, `./${file}`], { encoding: 'utf8' }).stdout;
const sha256 = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const setKey = (name: string) => {
  const line = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${crypto.createHash('sha256').update(name).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 43)} ${name}@kiln-test`;
  fs.writeFileSync(path.join(home, '.ssh', 'id_ed25519.pub'), `${line}\n`);
  return line;
};

async function ok(a: string[]): Promise<Run> {
  const r = await kiln(a, { env });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  return r;
}

let keyA: string;
let cold: Run;

beforeAll(async () => {
  keyA = setKey('alice');
  cold = await ok(args());
});

test('cold, then warm: every step hits the second time and the tar is the same tree', async () => {
  expect(cacheStates(cold)).toEqual(['root:miss', 'install:miss', 'finalise:empty']);
  expect(tarFile(`${out}.tar`, 'etc/host-data')).toBe('host data v1\n');
  expect(tarFile(`${out}.tar`, 'root/.ssh/authorized_keys')).toBe(`${keyA}\n`);
  const listing = () => spawnSync('tar', ['-tvf', `${out}.tar`], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.replace(/\s\d{4}-\d\d-\d\d \d\d:\d\d/, '')).sort();
  const before = listing();
  const warm = await ok(args());
  expect(cacheStates(warm)).toEqual(['root:hit', 'install:hit', 'finalise:empty']);
  expect(warm.stderr).toMatch(/extra-data\.d run apart from the tree to key the install step: \d+ product/);
  expect(listing()).toEqual(before);
});

test('a host file an extra-data.d hook copies changes (same path): install misses naming it, the image has the new content', async () => {
  const was = sha256(`${out}.tar`);
  fs.writeFileSync(hostFile, 'host data v2\n');
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:hit', 'install:miss', 'finalise:empty']);
  expect(cacheReasons(r, 'install')).toEqual(['extra-data.d output changed: hostcopy-data']);
  expect(tarFile(`${out}.tar`, 'etc/host-data')).toBe('host data v2\n');
  expect(sha256(`${out}.tar`)).not.toBe(was);
});

test('the building user\'s new public key: kiln plan names it, the next image holds only the new key', async () => {
  const keyB = setKey('bob');
  const plan = await kiln(['plan', '-t', 'tar', '--image-cache', C, '-o', out, ...flavours], { env });
  expect(plan.code).toBe(0);
  expect(plan.stdout).toContain('install (extra-data.d to install.d and packages): miss: extra-data.d output changed: local-config/authorized_keys');
  const r = await ok(args());
  expect(cacheStates(r)).toEqual(['root:hit', 'install:miss', 'finalise:empty']);
  expect(cacheReasons(r, 'install')).toEqual(['extra-data.d output changed: local-config/authorized_keys']);
  const keys = tarFile(`${out}.tar`, 'root/.ssh/authorized_keys');
  expect(keys).toBe(`${keyB}\n`);
  expect(keys).not.toContain(keyA);
  // Back to the first key: the first user's entry serves it again, with only that key.
  setKey('alice');
  const back = await ok(args());
  expect(cacheStates(back)).toEqual(['root:hit', 'install:hit', 'finalise:empty']);
  expect(tarFile(`${out}.tar`, 'root/.ssh/authorized_keys')).toBe(`${keyA}\n`);
});

test('an extra-data.d hook that needs the real tree: install and finalise are uncacheable, the build is right', async () => {
  const o = path.join(work, 'tree');
  const a = ['build', '--json', '-t', 'tar', '--image-cache', C, '-o', o, 'busybox', 'needstree'];
  const r = await ok(a);
  expect(cacheStates(r)).toEqual(['root:miss', 'install:uncacheable', 'finalise:uncacheable']);
  expect(cacheReasons(r, 'install')[0]).toMatch(/extra-data\.d could not run apart from the tree, .*\[needstree\] extra-data\.d\/50-into-tree exited 1/);
  expect(tarFile(`${o}.tar`, 'etc/apt-like/needs-tree')).toBe(fs.readFileSync(hostFile, 'utf8'));
  fs.writeFileSync(hostFile, 'host data v3\n');
  const again = await ok(a);
  expect(cacheStates(again)).toEqual(['root:hit', 'install:uncacheable', 'finalise:uncacheable']);
  expect(tarFile(`${o}.tar`, 'etc/apt-like/needs-tree')).toBe('host data v3\n');
});
