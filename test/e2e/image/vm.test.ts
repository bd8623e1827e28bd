/**
 * The seed's image: `disk-image-create -o img vm local-config` (default operating system debian) as qcow2, raw
 * and tar from one build, each checked with its own tool; booted once (first-boot.d ran and will not run again,
 * SSH with the key local-config copied, fstab and root filesystem agree); and the EFI variant under OVMF.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withBootedImage } from '../../../lib/boot/index.js';
import { EFI, SEED, sharedImage, testHome } from '../helpers/images.js';

const sh = (cmd: string, args: string[], cwd?: string) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 28, cwd });
let img: string;

beforeAll(async () => {
  img = await sharedImage(SEED);
});

test('the build added the default operating system and wrote a manifest and SBOM', () => {
  const log = fs.readFileSync(`${img}.build.log`, 'utf8');
  expect(log).toMatch(/building .* from vm local-config fbtest debian /);
  const manifest = JSON.parse(fs.readFileSync(`${img}.manifest.json`, 'utf8'));
  expect(JSON.stringify(manifest)).toContain('openssh-server');
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

test('--checksum wrote .md5 and .sha256 that verify', () => {
  for (const ext of ['qcow2', 'tar']) {
    // The files name the image by its basename, so they verify from the image's directory.
    expect(sh('md5sum', ['-c', `${img}.${ext}.md5`], path.dirname(img)).status).toBe(0);
    expect(sh('sha256sum', ['-c', `${img}.${ext}.sha256`], path.dirname(img)).status).toBe(0);
  }
});

test('booted (BIOS): SSH login with the local-config key, first-boot.d ran once and will not again, fstab matches the root fs', async () => {
  const { key } = testHome();
  await withBootedImage({ image: `${img}.qcow2`, sshKey: key, timeoutS: 300, consoleLog: `${img}.boot.log` }, async (vm) => {
    expect(vm.report.ok).toBe(true);
    const count = async () => (await vm.ssh('cat /var/lib/kiln-test/first-boot-count')).stdout.trim().split('\n');
    expect(await count()).toEqual(['first boot hook ran']);
    expect(vm.consoleLines().some((l) => l.includes('KILN-FIRST-BOOT-HOOK'))).toBe(true);
    // What the next boot does, without booting again: systemd starts the unit anew (its condition now
    // fails), and the runner itself, started by hand, finds its stamp. Neither runs the hooks again.
    expect((await vm.ssh('systemctl restart kiln-first-boot.service && systemctl show -p ConditionResult --value kiln-first-boot.service')).stdout.trim()).toBe('no');
    expect((await vm.ssh('/usr/lib/kiln/first-boot')).exitCode).toBe(0);
    expect(await count()).toEqual(['first boot hook ran']);
    const root = (await vm.ssh('findmnt -no UUID,FSTYPE,SOURCE /')).stdout.trim().split(/\s+/);
    const fstab = (await vm.ssh("awk '$2 == \"/\" {print $1, $3}' /etc/fstab")).stdout.trim();
    expect(fstab).toBe(`UUID=${root[0]} ${root[1]}`);
    expect(root[1]).toBe('ext4');
    expect((await vm.ssh('ls /etc/ssh/ssh_host_ed25519_key.pub')).exitCode).toBe(0);
  });
});

test('the SSH host keys were made on the machine, not baked into the image', () => {
  expect(sh('tar', ['-tf', `${img}.tar`]).stdout).not.toMatch(/etc\/ssh\/ssh_host_.*_key/);
});

test('the EFI variant boots under OVMF', async () => {
  const efi = await sharedImage(EFI);
  const { bootImage } = await import('../../../lib/boot/index.js');
  const report = await bootImage({ image: `${efi}.qcow2`, efi: true, timeoutS: 300, consoleLog: `${efi}.boot.log` });
  expect(report.message).toMatch(/login prompt/);
  expect(report.ok).toBe(true);
});
