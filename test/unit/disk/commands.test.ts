import { espUuidOf, mkfsExt4Args, mkfsVfatArgs, mtoolsImage } from '../../../lib/disk/filesystems.js';
import { grubMkimageArgs, grubModules, renderEarlyConfig } from '../../../lib/disk/grub.js';

const root = { role: 'root' as const, number: 1, startSector: 2048, sizeSectors: 1935360 };
const esp = { role: 'esp' as const, number: 2, startSector: 4096, sizeSectors: 262144 };

describe('filesystem argv', () => {
  test('mkfs.ext4 writes into the disk file at the partition offset, from the tree', () => {
    expect(mkfsExt4Args({ disk: '/w/disk.raw', tree: '/t', part: root, label: 'cloudimg-rootfs', uuid: 'U' })).toEqual([
      '-F', '-q', '-t', 'ext4', '-b', '4096', '-L', 'cloudimg-rootfs', '-U', 'U',
      '-E', 'offset=1048576,nodiscard,hash_seed=U', '-d', '/t', '/w/disk.raw', '967680k',
    ]);
  });
  test('the ext4 size never runs past the partition (whole 4 KiB blocks)', () => {
    const args = mkfsExt4Args({ disk: 'd', tree: 't', part: { ...root, sizeSectors: 2049 }, label: 'l', uuid: 'u' });
    expect(args[args.length - 1]).toBe('1024k');
  });
  test('mkfs.vfat: FAT32, 1 sector per cluster, at the ESP offset (in sectors), size in KiB', () => {
    expect(mkfsVfatArgs({ disk: '/w/disk.raw', part: esp, volumeId: 'AB29A743' })).toEqual([
      '-F', '32', '-S', '512', '-s', '1', '-n', 'EFI', '-i', 'AB29A743', '--offset=4096', '/w/disk.raw', '131072',
    ]);
  });
  test('mtools addresses the partition by byte offset', () => {
    expect(mtoolsImage('/w/disk.raw', esp)).toBe('/w/disk.raw@@2097152');
  });
  test.each([
    ['ab29a743', 'AB29-A743'],
    ['00000001', '0000-0001'],
  ])('volume id %s is UUID=%s', (id, uuid) => {
    expect(espUuidOf(id)).toBe(uuid);
  });
});

describe('grub-mkimage argv (run as chroot TREE …)', () => {
  test.each([
    ['i386-pc', 'biosdisk'],
    ['x86_64-efi', 'fat'],
    ['arm64-efi', 'fat'],
  ] as const)('%s', (platform, specific) => {
    const args = grubMkimageArgs(platform, '/tmp/early.cfg', '/tmp/out.img');
    expect(args.slice(0, 11)).toEqual(['grub-mkimage', '-O', platform, '-d', `/usr/lib/grub/${platform}`, '-p', '/boot/grub', '-c', '/tmp/early.cfg', '-o', '/tmp/out.img']);
    expect(args.slice(11)).toEqual(grubModules(platform));
    for (const m of [specific, 'part_msdos', 'part_gpt', 'ext2', 'search_fs_uuid', 'normal', 'linux', 'serial']) expect(grubModules(platform)).toContain(m);
  });
  test('the early config finds the root filesystem by UUID', () => {
    expect(renderEarlyConfig('U-1')).toBe('search --no-floppy --fs-uuid --set=root U-1\nset prefix=($root)/boot/grub\n');
  });
});
