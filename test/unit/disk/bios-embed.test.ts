import { BOOT_IMG, patchBootSector, patchCoreImage, readCoreBlocklist } from '../../../lib/disk/bios-embed.js';

/** A core.img shaped like grub-mkimage's: default block list (LBA 2, n-1 sectors, segment 0x820). */
function fakeCore(sectors: number, lastSectorBytes = 100): Buffer {
  const b = Buffer.alloc((sectors - 1) * 512 + lastSectorBytes, 0xaa);
  b.fill(0, 476, 512);
  b.writeBigUInt64LE(2n, 500);
  b.writeUInt16LE(sectors - 1, 508);
  b.writeUInt16LE(0x820, 510);
  b.writeUInt16LE(0x075b, 512 + 0x14);
  return b;
}

describe('patchBootSector (what grub-bios-setup writes to sector 0)', () => {
  const boot = Buffer.alloc(512, 0x11);
  boot.writeUInt16BE(0x55aa, 510);
  const mbr = Buffer.alloc(512, 0x22);
  const out = patchBootSector(boot, mbr, 2048);

  test.each([
    ['code before the BPB comes from boot.img', 0, 3, 0x11],
    ['the BPB area is kept from the disk', BOOT_IMG.bpbStart, BOOT_IMG.bpbEnd, 0x22],
    ['the disk signature and partition table are kept', BOOT_IMG.windowsNtMagic, BOOT_IMG.partitionEnd, 0x22],
  ])('%s', (_what, from, to, byte) => {
    expect([...out.subarray(from, to)].every((b) => b === byte)).toBe(true);
  });
  test('core.img LBA, boot drive 0xff, drive-check NOPs, boot signature', () => {
    expect(out.readBigUInt64LE(BOOT_IMG.kernelSector)).toBe(2048n);
    expect(out[BOOT_IMG.bootDrive]).toBe(0xff);
    expect([out[BOOT_IMG.driveCheck], out[BOOT_IMG.driveCheck + 1]]).toEqual([0x90, 0x90]);
    expect(out.readUInt16BE(510)).toBe(0x55aa);
    expect(out).toHaveLength(512);
  });
  test('a boot.img of the wrong size is refused', () => {
    expect(() => patchBootSector(Buffer.alloc(440), mbr, 1)).toThrow(/boot.img is 440 bytes/);
  });
});

describe('patchCoreImage', () => {
  test.each([
    // sectors, LBA, capacity
    [284, 1, 2047],
    [284, 2048, 2048],
    [2, 1, 2],
  ])('%d sectors at LBA %d: one block-list entry for the rest, then a terminator', (sectors, lba, cap) => {
    const out = patchCoreImage(fakeCore(sectors), lba, cap);
    expect(out.length).toBe(sectors * 512);
    expect(readCoreBlocklist(out)).toEqual({ lba: lba + 1, sectors: sectors - 1, segment: 0x820 });
    expect([...out.subarray(488, 500)].every((b) => b === 0)).toBe(true);
    expect([...out.subarray((sectors - 1) * 512 + 100)].every((b) => b === 0)).toBe(true);
  });
  test('stale entries of a longer default block list are cleared', () => {
    const core = fakeCore(10);
    core.writeBigUInt64LE(99n, 488);
    core.writeUInt16LE(3, 496);
    expect(patchCoreImage(core, 1, 2047).readUInt16LE(496)).toBe(0);
  });
  test('too big for the embedding area', () => {
    expect(() => patchCoreImage(fakeCore(300), 1, 62)).toThrow(/needs 300 sectors but the embedding area has 62/);
  });
  test('not a core image', () => {
    const core = fakeCore(4);
    core.writeUInt16LE(0xffff, 512 + 0x14);
    expect(() => patchCoreImage(core, 1, 2047)).toThrow(/version mismatch/);
  });
});
