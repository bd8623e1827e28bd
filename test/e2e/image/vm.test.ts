/**
 * The seed's image: `disk-image-create -o img vm local-config` (default operating system debian) as qcow2, raw
 * and tar from one build, each checked with its own tool; booted under plain QEMU as a cloud would boot it (a
 * 4 GiB overlay, an OpenStack config drive: the default user with the instance's key, its hostname, the root
 * grown; root with the key local-config copied, first-boot.d ran and will not run again, fstab and root
 * filesystem agree); a second instance from a NoCloud seed made by `kiln boot` (its own machine-id and host
 * keys). (The EFI variant boots in publish/registry.test.ts, as the containerDisk pulled back from a registry.)
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { SEED, sharedImage, testHome } from '../helpers/images.js';
import { kiln } from '../helpers/kiln.js';
import { bootPlain, metadataIso, overlay } from '../helpers/qemu.js';

const sh = (cmd: string, args: string[], cwd?: string) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 28, cwd });
let img: string;

beforeAll(async () => {
  img = await sharedImage(SEED);
});

test('the build added the default operating system and wrote a manifest and SBOM', () => {
  const log = fs.readFileSync(`${img}.build.log`, 'utf8');
  expect(log).toMatch(/building .* from vm local-config fbtest debian /);
  const manifest = JSON.parse(fs.readFileSync(`${img}.manifest.json`, 'utf8'));
  for (const p of ['openssh-server', 'cloud-init', 'cloud-guest-utils']) expect(JSON.stringify(manifest)).toContain(`"name":"${p}"`);
  expect(JSON.parse(fs.readFileSync(`${img}.cdx.json`, 'utf8')).bomFormat).toBe('CycloneDX');
});

// vhd, vmdk, tgz and squashfs come from the same output code, checked by disk/disk.test.ts.
test.each([
  ['qcow2', 'qcow2'],
  ['raw', 'raw'],
])('%s: qemu-img sees a %s image', (ext, format) => {
  const r = sh('qemu-img', ['info', '--output=json', `${img}.${ext}`]);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).format).toBe(format);
});

test('raw: an MBR table with one bootable Linux partition', () => {
  const r = sh('sfdisk', ['-d', `${img}.raw`]);
  expect(r.stdout).toMatch(/label: dos/);
  expect(r.stdout).toMatch(/start=\s*2048, .*type=83, bootable/);
});

test('the tar lists the tree', () => {
  expect(sh('tar', ['-tf', `${img}.tar`]).stdout).toContain('./etc/os-release');
});

test('no release named: Debian 13 (trixie), its apt sources in deb822 with the updates and security suites, nothing of the build in apt', () => {
  const inTar = (f: string) => sh('tar', ['-xOf', `${img}.tar`, f]).stdout;
  // /etc/os-release is a link to /usr/lib/os-release; the manifest reads it as the image does.
  expect(inTar('./usr/lib/os-release')).toMatch(/^VERSION_ID="13"$/m);
  expect(inTar('./usr/lib/os-release')).toMatch(/^VERSION_CODENAME=trixie$/m);
  expect(JSON.parse(fs.readFileSync(`${img}.manifest.json`, 'utf8')).os.versionId).toBe('13');
  const sources = inTar('./etc/apt/sources.list.d/debian.sources');
  expect(sources).toMatch(/^Suites: trixie trixie-updates$/m);
  expect(sources).toMatch(/^Suites: trixie-security$/m);
  expect(sources).toMatch(/^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.(pgp|gpg)$/m);
  const files = sh('tar', ['-tf', `${img}.tar`]).stdout;
  expect(files).not.toMatch(/^\.\/etc\/apt\/sources\.list$/m);
  expect(files).not.toMatch(/00kiln-check-valid-until|99mmdebstrap/);
});

test('--checksum wrote .md5 and .sha256 that verify', () => {
  for (const ext of ['qcow2', 'tar']) {
    // The files name the image by its basename, so they verify from the image's directory.
    expect(sh('md5sum', ['-c', `${img}.${ext}.md5`], path.dirname(img)).status).toBe(0);
    expect(sh('sha256sum', ['-c', `${img}.${ext}.sha256`], path.dirname(img)).status).toBe(0);
  }
});

/** What says which machine this is: the machine-id and the SSH host keys' fingerprints (without their comments, which name the host). */
const IDENTITY = 'cat /etc/machine-id; for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$k" | cut -d" " -f2; done';

function cloudKey(dir: string): { key: string; pub: string } {
  const key = path.join(dir, 'cloud_ed25519');
  expect(sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kiln-e2e-cloud', '-f', key]).status).toBe(0);
  return { key, pub: fs.readFileSync(`${key}.pub`, 'utf8').trim() };
}

let first: { identity: string; cloud: { key: string; pub: string }; dir: string } | undefined;

test('plain QEMU, 4 GiB overlay, OpenStack config drive: SSH as debian with its key, hostname from the metadata, sudo -n, / grown; root with the local-config key, first-boot.d ran once, fstab matches', async () => {
  const dir = tempDir('vm-cloud');
  const cloud = cloudKey(dir);
  const { key: rootKey } = testHome();
  const originalBytes = JSON.parse(sh('qemu-img', ['info', '--output=json', `${img}.qcow2`]).stdout)['virtual-size'] as number;
  expect(originalBytes).toBeLessThan(3 * 2 ** 30);
  const disk = overlay(`${img}.qcow2`, path.join(dir, 'instance-1.qcow2'), '4G');
  const meta = { uuid: randomUUID(), hostname: 'kiln-cd-one', name: 'kiln-cd-one', public_keys: { e2e: cloud.pub }, launch_index: 0 };
  const iso = metadataIso(dir, 'config-2', { 'openstack/latest/meta_data.json': JSON.stringify(meta) });
  const vm = await bootPlain({ disk, cdrom: iso, consoleLog: `${img}.boot.log`, user: 'debian', key: cloud.key, timeoutS: 420 });
  try {
    process.stdout.write(`config drive instance: SSH as debian after ${vm.sshSeconds.toFixed(1)} s\n`);
    const debian = (cmd: string) => vm.ssh('debian', cloud.key, cmd);
    const root = (cmd: string) => vm.ssh('root', rootKey, cmd);
    expect(debian('hostname').stdout.trim()).toBe('kiln-cd-one');
    expect(debian('sudo -n true')).toMatchObject({ code: 0, stderr: '' });
    // The default user's password is locked; only the instance's key lets it in.
    expect(root('passwd -S debian').stdout).toMatch(/^debian L /);
    expect(debian('cat ~/.ssh/authorized_keys').stdout).toContain(cloud.pub);
    // growpart and resizefs: partition and ext4 root fill the 4 GiB disk. They run in cloud-init's config stage,
    // which starts beside sshd (not before it): wait for that stage (a oneshot unit, active once it has run), up
    // to 5 minutes in calls shorter than the helper's 120 s limit.
    let configDone = false;
    for (let i = 0; i < 3 && !configDone; i++) configDone = root("timeout 100 sh -c 'until systemctl is-active -q cloud-config.service; do sleep 2; done'").code === 0;
    expect(configDone).toBe(true);
    const rootBytes = Number(debian('df -B1 --output=size / | tail -1').stdout.trim());
    expect(rootBytes).toBeGreaterThan(3 * 2 ** 30);
    expect(rootBytes).toBeGreaterThan(originalBytes);
    // local-config's key still logs root in (the metadata's key is another one).
    const count = () => root('cat /var/lib/kiln-test/first-boot-count').stdout.trim().split('\n');
    expect(count()).toEqual(['first boot hook ran']);
    expect(fs.readFileSync(`${img}.boot.log`, 'utf8')).toContain('KILN-FIRST-BOOT-HOOK');
    // What the next boot does, without booting again: systemd starts the unit anew (its condition now
    // fails), and the runner itself, started by hand, finds its stamp. Neither runs the hooks again.
    expect(root('systemctl restart kiln-first-boot.service && systemctl show -p ConditionResult --value kiln-first-boot.service').stdout.trim()).toBe('no');
    expect(root('/usr/lib/kiln/first-boot').code).toBe(0);
    expect(count()).toEqual(['first boot hook ran']);
    const rootFs = root('findmnt -no UUID,FSTYPE,SOURCE /').stdout.trim().split(/\s+/);
    const fstab = root("awk '$2 == \"/\" {print $1, $3}' /etc/fstab").stdout.trim();
    expect(fstab).toBe(`UUID=${rootFs[0]} ${rootFs[1]}`);
    expect(rootFs[1]).toBe('ext4');
    // cloud-init took the config drive (its final stage may still be running: not waited for).
    const status = root('cloud-init status --long').stdout;
    expect(status).toMatch(/detail:\s*DataSourceConfigDrive/);
    expect(status).not.toMatch(/status: error/);
    const identity = root(IDENTITY).stdout.trim();
    expect(identity.split('\n')[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(identity.split('\n')).toHaveLength(3); // machine-id, ECDSA, Ed25519 (no RSA, no DSA)
    expect(identity.split('\n').slice(1).every((l) => /^SHA256:\S+$/.test(l))).toBe(true);
    expect(root('ls /etc/ssh').stdout.match(/^ssh_host_\w+_key$/gm)).toEqual(['ssh_host_ecdsa_key', 'ssh_host_ed25519_key']);
    first = { identity, cloud, dir };
  } finally {
    await vm.stop();
  }
});

test('a second instance of the image, from a NoCloud seed made by kiln boot: debian logs in, its hostname, another machine-id and other host keys', async () => {
  expect(first).toBeDefined();
  const { cloud, dir } = first!;
  const md = path.join(dir, 'nocloud.json');
  fs.writeFileSync(md, JSON.stringify({ hostname: 'kiln-nocloud-two' }));
  const r = await kiln(['boot', `${img}.qcow2`, '--seed', 'nocloud', '--metadata', md, '--ssh', '--ssh-user', 'debian', '--ssh-key', cloud.key, '--timeout', '420', '--json',
    '--ssh-command', `hostname; sudo -n sh -c '${IDENTITY}'`, '--console-log', `${img}.boot2.log`]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  const out = (report.ssh.stdout as string).trim().split('\n');
  process.stdout.write(`NoCloud instance (kiln boot): SSH as debian after ${report.milestones.ssh} s\n`);
  expect(out[0]).toBe('kiln-nocloud-two');
  const identity = out.slice(1);
  const before = first!.identity.split('\n');
  expect(identity[0]).toMatch(/^[0-9a-f]{32}$/);
  expect(identity[0]).not.toBe(before[0]);
  expect(identity.length).toBe(before.length);
  for (const line of identity.slice(1)) expect(before).not.toContain(line);
});

test('nothing of a machine is baked into the image: no SSH host keys, an empty machine-id, no random seed, no cloud-init state', () => {
  const files = sh('tar', ['-tf', `${img}.tar`]).stdout;
  expect(files).not.toMatch(/etc\/ssh\/ssh_host_.*_key/);
  expect(files).not.toMatch(/var\/lib\/systemd\/random-seed/);
  expect(files).not.toMatch(/var\/lib\/cloud\/./);
  expect(sh('tar', ['-xOf', `${img}.tar`, './etc/machine-id']).stdout).toBe('');
});
