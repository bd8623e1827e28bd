/**
 * qemu-img's disk formats made reproducible: qcow2 written in order, the VHD footer's time and UUID and the
 * vmdk descriptor's CID derived (and the vmdk naming its own file, not kiln's temporary one). Real qemu-img on
 * a small disk, converted twice a second apart from two temporary names.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Format } from '../../../lib/output/formats.js';
import { fixDescriptor } from '../../../lib/output/formats/vmdk.js';
import { stampVhdFooter } from '../../../lib/output/formats/vhd.js';
import { writeFormat } from '../../../lib/output/registry.js';
import { command, describeIf } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-formats-repro');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const E = 1_600_000_000;

test('a VHD footer: time counted from 2000, the UUID, and the one-complement checksum', () => {
  const f = Buffer.alloc(512);
  f.write('conectix', 0, 'latin1');
  stampVhdFooter(f, E, '0b6c2c5e-7f7a-8d1e-9a0b-1c2d3e4f5a6b');
  expect(f.readUInt32BE(24)).toBe(E - 946684800);
  expect(f.subarray(68, 84).toString('hex')).toBe('0b6c2c5e7f7a8d1e9a0b1c2d3e4f5a6b');
  let sum = 0;
  for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += f[i] as number;
  expect(f.readUInt32BE(64)).toBe(~sum >>> 0);
  expect(() => stampVhdFooter(Buffer.alloc(512), E, '0b6c2c5e-7f7a-8d1e-9a0b-1c2d3e4f5a6b')).toThrow(/not a VHD footer/);
});

test("a vmdk descriptor names the output's own file and the derived CID", () => {
  const text = '# Disk DescriptorFile\nversion=1\nCID=ae2e7bdc\nparentCID=ffffffff\ncreateType="streamOptimized"\n# Extent description\nRW 196608 SPARSE ".img.vmdk.kiln-part-12-34"\n';
  const out = fixDescriptor(text, 'img.vmdk', '0123abcd');
  expect(out).toContain('RW 196608 SPARSE "img.vmdk"\n');
  expect(out).toContain('CID=0123abcd\nparentCID=ffffffff\n');
  expect(fixDescriptor(text, 'img.vmdk', undefined)).toContain('CID=ae2e7bdc\n');
});

describeIf(command('qemu-img', 'qemu-utils'))('the same disk converted twice', () => {
  const raw = path.join(work, 'disk.raw');
  beforeAll(() => {
    const data = Buffer.alloc(8 * 2 ** 20);
    // Compressible and incompressible stretches, and a hole.
    for (let i = 0; i < 3 * 2 ** 20; i += 32) crypto.createHash('sha256').update(String(i)).digest().copy(data, i);
    data.fill('kiln ', 4 * 2 ** 20, 7 * 2 ** 20);
    fs.writeFileSync(raw, data);
  });
  const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const convert = async (format: Format, tmpName: string, seed: string) => {
    const dest = path.join(work, tmpName);
    const final = path.join(work, `img.${format}`);
    await writeFormat(format, { tree: '', raw, dest, final, uncompressed: false, qcow2Compression: 'zstd', tools: new Set(), epoch: E, seed }, { label: format });
    return dest;
  };

  test.each(['qcow2', 'vhd', 'vmdk', 'raw'] as const)('%s: the same bytes; another seed, another id', async (format) => {
    const a = await convert(format, `.a.${format}.kiln-part-1-1`, 'seed');
    await new Promise((r) => setTimeout(r, 1100));
    const b = await convert(format, `.b.${format}.kiln-part-2-2`, 'seed');
    expect(sha(b)).toBe(sha(a));
    const info = spawnSync('qemu-img', ['check', a], { encoding: 'utf8' });
    if (format !== 'raw' && format !== 'vhd') expect([info.status, info.stdout]).toEqual([0, expect.stringMatching(/No errors were found/)]);
    const back = path.join(work, `back-${format}.raw`);
    expect(spawnSync('qemu-img', ['convert', '-O', 'raw', a, back]).status).toBe(0);
    expect(sha(back)).toBe(sha(raw));
    if (format === 'vmdk') expect(fs.readFileSync(a).toString('latin1')).toContain(`SPARSE "img.vmdk"`);
    if (format === 'vhd' || format === 'vmdk') expect(sha(await convert(format, `.c.${format}.kiln-part-3-3`, 'other seed'))).not.toBe(sha(a));
  }, 60_000);
});
