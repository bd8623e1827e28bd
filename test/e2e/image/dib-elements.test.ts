/**
 * diskimage-builder's own elements, unchanged: ten are copied from the installed python3-diskimage-builder
 * into a directory on ELEMENTS_PATH, ahead of diskimage-builder's own elements directory (so its shell
 * library is staged as $_LIB), and built with `vm debian`; their element-deps (package-installs,
 * dib-init-system, install-static, pkg-map, manifests) resolve to kiln's flavours. baremetal's cleanup.d
 * extracts the kernel and initrd with upstream's select_boot_kernel_initrd; the manifests are copied out to
 * IMAGE_NAME.d/; the pkg-maps are in the image. The image boots on a disk larger than itself, and over SSH as
 * the devuser user: the key and sudo work, host keys were made on first boot, the root filesystem grew to the
 * disk, and the element manifest is there. Built as Debian 12 (DIB_RELEASE=bookworm; see below), which the image's
 * os-release says.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withBootedImage } from '../../../lib/boot/index.js';
import { IMAGES, testHome } from '../helpers/images.js';
import { kiln, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const ELEMENTS = ['devuser', 'openssh-server', 'runtime-ssh-host-keys', 'growroot', 'dhcp-all-interfaces', 'cloud-init-datasources', 'journal-to-console', 'enable-serial-console', 'element-manifest', 'baremetal'];
const USER = 'kilndev';
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 28 });

/** The elements directory of Debian's python3-diskimage-builder package. */
function dibElements(): string {
  const r = sh('dpkg', ['-L', 'python3-diskimage-builder']);
  const dir = r.stdout.split('\n').find((l) => l.endsWith('/diskimage_builder/elements'));
  if (r.status !== 0 || !dir) throw new Error(`python3-diskimage-builder is not installed (scripts/setup --with-tests installs it): ${r.stderr}`);
  return dir;
}

/** sha256 of every file below dir, by relative path. */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, rel);
    if (fs.lstatSync(p).isFile()) out[rel] = `${(fs.statSync(p).mode & 0o777).toString(8)} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
  }
  return out;
}

const work = tempDir('e2e-dib');
const elementsDir = path.join(work, 'elements');
const prefix = path.join(IMAGES, 'dib-elements');
let build: Run;
let upstream: string;

beforeAll(async () => {
  upstream = dibElements();
  fs.mkdirSync(elementsDir);
  for (const e of ELEMENTS) expect(sh('cp', ['-a', path.join(upstream, e), elementsDir]).status).toBe(0);
  const { home, key } = testHome();
  fs.mkdirSync(IMAGES, { recursive: true });
  build = await kiln(['-t', 'qcow2,tar', '-o', prefix, 'vm', 'debian', ...ELEMENTS], {
    bin: 'disk-image-create',
    env: {
      HOME: home,
      ELEMENTS_PATH: `${elementsDir}:${upstream}`,
      DIB_DEV_USER_USERNAME: USER,
      DIB_DEV_USER_AUTHORIZED_KEYS: `${key}.pub`,
      DIB_DEV_USER_PWDLESS_SUDO: 'yes',
      DIB_CLOUD_INIT_DATASOURCES: 'NoCloud, ConfigDrive',
      // bookworm, as diskimage-builder's users spell it: 3.13's runtime-ssh-host-keys makes a DSA key first, under
      // set -e, and trixie's OpenSSH 10 has no DSA (ssh-keygen: unknown key type dsa), so on trixie its unit fails.
      DIB_RELEASE: 'bookworm',
    },
  });
  fs.writeFileSync(`${prefix}.build.log`, `${build.stdout}\n${build.stderr}`);
  process.stdout.write(`built dib-elements in ${build.seconds.toFixed(1)} s\n`);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the build succeeds, runs the elements\' own hooks, and leaves the copied elements as they were', () => {
  expect(build.stderr).toBe('');
  expect(build.code).toBe(0);
  expect(sh('tar', ['-xOf', `${prefix}.tar`, './usr/lib/os-release']).stdout).toMatch(/^VERSION_ID="12"$/m);
  for (const hook of ['[devuser] extra-data.d/50-devuser', '[devuser] install.d/50-devuser', '[growroot] post-install.d/80-growroot', '[runtime-ssh-host-keys] cleanup.d/90-remove-ssh-host-keys', '[openssh-server] post-install.d/99-harden-sshd-config', '[dhcp-all-interfaces] install.d/50-dhcp-all-interfaces', '[cloud-init-datasources] install.d/05-set-cloud-init-sources', '[journal-to-console] post-install.d/30-journal-to-console', '[enable-serial-console] install.d/20-stty', '[element-manifest] extra-data.d/75-inject-element-manifest', '[install-static] install.d/10-install-static-files', '[dib-init-system] install.d/20-install-init-scripts']) {
    expect(build.stdout).toContain(`✓ ${hook}`);
  }
  for (const e of ELEMENTS) expect(digests(path.join(elementsDir, e))).toEqual(digests(path.join(upstream, e)));
});

test('diskimage-builder\'s $_LIB: baremetal extracted the image\'s kernel and initrd beside it with upstream\'s select_boot_kernel_initrd', () => {
  const list = sh('tar', ['-tf', `${prefix}.tar`]).stdout.split('\n');
  const kernel = list.filter((f) => /^\.\/boot\/vmlinuz-/.test(f)).sort().pop() as string;
  const initrd = list.filter((f) => /^\.\/boot\/initrd\.img-/.test(f)).sort().pop() as string;
  const sha = (buf: Buffer) => crypto.createHash('sha256').update(buf).digest('hex');
  const fromTar = (f: string) => sha(spawnSync('tar', ['-xOf', `${prefix}.tar`, f], { maxBuffer: 2 ** 28 }).stdout);
  expect(sha(fs.readFileSync(`${prefix}.vmlinuz`))).toBe(fromTar(kernel));
  expect(sha(fs.readFileSync(`${prefix}.initrd`))).toBe(fromTar(initrd));
});

test('manifests: the image\'s manifest directory copied out to IMAGE_NAME.d/dib-manifests, with the build\'s environment and arguments', () => {
  const saved = `${prefix}.d/dib-manifests`;
  expect(fs.readdirSync(saved).sort()).toEqual(['dib-element-manifest', 'dib_arguments', 'dib_environment']);
  expect(fs.readFileSync(path.join(saved, 'dib-element-manifest'), 'utf8').split('\n')).toEqual(expect.arrayContaining([...ELEMENTS, 'vm', 'debian', 'manifests']));
  expect(fs.readFileSync(path.join(saved, 'dib_environment'), 'utf8')).toContain(`declare -x DIB_DEV_USER_USERNAME="${USER}"`);
  expect(fs.readFileSync(path.join(saved, 'dib_arguments'), 'utf8')).toBe(`-t qcow2,tar -o ${prefix} vm debian ${ELEMENTS.join(' ')}\n`);
  expect(fs.readdirSync(path.dirname(prefix)).filter((n) => n.includes('kiln-part'))).toEqual([]);
});

test('package-installs names went through each element\'s pkg-map (growpart → cloud-utils, dhcp-client → isc-dhcp-client)', () => {
  const names = new Set((JSON.parse(fs.readFileSync(`${prefix}.manifest.json`, 'utf8')).packages as { name: string }[]).map((p) => p.name));
  for (const p of ['cloud-utils', 'isc-dhcp-client', 'ifupdown', 'ndisc6', 'openssh-server', 'sudo']) expect(names).toContain(p);
});

test('the image holds the elements\' files and no SSH host keys', () => {
  const list = sh('tar', ['-tf', `${prefix}.tar`]).stdout;
  for (const f of ['./usr/local/sbin/growroot', './usr/local/sbin/runtime-ssh-host-keys.sh', './usr/lib/systemd/system/growroot.service', './usr/lib/systemd/system/ssh-keygen.service', `./etc/sudoers.d/${USER}`, './etc/systemd/journald.conf.d/log-to-console.conf', './etc/udev/rules.d/99-serial-console.rules', './etc/udev/rules.d/99-dhcp-all-interfaces.rules', './etc/dib-manifests/dib-element-manifest', './etc/dib-manifests/dib_environment', './usr/local/bin/dib-init-system', './usr/share/pkg-map/dhcp-all-interfaces']) {
    expect(list.split('\n')).toContain(f);
  }
  expect(list).not.toMatch(/etc\/ssh\/ssh_host_/);
});

test('booted on a larger disk: devuser logs in with its key and sudo, host keys made at boot, root grew, manifest present', async () => {
  const disk = path.join(work, 'boot.qcow2');
  // An overlay with a 6 GiB virtual size over the ~1 GiB image: the disk is larger than the image.
  expect(sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', `${prefix}.qcow2`, '-F', 'qcow2', disk, '6G']).status).toBe(0);
  const { key } = testHome();
  await withBootedImage({ image: disk, allowBackingFile: true, persist: true, sshKey: key, sshUser: USER, timeoutS: 300, consoleLog: `${prefix}.boot.log` }, async (vm) => {
    const run = async (cmd: string) => {
      const r = await vm.ssh(cmd);
      expect({ cmd, exitCode: r.exitCode, stderr: r.exitCode === 0 ? '' : r.stderr }).toEqual({ cmd, exitCode: 0, stderr: '' });
      return r.stdout.trim();
    };
    expect(await run('id -un')).toBe(USER);
    expect(await run('cat ~/.ssh/authorized_keys')).toBe(fs.readFileSync(`${key}.pub`, 'utf8').trim());
    expect(await run('sudo -n id -u')).toBe('0');
    // Host keys: made by the element's ssh-keygen.service at boot (DSA only it makes), after the image was built.
    expect(await run('systemctl is-active ssh-keygen.service growroot.service')).toBe('active\nactive');
    const keys = (await run('ls /etc/ssh')).split('\n');
    expect(keys).toEqual(expect.arrayContaining(['ssh_host_dsa_key', 'ssh_host_ed25519_key', 'ssh_host_rsa_key', 'ssh_host_ecdsa_key']));
    const bootedAt = Number(await run('date -d "$(uptime -s)" +%s'));
    expect(Number(await run('stat -c %Y /etc/ssh/ssh_host_ed25519_key'))).toBeGreaterThanOrEqual(bootedAt - 5);
    // growroot: the partition and the ext4 filesystem fill the 6 GiB disk.
    expect(Number(await run('lsblk -bndo SIZE /dev/vda'))).toBe(6 * 2 ** 30);
    expect(Number(await run('df -B1 --output=size / | tail -1'))).toBeGreaterThan(5.5 * 2 ** 30);
    const manifest = (await run('sudo -n cat /etc/dib-manifests/dib-element-manifest')).split('\n');
    expect(manifest).toEqual(expect.arrayContaining([...ELEMENTS, 'vm', 'debian', 'manifests']));
    expect(await run('sudo -n stat -c "%U %a" /etc/dib-manifests/dib-element-manifest')).toBe('root 600');
  });
});
