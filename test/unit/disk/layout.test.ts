import { layoutOverheadBytes, planPartitions, renderSfdiskScript } from '../../../lib/disk/layout.js';

const MiB = 1024 * 1024;

describe('planPartitions', () => {
  test('mbr: one root partition from 1 MiB to the end', () => {
    const p = planPartitions('mbr', 1024 * MiB, 'deadbeef');
    expect(p.partitions).toEqual([{ role: 'root', number: 1, startSector: 2048, sizeSectors: 1024 * 2048 - 2048 }]);
  });
  test('efi: BIOS boot, ESP, root; 1 MiB left at the end for the backup GPT', () => {
    const p = planPartitions('efi', 1024 * MiB, 'G');
    expect(p.partitions.map((x) => [x.role, x.number, x.startSector, x.sizeSectors])).toEqual([
      ['bios-boot', 1, 2048, 2048],
      ['esp', 2, 4096, 262144],
      ['root', 3, 266240, 1024 * 2048 - 2048 - 266240],
    ]);
  });
  test('efi without BIOS (arm64): ESP and root only, root still the last partition', () => {
    const p = planPartitions('efi', 1024 * MiB, 'G', undefined, false);
    expect(p.partitions.map((x) => [x.role, x.number, x.startSector, x.sizeSectors])).toEqual([
      ['esp', 1, 2048, 262144],
      ['root', 2, 264192, 1024 * 2048 - 2048 - 264192],
    ]);
    expect(renderSfdiskScript(p)).not.toContain('21686148-6449-6E6F-744E-656564454649');
  });
  test.each(['mbr', 'efi'] as const)('%s: partitions are MiB-aligned, ordered and inside the disk', (layout) => {
    const disk = 4096 * MiB;
    const p = planPartitions(layout, disk, 'x');
    let end = 0;
    for (const part of p.partitions) {
      expect(part.startSector % 2048).toBe(0);
      expect(part.startSector).toBeGreaterThanOrEqual(end);
      end = part.startSector + part.sizeSectors;
    }
    expect(end * 512).toBeLessThanOrEqual(disk - (layout === 'efi' ? MiB : 0));
  });
  test('a size that is not whole MiB, or leaves no room, is refused', () => {
    expect(() => planPartitions('mbr', 1024 * MiB + 512, 'x')).toThrow(/whole number of MiB/);
    expect(() => planPartitions('efi', layoutOverheadBytes('efi'), 'x')).toThrow(/no room/);
  });
});

describe('renderSfdiskScript', () => {
  test('mbr', () => {
    expect(renderSfdiskScript(planPartitions('mbr', 100 * MiB, '1a2b3c4d'))).toBe(
      ['label: dos', 'label-id: 0x1a2b3c4d', 'unit: sectors', '', 'start=2048, size=202752, type=83, bootable', ''].join('\n'),
    );
  });
  test('efi', () => {
    expect(renderSfdiskScript(planPartitions('efi', 300 * MiB, 'A361579F-3680-5149-9AF0-E58EB2500FB1'))).toBe(
      [
        'label: gpt',
        'label-id: A361579F-3680-5149-9AF0-E58EB2500FB1',
        'unit: sectors',
        '',
        'start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name="BIOS boot"',
        'start=4096, size=262144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"',
        'start=266240, size=346112, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"',
        '',
      ].join('\n'),
    );
  });
});
