/**
 * End to end (root): a real Debian tree → mbr and efi disks → every output format, each checked with
 * its own tool; forced failures leave no disk, partial output, loop device or mount behind.
 * KILN_E2E_KEEP=DIR keeps the qcow2 images there (to boot them by hand).
 */
import fs from 'node:fs';
import path from 'node:path';
import { assembleDisk, type Disk } from '../../../lib/disk/index.js';
import { capture, run } from '../../../lib/exec/index.js';
import { FORMATS, outputPaths, writeOutputs, type OutputReport } from '../../../lib/output/index.js';
import { Scope } from '../../../lib/scope/index.js';
import { describeIf, root } from '../../helpers/requires.js';
import { extractDebianTree } from './tree.js';

const maybe = describeIf(root());
const MIN = 60_000;

let dir = '';
let tree = '';
const timings: string[] = [];

beforeAll(async () => {
  ({ dir, tree } = await extractDebianTree('e2e-disk'));
}, 25 * MIN);

afterAll(() => {
  process.stderr.write(`kiln e2e disk timings:\n${timings.map((t) => `  ${t}`).join('\n')}\n`);
  const keep = process.env.KILN_E2E_KEEP;
  if (keep && dir) {
    fs.mkdirSync(keep, { recursive: true });
    for (const f of ['out/img.qcow2', 'out-efi/img-efi.qcow2']) if (fs.existsSync(path.join(dir, f))) fs.copyFileSync(path.join(dir, f), path.join(keep, path.basename(f)));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function record(what: string, disk: Disk | undefined, report?: OutputReport): void {
  for (const t of disk?.timings ?? []) timings.push(`${what} ${t.step}: ${(t.ms / 1000).toFixed(1)} s`);
  for (const o of report?.outputs ?? []) timings.push(`${what} ${o.format}: ${o.seconds.toFixed(1)} s, ${(o.bytes / 1e6).toFixed(1)} MB`);
}

/**
 * Nothing of ours left: no mount below dir, no loop device backed by a file below dir, no partial
 * output in outDir. (Other builds may run on this machine at the same time, so only ours count.)
 */
async function expectNothingLeft(outDir: string): Promise<void> {
  const mounts = (await capture('findmnt', ['-rn', '-o', 'TARGET'])).split('\n').filter((m) => m.startsWith(dir));
  expect(mounts).toEqual([]);
  const loops = (await capture('losetup', ['-l', '-n', '-O', 'BACK-FILE'])).split('\n').filter((f) => f.trim().startsWith(dir));
  expect(loops).toEqual([]);
  expect(fs.readdirSync(outDir).filter((n) => n.includes('.kiln-part-'))).toEqual([]);
}

async function qemuInfo(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await capture('qemu-img', ['info', '--output=json', file])) as Record<string, unknown>;
}

maybe('mbr disk and every output format', () => {
  let disk: Disk;
  let report: OutputReport;
  const out = () => path.join(dir, 'out');
  beforeAll(async () => {
    const scope = new Scope();
    try {
      disk = await assembleDisk(scope, { tree, workDir: path.join(dir, 'work-mbr'), layout: 'mbr' });
      report = await writeOutputs(scope, { tree, disk, outputs: outputPaths(path.join(out(), 'img'), FORMATS), uncompressed: false, checksum: true });
    } finally {
      await scope.close();
    }
    record('mbr', disk, report);
  }, 20 * MIN);

  test('partition table (sfdisk -d): DOS, one bootable Linux partition from 1 MiB', async () => {
    const dump = await capture('sfdisk', ['-d', disk.raw]);
    expect(dump).toMatch(/^label: dos$/m);
    const parts = dump.split('\n').filter((l) => l.includes(' : start='));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(new RegExp(`start=\\s*2048, size=\\s*${disk.sizeBytes / 512 - 2048}, type=83, bootable`));
  });

  test('root filesystem: ext4, label and UUID as reported, fsck clean, fstab by UUID', async () => {
    const fsPath = `${disk.raw}?offset=${1024 * 1024}`;
    const header = await capture('dumpe2fs', ['-h', fsPath]);
    expect(header).toMatch(new RegExp(`^Filesystem UUID:\\s+${disk.rootUuid}$`, 'm'));
    expect(header).toMatch(/^Filesystem volume name:\s+cloudimg-rootfs$/m);
    await run('e2fsck', ['-fn', fsPath]);
    const fstab = await capture('debugfs', ['-R', 'cat /etc/fstab', fsPath]);
    expect(fstab).toContain(`UUID=${disk.rootUuid} / ext4 errors=remount-ro 0 1`);
    const grubCfg = await capture('debugfs', ['-R', 'cat /boot/grub/grub.cfg', fsPath]);
    expect(grubCfg).toContain(`linux ${disk.kernel.vmlinuz} root=UUID=${disk.rootUuid} ro console=tty0 console=ttyS0,115200`);
    expect(await capture('debugfs', ['-R', 'cat /boot/grub/i386-pc/moddep.lst', fsPath])).toMatch(/^normal: /m);
  });

  test('GRUB for BIOS: boot.img in the MBR points at core.img in the post-MBR gap', () => {
    const fd = fs.openSync(disk.raw, 'r');
    const head = Buffer.alloc(2 * 512);
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    expect(head.readUInt16BE(510)).toBe(0x55aa);
    expect(head.readBigUInt64LE(0x5c)).toBe(1n);
    expect(head.readUInt16LE(512 + 500 + 8)).toBeGreaterThan(10); // core.img's remaining sectors
  });

  test('qemu-img info of each disk format', async () => {
    const info = async (ext: string) => qemuInfo(path.join(out(), `img.${ext}`));
    const qcow2 = await info('qcow2');
    expect(qcow2).toMatchObject({ format: 'qcow2', 'virtual-size': disk.sizeBytes });
    expect((qcow2['format-specific'] as { data: Record<string, unknown> }).data).toMatchObject({ 'compression-type': 'zstd', compat: '1.1' });
    expect(await info('raw')).toMatchObject({ format: 'raw', 'virtual-size': disk.sizeBytes });
    expect(await info('vhd')).toMatchObject({ format: 'vpc', 'virtual-size': disk.sizeBytes });
    const vmdk = await info('vmdk');
    expect(vmdk).toMatchObject({ format: 'vmdk', 'virtual-size': disk.sizeBytes });
    expect((vmdk['format-specific'] as { data: Record<string, unknown> }).data).toMatchObject({ 'create-type': 'streamOptimized' });
    // Below diskimage-builder's 333 MB for a Debian vm image.
    expect(fs.statSync(path.join(out(), 'img.qcow2')).size).toBeLessThan(333e6);
  });

  test('qcow2 and vhd hold exactly the raw disk (qemu-img compare)', async () => {
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', disk.raw, path.join(out(), 'img.qcow2')]);
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', disk.raw, path.join(out(), 'img.vhd')]);
  }, 5 * MIN);

  test('squashfs (unsquashfs -l): the tree, without the contents of proc, sys, dev', async () => {
    const list = (await run('unsquashfs', ['-l', path.join(out(), 'img.squash')], { tailLines: 1 })).stdout.split('\n');
    expect(list).toContain(`squashfs-root${disk.kernel.vmlinuz}`);
    expect(list).toContain('squashfs-root/etc/fstab');
    expect(list).toContain('squashfs-root/dev');
    expect(list.filter((l) => /^squashfs-root\/(proc|sys|dev)\//.test(l))).toEqual([]);
  });

  test.each([
    ['img.tar', []],
    ['img.tgz', ['--gzip']],
  ])('%s (tar -t): the tree with numeric owners, without the contents of proc, sys, dev', async (name, flags) => {
    const list = (await run('tar', ['-t', ...flags, '-f', path.join(out(), name)], { tailLines: 1 })).stdout.split('\n');
    expect(list).toContain(`.${disk.kernel.vmlinuz}`);
    expect(list).toContain('./etc/fstab');
    expect(list).toContain('./proc/');
    expect(list.filter((l) => /^\.\/(proc|sys|dev)\/./.test(l))).toEqual([]);
  }, 5 * MIN);

  test('checksums verify with md5sum -c and sha256sum -c', async () => {
    const names = report.outputs.map((o) => path.basename(o.path));
    await run('md5sum', ['-c', ...names.map((n) => `${n}.md5`)], { cwd: out() });
    await run('sha256sum', ['-c', ...names.map((n) => `${n}.sha256`)], { cwd: out() });
  }, 5 * MIN);

  test('package manifest and CycloneDX SBOM list what is installed', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(out(), 'img.manifest.json'), 'utf8')) as { count: number; packages: { name: string }[]; os: { id: string } };
    expect(manifest.os.id).toBe('debian');
    expect(manifest.count).toBeGreaterThan(80);
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['linux-image-amd64', 'grub-pc-bin', 'systemd-sysv', 'libc6']));
    const bom = JSON.parse(fs.readFileSync(path.join(out(), 'img.cdx.json'), 'utf8')) as { specVersion: string; components: unknown[] };
    expect(bom.specVersion).toBe('1.5');
    expect(bom.components).toHaveLength(manifest.count);
  });

  test('nothing left behind: no partial output, no mount, no loop device, no temp file in the tree', async () => {
    await expectNothingLeft(out());
    expect(fs.readdirSync(path.join(tree, 'tmp')).filter((n) => n.startsWith('.kiln-'))).toEqual([]);
  });
});

maybe('efi disk', () => {
  let disk: Disk;
  const out = () => path.join(dir, 'out-efi');
  beforeAll(async () => {
    const scope = new Scope();
    try {
      disk = await assembleDisk(scope, { tree, workDir: path.join(dir, 'work-efi'), layout: 'efi' });
      const report = await writeOutputs(scope, { tree, disk, outputs: [{ format: 'qcow2', path: path.join(out(), 'img-efi.qcow2') }], uncompressed: false, checksum: false, manifestBase: null });
      record('efi', disk, report);
    } finally {
      await scope.close();
    }
  }, 10 * MIN);

  test('GPT: BIOS boot, EFI system, Linux root (sfdisk --json)', async () => {
    const table = JSON.parse(await capture('sfdisk', ['--json', disk.raw])) as { partitiontable: { label: string; partitions: { start: number; type: string }[] } };
    expect(table.partitiontable.label).toBe('gpt');
    expect(table.partitiontable.partitions.map((p) => [p.start, p.type])).toEqual([
      [2048, '21686148-6449-6E6F-744E-656564454649'],
      [4096, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
      [266240, '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
    ]);
  });

  test('ESP (mdir): GRUB EFI as \\EFI\\BOOT\\BOOTX64.EFI and \\EFI\\debian\\grubx64.efi; fstab mounts it', async () => {
    const esp = disk.partitions.find((p) => p.role === 'esp');
    const listing = await capture('mdir', ['-/', '-b', '-i', `${disk.raw}@@${(esp?.startSector ?? 0) * 512}`, '::/EFI'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    expect(listing.split('\n').map((l) => l.trim())).toEqual(expect.arrayContaining(['::/EFI/BOOT/BOOTX64.EFI', '::/EFI/debian/grubx64.efi']));
    const root = disk.partitions.find((p) => p.role === 'root');
    const fstab = await capture('debugfs', ['-R', 'cat /etc/fstab', `${disk.raw}?offset=${(root?.startSector ?? 0) * 512}`]);
    expect(fstab).toContain(`UUID=${disk.espUuid} /boot/efi vfat umask=0077,nofail 0 2`);
  });

  test('the hybrid disk also carries GRUB for BIOS (core.img in the BIOS boot partition)', () => {
    const fd = fs.openSync(disk.raw, 'r');
    const mbr = Buffer.alloc(512);
    fs.readSync(fd, mbr, 0, 512, 0);
    fs.closeSync(fd);
    expect(mbr.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(mbr[0x1c2]).toBe(0xee); // protective MBR kept
  });
});

maybe('failures leave nothing behind', () => {
  test('a failure while installing GRUB EFI on the ESP removes the disk', async () => {
    const fake = path.join(dir, 'fail-bin');
    fs.mkdirSync(fake, { recursive: true });
    fs.writeFileSync(path.join(fake, 'mcopy'), '#!/bin/sh\necho "mcopy: simulated failure" >&2\nexit 1\n', { mode: 0o755 });
    const oldPath = process.env.PATH;
    process.env.PATH = `${fake}:${oldPath ?? ''}`;
    const workDir = path.join(dir, 'work-fail');
    const scope = new Scope();
    try {
      await expect(assembleDisk(scope, { tree, workDir, layout: 'efi' })).rejects.toThrow(/mcopy \(ESP\) exited 1/);
    } finally {
      process.env.PATH = oldPath;
      await scope.close();
    }
    expect(fs.readdirSync(workDir)).toEqual([]);
    expect(fs.readdirSync(path.join(tree, 'tmp')).filter((n) => n.startsWith('.kiln-'))).toEqual([]);
    await expectNothingLeft(workDir);
  }, 10 * MIN);

  test('an image size below what the tree needs is an invalid-input error, before any work', async () => {
    const workDir = path.join(dir, 'work-small');
    await expect(assembleDisk(new Scope(), { tree, workDir, layout: 'mbr', sizeBytes: 200 * 1024 * 1024 })).rejects.toThrow(/smaller than the tree needs/);
    expect(fs.existsSync(workDir)).toBe(false);
  });

  test('a failing conversion leaves no partial output', async () => {
    const outDir = path.join(dir, 'out-fail');
    const scope = new Scope();
    try {
      await expect(
        writeOutputs(scope, { tree, disk: { raw: path.join(dir, 'missing.raw') }, outputs: [{ format: 'qcow2', path: path.join(outDir, 'bad.qcow2') }], uncompressed: false, checksum: true, manifestBase: null }),
      ).rejects.toThrow(/qcow2 output \(qemu-img\) exited 1/);
    } finally {
      await scope.close();
    }
    expect(fs.readdirSync(outDir)).toEqual([]);
    await expectNothingLeft(outDir);
  });
});
