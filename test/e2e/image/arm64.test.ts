/**
 * arm64 from this amd64 host (issue 23): `kiln build -a arm64 -t qcow2,raw debian-minimal vm`: the foreign
 * tree through qemu-user (binfmt), a GPT disk with only an EFI system partition and the root (no BIOS pieces),
 * GRUB for arm64-efi at the removable path EFI/BOOT/BOOTAA64.EFI, the arm64 kernel; booted to a login prompt on
 * the serial console (ttyAMA0) by plain qemu-system-aarch64 -M virt under TCG with AAVMF, as an operator would;
 * then kiln boot, which chooses that machine from the manifest beside the image, as far as GRUB loading Linux.
 * The image is the smallest that boots (debian-minimal vm): the tree's programs run under emulation.
 *
 * The suite's costliest file (the base tree, the packages and the initramfs run under qemu-user, and the boot
 * under TCG): KILN_E2E_ARM64=0 skips it (its tests are then reported skipped).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { kiln } from '../helpers/kiln.js';
import { bootPlainToLogin } from '../helpers/qemu.js';

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 26 });
const dir = tempDir('arm64');
const img = path.join(dir, 'arm');
const arm64 = process.env.KILN_E2E_ARM64 === '0' ? describe.skip : describe;
let built: { code: number | null; stderr: string; seconds: number };

arm64('arm64 image (KILN_E2E_ARM64=0 skips it)', () => {
  beforeAll(async () => {
    // The step cache on: a run whose image cache already holds these steps (a developer's, or a CI that keeps it)
    // pays only for the disk; CI's empty cache pays for the base tree, the packages and the initramfs under qemu-user.
    built = await kiln(['build', '-a', 'arm64', '-t', 'qcow2,raw', '-o', img, 'debian-minimal', 'vm'], { timeoutMs: 40 * 60_000, env: { KILN_NO_CACHE: '0' } });
    fs.writeFileSync(`${img}.build.log`, built.stderr);
    process.stdout.write(`built arm64 debian-minimal vm in ${built.seconds.toFixed(1)} s\n`);
  }, 40 * 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the build succeeds and records arm64 with its kernel', () => {
    if (built.code !== 0) throw new Error(`exit ${built.code}:\n${built.stderr.split('\n').slice(-30).join('\n')}`);
    const manifest = JSON.parse(fs.readFileSync(`${img}.manifest.json`, 'utf8')) as { build: { arch: string; layout: string }; packages: { name: string; architecture: string }[] };
    expect(manifest.build).toMatchObject({ arch: 'arm64', layout: 'efi' });
    const names = manifest.packages.map((p) => p.name);
    for (const p of ['linux-image-arm64', 'grub-efi-arm64-bin']) expect(names).toContain(p);
    for (const p of ['grub-pc-bin', 'grub-efi-amd64-bin', 'linux-image-amd64']) expect(names).not.toContain(p);
    expect(manifest.packages.find((p) => p.name === 'libc6')?.architecture).toBe('arm64');
  });

  test('GPT: an EFI system partition and the root, no BIOS boot partition; GRUB for arm64 at EFI/BOOT/BOOTAA64.EFI', () => {
    const table = JSON.parse(sh('sfdisk', ['--json', `${img}.raw`]).stdout) as { partitiontable: { label: string; partitions: { start: number; type: string }[] } };
    expect(table.partitiontable.label).toBe('gpt');
    expect(table.partitiontable.partitions.map((p) => p.type)).toEqual(['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', '0FC63DAF-8483-4772-8E79-3D69D8477DE4']);
    const esp = `${img}.raw@@${(table.partitiontable.partitions[0]?.start ?? 0) * 512}`;
    const listing = sh('mdir', ['-i', esp, '-b', '::/EFI/BOOT']);
    expect(listing.stdout).toMatch(/BOOTAA64\.EFI/);
    const loader = path.join(dir, 'BOOTAA64.EFI');
    expect(sh('mcopy', ['-i', esp, '::/EFI/BOOT/BOOTAA64.EFI', loader]).status).toBe(0);
    // A PE32+ image for ARM64 (machine 0xaa64), not x86's.
    expect(sh('file', ['-b', loader]).stdout).toMatch(/PE32\+ executable.*Aarch64/i);
    fs.rmSync(`${img}.raw`);
  });

  test('plain qemu-system-aarch64 -M virt (TCG, AAVMF, virtio) boots it to a login prompt on ttyAMA0', async () => {
    const boot = await bootPlainToLogin({ disk: `${img}.qcow2`, dir, consoleLog: path.join(dir, 'plain.console.log'), timeoutS: 600 });
    process.stdout.write(`arm64: login prompt after ${boot.loginSeconds.toFixed(1)} s under plain QEMU\n`);
    expect(boot.console).toMatch(/Booting Linux on physical CPU/);
    expect(boot.console).toMatch(/Kernel command line: .*console=ttyAMA0/);
  }, 660_000);

  test('kiln boot picks qemu-system-aarch64, virt and AAVMF from the manifest, up to GRUB loading Linux', async () => {
    const log = path.join(dir, 'kiln-boot.console.log');
    const r = await kiln(['boot', `${img}.qcow2`, '--expect', 'Loading Linux .*arm64', '--timeout', '300', '--console-log', log]);
    expect(r.code).toBe(0);
    const first = fs.readFileSync(log, 'utf8').split('\n')[0] as string;
    expect(first).toMatch(/^# qemu-system-aarch64 -machine virt /);
    expect(first).toContain('AAVMF_CODE.fd');
  }, 360_000);
});
