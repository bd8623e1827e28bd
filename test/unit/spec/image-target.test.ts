import { partitionNumber } from '../../../lib/spec/targets/image.js';
import { partitionsOf } from '../../../lib/inspect/kernel.js';

test('--root-filesystem: guest device names or a bare number give the partition number', () => {
  expect(partitionNumber('/dev/sda1')).toBe(1);
  expect(partitionNumber('/dev/vda3')).toBe(3);
  expect(partitionNumber('/dev/xvda2')).toBe(2);
  expect(partitionNumber('/dev/nvme0n1p2')).toBe(2);
  expect(partitionNumber('/dev/mmcblk0p1')).toBe(1);
  expect(partitionNumber('2')).toBe(2);
  expect(() => partitionNumber('/dev/sda')).toThrow('--root-filesystem /dev/sda: expected a partition such as /dev/sda1, /dev/vda2 or a partition number');
  expect(() => partitionNumber('0')).toThrow('expected a partition');
  expect(() => partitionNumber('/dev/mapper/root')).toThrow('expected a partition');
});

test('partitions from sfdisk --json: number from the node name, extents in bytes', () => {
  const json = JSON.stringify({
    partitiontable: {
      label: 'gpt',
      sectorsize: 512,
      partitions: [
        { node: 'disk.raw1', start: 2048, size: 2048 },
        { node: 'disk.raw3', start: 266240, size: 1978368 },
      ],
    },
  });
  expect(partitionsOf(json)).toEqual([
    { number: 1, offset: 2048 * 512, size: 2048 * 512 },
    { number: 3, offset: 266240 * 512, size: 1978368 * 512 },
  ]);
});
