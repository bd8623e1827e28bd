/**
 * The seed's image: `disk-image-create -o img vm local-config` (default operating system debian) in every
 * format from one build, each checked with its own tool; booted twice (first-boot.d runs exactly once,
 * SSH with the key local-config copied, fstab and root filesystem agree); and the EFI variant under OVMF.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withBootedImage } from '../../../lib/boot/index.js';
import { sharedImage, testHome } from '../helpers/images.js';
import { tempDir } from '../../helpers/tmp.js';

const sh = (cmd: string, args: string[], cwd?: string) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 28, cwd });
let img: string;

beforeAll(async () => {
  img = await sharedImage('seed', ['-t', 'qcow2,raw,vhd,vmdk,tar,tgz,squashfs', '--checksum', 'vm', 'local-config', 'fbtest'], 'disk-image-create');
});

test('the build added the default operating system and wrote a manifest and SBOM', () => {
  const log = fs.readFileSync(`${img}.build.log`, 'utf8');
  expect(log).toMatch(/building .* from vm local-config fbtest debian /);
  const manifest = JSON.parse(fs.readFileSync(`${img}.manifest.json`, 'utf8'));
  expect(JSON.stringify(manifest)).toContain('openssh-server');
  expect(JSON.parse(fs.readFileSync(`${img}.cdx.json`, 'utf8')).bomFormat).toBe('CycloneDX');
});

test.each([
  ['qcow2', 'qcow2'],
  ['raw', 'raw'],
  ['vhd', 'vpc'],
  ['vmdk', 'vmdk'],
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

test('tar, tgz and squashfs list the tree', () => {
  expect(sh('tar', ['-tf', `${img}.tar`]).stdout).toContain('./etc/os-release');
  expect(sh('tar', ['-tzf', `${img}.tgz`]).stdout).toContain('./etc/os-release');
  expect(sh('unsquashfs', ['-l', `${img}.squash`]).stdout).toContain('squashfs-root/etc/os-release');
});

test('--checksum wrote .md5 and .sha256 that verify', () => {
  for (const ext of ['qcow2', 'tar']) {
    // The files name the image by its basename, so they verify from the image's directory.
    expect(sh('md5sum', ['-c', `${img}.${ext}.md5`], path.dirname(img)).status).toBe(0);
    expect(sh('sha256sum', ['-c', `${img}.${ext}.sha256`], path.dirname(img)).status).toBe(0);
  }
});

describe('booted (BIOS), twice', () => {
  const copy = path.join(tempDir('e2e-boot'), 'img.qcow2');
  beforeAll(() => fs.copyFileSync(`${img}.qcow2`, copy));
  afterAll(() => fs.rmSync(path.dirname(copy), { recursive: true, force: true }));

  test('first boot: login prompt, SSH with the local-config key, first-boot.d ran, fstab matches the root fs', async () => {
    const { key } = testHome();
    await withBootedImage({ image: copy, persist: true, sshKey: key, timeoutS: 600, consoleLog: `${img}.boot1.log` }, async (vm) => {
      expect(vm.report.ok).toBe(true);
      expect((await vm.ssh('cat /var/lib/kiln-test/first-boot-count')).stdout.trim()).toBe('first boot hook ran');
      const root = (await vm.ssh('findmnt -no UUID,FSTYPE,SOURCE /')).stdout.trim().split(/\s+/);
      const fstab = (await vm.ssh("awk '$2 == \"/\" {print $1, $3}' /etc/fstab")).stdout.trim();
      expect(fstab).toBe(`UUID=${root[0]} ${root[1]}`);
      expect(root[1]).toBe('ext4');
      expect((await vm.ssh('ls /etc/ssh/ssh_host_ed25519_key.pub')).exitCode).toBe(0);
      expect(vm.consoleLines().some((l) => l.includes('KILN-FIRST-BOOT-HOOK'))).toBe(true);
      await vm.ssh('systemctl poweroff');
      expect(await vm.waitForExit(120)).toBe(true);
    });
  });

  test('second boot: first-boot.d did not run again', async () => {
    const { key } = testHome();
    await withBootedImage({ image: copy, persist: true, sshKey: key, timeoutS: 600, consoleLog: `${img}.boot2.log` }, async (vm) => {
      expect((await vm.ssh('cat /var/lib/kiln-test/first-boot-count')).stdout.trim().split('\n')).toHaveLength(1);
    });
  });
});

test('the SSH host keys were made on the machine, not baked into the image', () => {
  expect(sh('tar', ['-tf', `${img}.tar`]).stdout).not.toMatch(/etc\/ssh\/ssh_host_.*_key/);
});

test('the EFI variant boots under OVMF', async () => {
  const efi = await sharedImage('efi', ['-t', 'qcow2', 'vm', 'efi', 'local-config']);
  const { bootImage } = await import('../../../lib/boot/index.js');
  const report = await bootImage({ image: `${efi}.qcow2`, efi: true, timeoutS: 600, consoleLog: `${efi}.boot.log` });
  expect(report.message).toMatch(/login prompt/);
  expect(report.ok).toBe(true);
});
