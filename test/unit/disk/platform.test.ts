/** Each architecture's disk: the table of lib/disk/platform, and that arm64 never gets x86 pieces. */
import { diskPlatform, layoutFor } from '../../../lib/disk/platform.js';
import { grubModules } from '../../../lib/disk/grub.js';

test.each([
  ['amd64', true, 'x86_64-efi', 'BOOTX64.EFI', 'grubx64.efi', 'console=tty0 console=ttyS0,115200'],
  ['arm64', false, 'arm64-efi', 'BOOTAA64.EFI', 'grubaa64.efi', 'console=ttyAMA0,115200'],
] as const)('%s', (arch, bios, efi, removable, debian, consoles) => {
  const p = diskPlatform(arch);
  expect([p.bios, p.efi, p.removableLoader, p.debianLoader, p.kernelConsole]).toEqual([bios, efi, removable, debian, consoles]);
});

test('arm64 disks are always GPT + ESP; amd64 keeps the layout asked for', () => {
  expect(layoutFor(diskPlatform('arm64'), 'mbr')).toBe('efi');
  expect(layoutFor(diskPlatform('amd64'), 'mbr')).toBe('mbr');
  expect(layoutFor(diskPlatform('amd64'), 'efi')).toBe('efi');
});

test("arm64's GRUB image has no x86 modules", () => {
  expect(grubModules('arm64-efi').filter((m) => ['biosdisk', 'efi_gop', 'all_video'].includes(m))).toEqual([]);
});

test('an architecture without a disk platform is bad input', () => {
  expect(() => diskPlatform('s390x')).toThrow('-a s390x: kiln makes disk images for amd64 and arm64 only');
});
