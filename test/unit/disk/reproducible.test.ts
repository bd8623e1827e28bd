/**
 * Disks that are the same bytes for the same tree: identifiers derived from the tree's fingerprint, and the
 * filesystems' times at the epoch (mke2fs with E2FSPROGS_FAKE_TIME, then every inode's atime/ctime/crtime
 * rewritten with its checksum; the ESP with mkfs.vfat --invariant and mtools' SOURCE_DATE_EPOCH).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { diskIds } from '../../../lib/disk/index.js';
import { clampInodeTimes, crc32cLe, inodeAt, readExt4Layout } from '../../../lib/disk/ext4-times.js';
import { describeDiskOffset } from '../../../lib/disk/locate.js';
import { diskDifference } from '../../../lib/build/verify.js';
import { makeEsp, makeExt4, mkfsVfatArgs } from '../../../lib/disk/filesystems.js';
import { planPartitions, renderSfdiskScript } from '../../../lib/disk/layout.js';
import { command, describeIf } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-disk-repro');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const E = 1_600_000_000;

test('crc32c: the Castagnoli check value (with the usual inversions) and ext4 raw chaining', () => {
  expect((crc32cLe(0xffffffff, Buffer.from('123456789')) ^ 0xffffffff) >>> 0).toBe(0xe3069283);
  expect(crc32cLe(crc32cLe(0xffffffff, Buffer.from('1234')), Buffer.from('56789'))).toBe(crc32cLe(0xffffffff, Buffer.from('123456789')));
});

test('an unused inode is left alone; a used one gets the epoch in atime, ctime and crtime, and a new checksum', () => {
  const geo = { metadataCsum: true, csumSeed: 0x12345678 };
  const unused = Buffer.alloc(256);
  expect(clampInodeTimes(unused, 12, E, geo)).toBe(false);
  expect(unused.equals(Buffer.alloc(256))).toBe(true);
  const used = Buffer.alloc(256);
  used.writeUInt16LE(0o100644, 0);
  used.writeUInt16LE(1, 0x1a);
  used.writeUInt32LE(E + 99, 0x08);
  used.writeUInt32LE(E + 98, 0x0c);
  used.writeUInt32LE(E - 5, 0x10); // mtime: the tree's, kept
  used.writeUInt16LE(32, 0x80);
  used.writeUInt32LE(123456, 0x84);
  expect(clampInodeTimes(used, 12, E, geo)).toBe(true);
  expect([used.readUInt32LE(0x08), used.readUInt32LE(0x0c), used.readUInt32LE(0x10), used.readUInt32LE(0x84), used.readUInt32LE(0x90)]).toEqual([E, E, E - 5, 0, E]);
  expect(clampInodeTimes(used, 12, E, geo)).toBe(false);
});

test('disk identifiers: derived from the seed (stable, distinct per purpose and per seed), random without one', () => {
  const a = diskIds('efi', 'seed-a');
  expect(diskIds('efi', 'seed-a')).toEqual({ ...a, partUuid: expect.any(Function) });
  expect([1, 2, 3].map((n) => a.partUuid?.(n))).toEqual([1, 2, 3].map((n) => diskIds('efi', 'seed-a').partUuid?.(n)));
  expect(new Set([a.labelId, a.rootUuid.toUpperCase(), a.partUuid?.(1), a.partUuid?.(2), a.partUuid?.(3)]).size).toBe(5);
  expect(diskIds('efi', 'seed-b').rootUuid).not.toBe(a.rootUuid);
  expect(a.rootUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(diskIds('mbr', 'seed-a').labelId).toMatch(/^[0-9a-f]{8}$/);
  expect(a.volumeId).toMatch(/^[0-9A-F]{8}$/);
  expect(diskIds('efi', undefined).rootUuid).not.toBe(diskIds('efi', undefined).rootUuid);
  expect(diskIds('efi', undefined).partUuid).toBeUndefined();
});

test('the GPT script names each partition UUID when derived; DOS has none', () => {
  const ids = diskIds('efi', 's');
  const gpt = renderSfdiskScript(planPartitions('efi', 1024 * 2 ** 20, ids.labelId, ids.partUuid));
  expect(gpt).toContain(`label-id: ${ids.labelId}`);
  for (const n of [1, 2, 3]) expect(gpt).toContain(`uuid=${ids.partUuid?.(n)}`);
  expect(renderSfdiskScript(planPartitions('mbr', 1024 * 2 ** 20, 'abcd0123', ids.partUuid))).not.toContain('uuid=');
  // --invariant sets a constant volume id too: -i must come after it.
  const vfat = mkfsVfatArgs({ disk: 'd', part: { role: 'esp', number: 2, startSector: 4096, sizeSectors: 262144 }, volumeId: 'AB29A743', epoch: E });
  expect(vfat.indexOf('--invariant')).toBeGreaterThanOrEqual(0);
  expect(vfat.indexOf('--invariant')).toBeLessThan(vfat.indexOf('-i'));
});

describeIf(command('mkfs.ext4', 'e2fsprogs'), command('mkfs.vfat', 'dosfstools'), command('mcopy', 'mtools'))('filesystems written twice from the same tree', () => {
  const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const tree = path.join(work, 'tree');
  const make = (dir: string, order: readonly string[]) => {
    fs.mkdirSync(path.join(dir, 'etc/sub'), { recursive: true });
    for (const n of order) fs.writeFileSync(path.join(dir, 'etc', n), `file ${n}\n`);
    fs.symlinkSync('../etc/a', path.join(dir, 'etc/sub/link'));
    for (const p of ['etc/sub/link', ...order.map((n) => `etc/${n}`), 'etc/sub', 'etc', '.']) fs.lutimesSync(path.join(dir, p), E - 10, E - 10);
  };
  const part = { role: 'root' as const, number: 1, startSector: 2048, sizeSectors: 32768 };
  const ext4 = async (name: string, from: string) => {
    const disk = path.join(work, name);
    fs.writeFileSync(disk, '');
    fs.truncateSync(disk, 20 * 2 ** 20);
    await makeExt4({ disk, tree: from, part, label: 'cloudimg-rootfs', uuid: '0b6c2c5e-7f7a-8d1e-9a0b-1c2d3e4f5a6b', epoch: E });
    return disk;
  };

  test('ext4: identical bytes from trees made in another order, at another time (other ctimes and atimes), and fsck-clean', async () => {
    make(tree, ['a', 'b', 'c', 'z']);
    const first = await ext4('one.raw', tree);
    const other = path.join(work, 'tree2');
    await new Promise((r) => setTimeout(r, 1100)); // another second: other ctimes
    make(other, ['z', 'c', 'b', 'a']);
    const second = await ext4('two.raw', other);
    expect(sha(second)).toBe(sha(first));
    const fsck = spawnSync('e2fsck', ['-fn', `${first}?offset=${part.startSector * 512}`], { encoding: 'utf8' });
    expect([fsck.status, fsck.stdout + fsck.stderr]).toEqual([0, expect.any(String)]);
    const stat = spawnSync('debugfs', ['-R', 'stat /etc/a', `${first}?offset=${part.startSector * 512}`], { encoding: 'utf8' }).stdout;
    for (const field of ['ctime', 'atime', 'crtime']) expect(stat).toMatch(new RegExp(`${field}: 0x${E.toString(16)}:00000000`));
    expect(stat).toMatch(new RegExp(`mtime: 0x${(E - 10).toString(16)}:`));
  }, 30_000);

  test('the ESP: identical bytes a second later, in another time zone, for the same volume id and files', async () => {
    const efi = path.join(work, 'BOOTX64.EFI');
    fs.writeFileSync(efi, 'an EFI binary');
    const esp = async (name: string) => {
      const disk = path.join(work, name);
      fs.writeFileSync(disk, '');
      fs.truncateSync(disk, 130 * 2 ** 20);
      fs.utimesSync(efi, Date.now() / 1000, Date.now() / 1000);
      await makeEsp({ disk, part: { role: 'esp', number: 2, startSector: 2048, sizeSectors: 262144 }, volumeId: 'AB29A743', epoch: E }, new Map([['EFI/BOOT/BOOTX64.EFI', efi]]));
      return disk;
    };
    const a = await esp('esp1.raw');
    await new Promise((r) => setTimeout(r, 1100));
    // FAT records local time: another zone must not change the bytes.
    const tz = process.env.TZ;
    process.env.TZ = 'Pacific/Auckland';
    let b: string;
    try {
      b = await esp('esp2.raw');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(sha(b)).toBe(sha(a));
    // …and it carries the volume id asked for (the one fstab names), not mkfs.vfat's invariant constant.
    expect(spawnSync('blkid', ['-p', '-O', String(2048 * 512), '-s', 'UUID', '-o', 'value', a], { encoding: 'utf8' }).stdout.trim()).toBe('AB29-A743');
  }, 30_000);
});

describeIf(command('mkfs.ext4', 'e2fsprogs'), command('sfdisk', 'fdisk'), command('qemu-img', 'qemu-utils'))('--verify names what a differing disk byte belongs to', () => {
  const part = { role: 'root' as const, number: 1, startSector: 2048, sizeSectors: 32768 };
  const disk = async (name: string, content: string) => {
    const tree = path.join(work, `locate-${name}`);
    fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'etc', 'a'), content);
    for (const p of ['etc/a', 'etc', '.']) fs.utimesSync(path.join(tree, p), E - 10, E - 10);
    const raw = path.join(work, `${name}.raw`);
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, 20 * 2 ** 20);
    spawnSync('sfdisk', ['--quiet', raw], { input: renderSfdiskScript({ layout: 'mbr', diskBytes: 20 * 2 ** 20, labelId: 'abcd0123', partitions: [part] }) });
    await makeExt4({ disk: raw, tree, part, label: 'root', uuid: '0b6c2c5e-7f7a-8d1e-9a0b-1c2d3e4f5a6b', epoch: E });
    return raw;
  };

  test('the boot sector, a file\'s content, a file\'s inode; through qcow2 too', async () => {
    const a = await disk('la', 'one\n');
    const start = part.startSector * 512;
    expect(await describeDiskOffset(a, 10)).toBe('the boot sector / partition table');
    const dbg = (req: string) => spawnSync('debugfs', ['-R', req, `${a}?offset=${start}`], { encoding: 'utf8' }).stdout;
    const block = Number(dbg('bmap /etc/a 0').trim());
    expect(await describeDiskOffset(a, start + block * 4096 + 1)).toBe('partition 1 (ext4): content of /etc/a');
    const ino = Number(/Inode: (\d+)/.exec(dbg('stat /etc/a'))?.[1]);
    const fd = fs.openSync(a, 'r');
    const { geo, tables } = readExt4Layout(fd, start);
    fs.closeSync(fd);
    const t = tables[Math.floor((ino - 1) / geo.inodesPerGroup)];
    const inodeByte = start + (t?.block ?? 0) * geo.blockSize + ((ino - 1) % geo.inodesPerGroup) * geo.inodeSize + 8;
    expect(inodeAt(geo, tables, inodeByte - start)).toBe(ino);
    expect(await describeDiskOffset(a, inodeByte)).toBe('partition 1 (ext4): the inode of /etc/a');

    const b = await disk('lb', 'two\n');
    const q = (f: string) => {
      spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', f, `${f}.qcow2`]);
      return `${f}.qcow2`;
    };
    expect(await diskDifference(q(a), q(b), 'qcow2', work)).toMatch(/^the disks first differ at disk byte \d+: partition 1 \(ext4\): content of \/etc\/a$/);
    // The same disk in a qcow2 of other clusters: other bytes, the same disk.
    spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', a, `${a}.small.qcow2`]);
    expect(await diskDifference(`${a}.qcow2`, `${a}.small.qcow2`, 'qcow2', work)).toBe('the disks they hold are identical: only the qcow2 container differs');
  }, 30_000);
});
