/**
 * What `grub-bios-setup --no-rs-codes` does, on a plain disk file (pure, on buffers): patch GRUB's
 * boot.img into the MBR and core.img into the embedding area (the post-MBR gap on a DOS disk, the
 * BIOS-boot partition on GPT). grub-bios-setup itself insists on probing a block device for the
 * directory's filesystem, which needs a loop device and a mount; these few bytes do not.
 *
 * Offsets are GRUB 2's (include/grub/i386/pc/boot.h, util/setup.c), stable since 2.00:
 * boot.img holds the LBA of core.img's first sector at 0x5c and the boot drive at 0x64; the drive
 * check jump at 0x66 becomes two NOPs for hard disks; the BPB (0x03–0x5a) and the partition table
 * with the disk signature (0x1b8–0x1fe) are kept from the disk. core.img's first sector ends with a
 * block list (12-byte entries growing downwards: LBA u64, sector count u16, load segment u16) that
 * says where its remaining sectors are.
 */
import { SECTOR } from './layout.js';

export const BOOT_IMG = {
  bpbStart: 0x03,
  bpbEnd: 0x5a,
  kernelSector: 0x5c,
  bootDrive: 0x64,
  driveCheck: 0x66,
  windowsNtMagic: 0x1b8,
  partitionEnd: 0x1fe,
} as const;

/** Offset of core.img's "no Reed-Solomon length" field, in its second sector. */
const NO_RS_LENGTH = SECTOR + 0x14;
const BLOCKLIST_ENTRY = 12;
/** GRUB_BOOT_I386_PC_KERNEL_SEG + one sector in paragraphs: where the second sector is loaded. */
const FIRST_LOAD_SEGMENT = 0x800 + (SECTOR >> 4);

/** The new MBR: boot.img's code, the disk's BPB area and partition table, pointing at core.img. */
export function patchBootSector(bootImg: Buffer, diskMbr: Buffer, coreLba: number): Buffer {
  if (bootImg.length !== SECTOR) throw new Error(`boot.img is ${bootImg.length} bytes, expected ${SECTOR}`);
  if (diskMbr.length < SECTOR) throw new Error('the disk has no complete first sector');
  const out = Buffer.from(bootImg);
  diskMbr.copy(out, BOOT_IMG.bpbStart, BOOT_IMG.bpbStart, BOOT_IMG.bpbEnd);
  diskMbr.copy(out, BOOT_IMG.windowsNtMagic, BOOT_IMG.windowsNtMagic, BOOT_IMG.partitionEnd);
  out[BOOT_IMG.driveCheck] = 0x90;
  out[BOOT_IMG.driveCheck + 1] = 0x90;
  out[BOOT_IMG.bootDrive] = 0xff;
  out.writeBigUInt64LE(BigInt(coreLba), BOOT_IMG.kernelSector);
  return out;
}

/** core.img padded to whole sectors, with its block list saying it lives contiguously at coreLba. */
export function patchCoreImage(coreImg: Buffer, coreLba: number, capacitySectors: number): Buffer {
  const sectors = Math.ceil(coreImg.length / SECTOR);
  if (sectors < 2) throw new Error(`core.img is only ${coreImg.length} bytes`);
  if (sectors > capacitySectors) {
    throw new Error(`core.img needs ${sectors} sectors but the embedding area has ${capacitySectors}`);
  }
  if (coreImg.readUInt16LE(NO_RS_LENGTH) === 0xffff) throw new Error('core.img version mismatch (not a GRUB 2 i386-pc core image)');
  const out = Buffer.alloc(sectors * SECTOR);
  coreImg.copy(out);
  const first = SECTOR - BLOCKLIST_ENTRY;
  // Clear the default block list (entries grow downwards until one with length 0).
  for (let at = first; at > 0 && out.readUInt16LE(at + 8) !== 0; at -= BLOCKLIST_ENTRY) out.fill(0, at, at + BLOCKLIST_ENTRY);
  out.writeBigUInt64LE(BigInt(coreLba + 1), first);
  out.writeUInt16LE(sectors - 1, first + 8);
  out.writeUInt16LE(FIRST_LOAD_SEGMENT, first + 10);
  out.fill(0, first - BLOCKLIST_ENTRY, first); // terminator
  return out;
}

/** Reads the blocklist back (for tests and diagnostics). */
export function readCoreBlocklist(core: Buffer): { lba: number; sectors: number; segment: number } {
  const first = SECTOR - BLOCKLIST_ENTRY;
  return { lba: Number(core.readBigUInt64LE(first)), sectors: core.readUInt16LE(first + 8), segment: core.readUInt16LE(first + 10) };
}
