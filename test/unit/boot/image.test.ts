import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { detectDisk, parseImageInfo } from '../../../lib/boot/image.js';
import { tempDir } from '../../helpers/tmp.js';

describe('parseImageInfo', () => {
  test.each(['qcow2', 'raw', 'vpc', 'vmdk'])('%s', (format) => {
    expect(parseImageInfo(JSON.stringify({ format, filename: 'x' }), 'x', 'IMAGE')).toBe(format);
  });
  test('an unsupported format names the image and the formats kiln boots', () => {
    expect(() => parseImageInfo('{"format":"vdi"}', 'disk.img', 'IMAGE')).toThrow('IMAGE "disk.img" is in format "vdi" (kiln boots qcow2, raw, vpc, vmdk)');
  });
  test('not JSON', () => {
    expect(() => parseImageInfo('oops', 'd', '--disk')).toThrow(/--disk "d": qemu-img printed no JSON/);
  });
});

describe('detectDisk reads the format from the file, not its name', () => {
  const dir = tempDir('unit-img');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  test('a qcow2 named .raw is qcow2; a raw named .qcow2 is raw', async () => {
    const q = path.join(dir, 'looks.raw');
    const r = path.join(dir, 'looks.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', q, '16M']).status).toBe(0);
    fs.writeFileSync(r, Buffer.alloc(1024 * 1024));
    const before = fs.readFileSync(q);
    await expect(detectDisk(q, 'IMAGE')).resolves.toEqual({ file: q, format: 'qcow2' });
    await expect(detectDisk(r, 'IMAGE')).resolves.toEqual({ file: r, format: 'raw' });
    expect(fs.readFileSync(q).equals(before)).toBe(true);
  });
});
