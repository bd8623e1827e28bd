/**
 * Rootless builds for real: a user the test creates (not in the kiln group, no sudo, a subordinate range in
 * /etc/subuid and /etc/subgid) builds the busybox tree as a qcow2 and a tar as themselves, with the step cache on
 * in their own directory. The tree's root-owned files are 0:0 in the tar and in the ext4, a file chowned to
 * 1000:1000 inside keeps that owner, the outputs and the cache belong to the user, and a root build of the same
 * flavours gives the same bytes; a warm rebuild through disk-image-create restores the tree from the user's
 * cache and gives the same disk and tar. Nothing stays mounted, running or in the user's TMPDIR. A user without
 * a subordinate range gets one line naming the command that gives one (exit 2), and nothing is written. Then
 * the user builds the seed's Debian vm image (the suite's shared root build, SEED: its flavours, formats and
 * name) rootless from a cache seeded with the run's base tree and package archives, gets the same bytes in every
 * output, and `kiln boot`s the qcow2 to a login prompt, leaving nothing mounted, attached, running or in /tmp.
 * The user's environment is a clean login's, the root build's the suite's: they agree because hooks and package
 * scripts do not get the caller's PYTHONDONTWRITEBYTECODE (lib/build/env.ts). The test creates the users and
 * removes them (homes and subordinate ranges with them) afterwards.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freeSubidStart, subidRange, SUBID_COUNT } from '../../../lib/namespace/rootless.js';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { SEED, sharedImage, testFlavours, testHome } from '../helpers/images.js';
import { cacheStates, expectNoLeaks, hostState, kiln, REPO } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const USER = 'kilnrootless';
const NORANGE = 'kilnrootless0';
const HOME = `/home/${USER}`;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env: { PATH }, maxBuffer: 1 << 26 });
const created: string[] = [];

// The test's flavours: install.d (in the chroot) writes a root-owned file and a home chowned to 1000:1000;
// post-root.d (on the host) puts the host's grub-mkimage (with its libraries) and i386-pc modules and a
// stand-in kernel and initrd in the tree, enough for kiln to assemble a disk from busybox. Nothing copies the
// host's owners (no cp -a): the host's root is not mapped into a rootless build, its files would be 65534 there.
const OWNERS = `#!/bin/sh
set -eu
mkdir -p /home/user
echo mine > /home/user/file
chown 1000:1000 /home/user /home/user/file
echo root > /etc/kiln-root-file
`;
const FAKEBOOT = `#!/bin/bash
set -eu -o pipefail
cd "$TARGET_ROOT"
for f in /usr/bin/grub-mkimage $(ldd /usr/bin/grub-mkimage | grep -o '/[^ ]*'); do cp -L --parents "$f" .; done
cp -r --parents /usr/lib/grub/i386-pc .
mkdir -p boot
echo "not a kernel" > boot/vmlinuz-6.1.0-0-amd64
echo "not an initrd" > boot/initrd.img-6.1.0-0-amd64
`;
const FLAVOURS = path.join(HOME, 'flavours');
const FLAVOUR_ARGS = ['busybox', 'owners', 'fakeboot'];

function uidOf(user: string): { uid: number; gid: number } {
  return { uid: Number(sh('id', ['-u', user]).stdout.trim()), gid: Number(sh('id', ['-g', user]).stdout.trim()) };
}

/** Runs a kiln entry point as `user` (runuser: no sudo, no groups but the user's own), with a clean environment. */
function asUser(user: string, bin: string, args: string[], extraEnv: Record<string, string> = {}) {
  const home = `/home/${user}`;
  const env = { PATH, HOME: home, USER: user, LOGNAME: user, TMPDIR: path.join(home, 'tmp'), ELEMENTS_PATH: FLAVOURS, NODE_OPTIONS: '', ...extraEnv };
  const t0 = Date.now();
  const r = spawnSync('runuser', ['-u', user, '--', process.execPath, '--', path.join(REPO, 'bin', bin), ...args], { encoding: 'utf8', env, cwd: home, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

const sha256 = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const OUTPUTS = ['img.qcow2', 'img.tar', 'img.manifest.json', 'img.cdx.json'];
const digests = (dir: string) => Object.fromEntries(OUTPUTS.map((f) => [f, sha256(path.join(dir, f))]));

/** `mode owner/group path` of every tar entry, numeric owners. */
function tarListing(file: string): string[] {
  const r = sh('tar', ['-tvf', file, '--numeric-owner']);
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').map((l) => {
    const f = l.split(/\s+/);
    return `${f[0]} ${f[1]} ${f.slice(5).join(' ')}`;
  });
}

/** Owner and group of a path in the qcow2's root filesystem (converted to raw; read with debugfs, no mount). */
function ext4Owner(qcow2: string, inImage: string, scratch: string): string {
  const raw = path.join(scratch, 'disk.raw');
  if (!fs.existsSync(raw)) expect(sh('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, raw]).status).toBe(0);
  const r = sh('debugfs', ['-R', `stat ${inImage}`, `${raw}?offset=${1024 * 1024}`]);
  const m = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(r.stdout);
  return m ? `${m[1]}:${m[2]}` : `not found: ${r.stderr.trim()}`;
}

const ourMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(HOME) || l.includes(`/home/${NORANGE}`));
const processesOf = (user: string) => sh('ps', ['-u', user, '-o', 'pid=,args=']).stdout.trim();

let work: string;

beforeAll(() => {
  for (const u of [USER, NORANGE]) sh('userdel', ['-r', u]);
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (!fs.existsSync(f)) {
      fs.writeFileSync(f, '', { mode: 0o644 });
      created.push(f);
    }
  }
  for (const u of [USER, NORANGE]) expect(sh('useradd', ['-m', '-s', '/bin/sh', u]).stderr).toBe('');
  // useradd gives a range where login.defs says so (Debian's does); the test makes sure of it either way.
  const subuid = () => fs.readFileSync('/etc/subuid', 'utf8');
  if (!subidRange(subuid(), USER, uidOf(USER).uid)) {
    const start = freeSubidStart(subuid(), fs.readFileSync('/etc/subgid', 'utf8'));
    const ids = `${start}-${start + SUBID_COUNT - 1}`;
    expect(sh('usermod', ['--add-subuids', ids, '--add-subgids', ids, USER]).status).toBe(0);
  }
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const r = subidRange(fs.readFileSync(f, 'utf8'), NORANGE, uidOf(NORANGE).uid);
    if (r) expect(sh('usermod', [f === '/etc/subuid' ? '--del-subuids' : '--del-subgids', `${r.start}-${r.start + r.count - 1}`, NORANGE]).status).toBe(0);
  }
  writeFlavour(path.join(FLAVOURS, 'owners'), { hooks: { 'install.d': { '50-owners': OWNERS } } });
  writeFlavour(path.join(FLAVOURS, 'fakeboot'), { hooks: { 'post-root.d': { '50-fakeboot': FAKEBOOT } } });
  fs.writeFileSync(path.join(FLAVOURS, 'fakeboot', 'disk.yaml'), 'bootloader: grub\n');
  for (const u of [USER, NORANGE]) {
    for (const d of ['out', 'tmp']) fs.mkdirSync(`/home/${u}/${d}`, { recursive: true });
    expect(sh('chown', ['-R', `${u}:`, `/home/${u}`]).status).toBe(0);
  }
  work = tempDir('e2e-rootless');
});

afterAll(() => {
  for (const u of [USER, NORANGE]) sh('userdel', ['-r', u]);
  for (const f of created) fs.rmSync(f, { force: true });
});

test('the user may not use sudo, is in no kiln group, and can read this checkout', () => {
  expect(sh('id', ['-nG', USER]).stdout.trim()).toBe(USER);
  // The user runs kiln from this checkout: a clone under a private directory (/root) cannot be tested so.
  const main = path.join(REPO, 'dist', 'lib', 'cli', 'main.js');
  expect([main, sh('runuser', ['-u', USER, '--', 'test', '-r', main]).status]).toEqual([main, 0]);
  expect(sh('runuser', ['-u', USER, '--', 'sudo', '-n', 'true']).status).not.toBe(0);
});

describe('a rootless build', () => {
  const out = path.join(HOME, 'out');
  const cache = path.join(HOME, 'cache');
  const args = (bin: string) => [...(bin === 'kiln' ? ['build'] : []), '--json', '-t', 'qcow2,tar', '--image-cache', cache, '-o', path.join(out, 'img'), ...FLAVOUR_ARGS];
  let cold: ReturnType<typeof asUser>;
  let before: ReturnType<typeof hostState>;

  beforeAll(() => {
    before = hostState();
    cold = asUser(USER, 'kiln', args('kiln'));
  });

  test('succeeds as the user, with the step cache in their directory', () => {
    expect([cold.code, cold.code === 0 ? '' : cold.stderr.slice(-3000)]).toEqual([0, '']);
    // With --json the log goes to stderr: no warning (a failed unmount at teardown would be one) may be in it.
    expect(cold.stderr).not.toMatch(/warning|error/);
    process.stderr.write(`rootless busybox qcow2+tar build: ${cold.seconds.toFixed(1)} s\n`);
    expect(cacheStates({ ...cold, signal: null })).toEqual(['root:miss', 'install:miss', 'finalise:miss']);
  });

  test('the outputs and the cache belong to the user', () => {
    const { uid, gid } = uidOf(USER);
    for (const f of OUTPUTS) expect([f, fs.statSync(path.join(out, f)).uid, fs.statSync(path.join(out, f)).gid]).toEqual([f, uid, gid]);
    expect(fs.statSync(cache).uid).toBe(uid);
  });

  test('root-owned files are 0:0 and the chowned file 1000:1000, in the tar and in the ext4', () => {
    const tar = tarListing(path.join(out, 'img.tar'));
    expect(tar).toEqual(expect.arrayContaining(['-rw-r--r-- 0/0 ./etc/kiln-root-file', '-rwxr-xr-x 0/0 ./bin/busybox', 'drwxr-xr-x 1000/1000 ./home/user/', '-rw-r--r-- 1000/1000 ./home/user/file']));
    // Nothing of the user's own or of the subordinate range leaks into the image.
    expect(tar.filter((l) => !/ (0\/0|1000\/1000) /.test(l))).toEqual([]);
    const scratch = path.join(work, 'ext4');
    fs.mkdirSync(scratch);
    expect(ext4Owner(path.join(out, 'img.qcow2'), '/etc/kiln-root-file', scratch)).toBe('0:0');
    expect(ext4Owner(path.join(out, 'img.qcow2'), '/bin/busybox', scratch)).toBe('0:0');
    expect(ext4Owner(path.join(out, 'img.qcow2'), '/home/user/file', scratch)).toBe('1000:1000');
  });

  test('nothing left: no mount, no process of the user, nothing in their TMPDIR', () => {
    expect(ourMounts()).toEqual([]);
    expect(processesOf(USER)).toBe('');
    expect(fs.readdirSync(path.join(HOME, 'tmp'))).toEqual([]);
    expect(fs.readdirSync(out).filter((n) => n.includes('kiln-'))).toEqual([]);
    expectNoLeaks(before, work);
  });

  test('a root build of the same flavours gives the same bytes (tar, qcow2, manifest, SBOM)', async () => {
    const r = await kiln(['build', '-t', 'qcow2,tar', '-o', path.join(work, 'img'), ...FLAVOUR_ARGS], { env: { ELEMENTS_PATH: FLAVOURS } });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(tarListing(path.join(work, 'img.tar'))).toEqual(tarListing(path.join(out, 'img.tar')));
    expect(digests(work)).toEqual(digests(out));
  });

  test('a warm rebuild through disk-image-create, to another name: the tree restored from the user\'s cache, the same disk and tar', () => {
    const warm = asUser(USER, 'disk-image-create', args('disk-image-create').map((a) => (a === path.join(out, 'img') ? path.join(out, 'warm') : a)));
    expect([warm.code, warm.code === 0 ? '' : warm.stderr.slice(-3000)]).toEqual([0, '']);
    expect(warm.stderr).not.toMatch(/warning|error/);
    expect(cacheStates({ ...warm, signal: null })).toEqual(['root:hit', 'install:hit', 'finalise:hit']);
    expect(warm.stderr).toMatch(/restore finalise from the step cache/);
    for (const f of ['qcow2', 'tar']) expect(sha256(path.join(out, `warm.${f}`))).toBe(sha256(path.join(out, `img.${f}`)));
    expect(fs.statSync(path.join(out, 'warm.qcow2')).uid).toBe(uidOf(USER).uid);
    expect(processesOf(USER)).toBe('');
    expect(fs.readdirSync(path.join(HOME, 'tmp'))).toEqual([]);
  });
});

/**
 * The Debian vm image, rootless and booted: the user builds the seed's image (disk-image-create with the seed's
 * flavours, formats and name, the same public key for local-config) from a cache seeded with the run's base
 * tree and package archives (no cold mmdebstrap, no downloads; every step of the build itself runs), gets the
 * bytes of the root build the suite shares (SEED), and `kiln boot`s the qcow2 to a login prompt as themselves.
 */
describe('a rootless Debian vm image', () => {
  const out = path.join(HOME, 'vm');
  const prefix = path.join(out, SEED.name);
  let rootPrefix: string;
  let built: ReturnType<typeof asUser>;
  let before: ReturnType<typeof hostState>;
  const outputs = ['qcow2', 'raw', 'tar', 'manifest.json', 'cdx.json', 'qcow2.sha256', 'raw.sha256', 'tar.sha256', 'qcow2.md5', 'raw.md5', 'tar.md5'];

  /**
   * Files of /tmp, /var/tmp and /dev/shm that belong to the user (none of the build's should: their TMPDIR is in
   * their home), less those there before the build: an earlier user with the same uid (the other lane's test
   * users are made and removed while this file runs) may have left some.
   */
  const sharedTmp = (user: string) => sh('find', ['/tmp', '/var/tmp', '/dev/shm', '-xdev', '-mindepth', '1', '-maxdepth', '1', '-user', user]).stdout.trim().split('\n').filter((l) => l !== '');
  let sharedBefore: string[] = [];
  const sharedTmpOf = (user: string) => sharedTmp(user).filter((f) => !sharedBefore.includes(f)).join('\n');

  beforeAll(async () => {
    sharedBefore = sharedTmp(USER);
    rootPrefix = await sharedImage(SEED);
    const t0 = Date.now();
    const rootCache = path.join(process.env.DIB_IMAGE_CACHE as string, 'kiln');
    const cache = path.join(HOME, '.cache', 'image-create', 'kiln');
    fs.mkdirSync(cache, { recursive: true });
    // The other lane's builds write to the same cache meanwhile: a file that goes between listing and copying
    // (a temporary entry renamed or swept) is no error (rsync's 24).
    for (const d of ['base', 'apt-archives']) expect([0, 24]).toContain(sh('rsync', ['-a', path.join(rootCache, d), cache]).status);
    // local-config puts the building user's public keys in the image: the same one as the root build's.
    fs.mkdirSync(path.join(HOME, '.ssh'), { recursive: true, mode: 0o700 });
    fs.copyFileSync(`${testHome().key}.pub`, path.join(HOME, '.ssh', 'id_ed25519.pub'));
    fs.mkdirSync(out);
    for (const d of ['.cache', '.ssh', 'vm']) expect(sh('chown', ['-R', `${USER}:`, path.join(HOME, d)]).status).toBe(0);
    process.stderr.write(`the user's cache seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    before = hostState();
    // The root build's proxy settings (local-config writes them into the image), as the suite's were.
    const proxies = Object.fromEntries(['http_proxy', 'https_proxy', 'no_proxy'].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));
    built = asUser(USER, SEED.bin, ['-o', prefix, ...SEED.args], { ELEMENTS_PATH: testFlavours(), ...proxies });
    process.stderr.write(`rootless Debian vm (${SEED.args.join(' ')}) build: ${built.seconds.toFixed(1)} s\n`);
  });

  test('the user builds it, from the seeded base tree', () => {
    expect([built.code, built.code === 0 ? '' : built.stderr.slice(-3000)]).toEqual([0, '']);
    expect(`${built.stdout}${built.stderr}`).toMatch(/base tree cache hit/);
    expect(fs.statSync(`${prefix}.qcow2`).uid).toBe(uidOf(USER).uid);
  });

  test('the same bytes as the root build of the same flavours and options (every output)', () => {
    // cmp, not a digest of each side: 2.8 GB compared costs a fraction of hashing it on a busy machine.
    const differ = outputs.filter((o) => sh('cmp', ['-s', `${prefix}.${o}`, `${rootPrefix}.${o}`]).status !== 0);
    expect(differ).toEqual([]);
  });

  test('kiln boot, as the user, reaches a login prompt', () => {
    const log = path.join(out, 'console.log');
    const boot = asUser(USER, 'kiln', ['boot', `${prefix}.qcow2`, '--timeout', '300', '--json', '--console-log', log]);
    const tail = () => `${boot.stderr.slice(-2000)}\n${fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : ''}`;
    expect([boot.code, boot.code === 0 ? '' : tail()]).toEqual([0, '']);
    const report = JSON.parse(boot.stdout) as { accel?: string; milestones?: Record<string, number> };
    process.stderr.write(`rootless kiln boot: ${boot.seconds.toFixed(1)} s, accel ${report.accel}, milestones ${JSON.stringify(report.milestones)}\n`);
    expect(report.milestones?.login).toEqual(expect.any(Number));
    expect(fs.readFileSync(log, 'utf8')).toMatch(/login:/);
  });

  test('nothing left: no mount, loop device, process, or temporary file of the user', () => {
    expect(ourMounts()).toEqual([]);
    expect(sh('losetup', ['-n', '-l', '-O', 'BACK-FILE']).stdout.split('\n').filter((l) => l.includes(HOME))).toEqual([]);
    expect(processesOf(USER)).toBe('');
    expect(fs.readdirSync(path.join(HOME, 'tmp'))).toEqual([]);
    expect(sharedTmpOf(USER)).toBe('');
    expect(fs.readdirSync(out).filter((n) => n.includes('kiln-'))).toEqual([]);
    expectNoLeaks(before, out);
  });
});

test('a user without a subordinate range: one line naming the command that gives one, exit 2, nothing written', () => {
  const home = `/home/${NORANGE}`;
  const r = asUser(NORANGE, 'disk-image-create', ['-t', 'tar', '-o', path.join(home, 'out', 'img'), 'busybox']);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^kiln: error: ${NORANGE} is not root, may not run kiln through sudo \\(not in the kiln group\\), and cannot build rootless: ${NORANGE} has no subordinate uid range in /etc/subuid`));
  expect(lines[0]).toMatch(new RegExp(`hint: as root: usermod --add-subuids \\d+-\\d+ --add-subgids \\d+-\\d+ ${NORANGE}`));
  expect(fs.readdirSync(path.join(home, 'out'))).toEqual([]);
  expect(fs.readdirSync(path.join(home, 'tmp'))).toEqual([]);
});
