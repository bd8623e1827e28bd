/**
 * Image files are judged by their own bytes before any tool opens them: real images made by qemu-img in
 * every format and subformat it writes, with and without references to other files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readDiskInfo } from '../../../lib/boot/image.js';
import { inspectImageFile, selfContainedDisk } from '../../../lib/inspect/image-file.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('image-file');
const base = path.join(dir, 'base.raw');
fs.writeFileSync(base, Buffer.alloc(2 * 1024 * 1024));

function make(name: string, args: string[]): string {
  const file = path.join(dir, name);
  const r = spawnSync('qemu-img', ['create', '-q', ...args, file, '16M'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create ${name}: ${r.stderr}`);
  return file;
}

describe('self-contained images: the format from the bytes, nothing referred to', () => {
  test.each([
    ['qcow2', ['-f', 'qcow2'], 'qcow2'],
    ['qcow2 v2 (compat=0.10)', ['-f', 'qcow2', '-o', 'compat=0.10'], 'qcow2'],
    ['vmdk monolithicSparse', ['-f', 'vmdk'], 'vmdk'],
    ['vmdk streamOptimized', ['-f', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk'],
    ['vhd dynamic', ['-f', 'vpc'], 'vpc'],
    ['vhd fixed', ['-f', 'vpc', '-o', 'subformat=fixed'], 'vpc'],
    ['raw', ['-f', 'raw'], 'raw'],
  ])('%s', (name, args, format) => {
    const file = make(`${name.replace(/\W+/g, '-')}.img`, args);
    expect(inspectImageFile(file)).toEqual({ format, references: [], bytes: fs.statSync(file).size });
    expect(selfContainedDisk(file, 'image').format).toBe(format);
  });
});

describe('images that refer to other files are refused (exit 2) naming the reference', () => {
  test.each([
    ['qcow2 with a backing file', ['-f', 'qcow2', '-b', base, '-F', 'raw'], [`backing file "${base}"`]],
    ['qcow2 with an external data file', ['-f', 'qcow2', '-o', `data_file=${path.join(dir, 'data.raw')}`], [`external data file "${path.join(dir, 'data.raw')}"`]],
    ['qed with a backing file', ['-f', 'qed', '-b', base, '-F', 'raw'], [`backing file "${base}"`]],
  ])('%s', (name, args, references) => {
    const file = make(`${name.replace(/\W+/g, '-')}.img`, args);
    expect(inspectImageFile(file).references).toEqual(references);
    const e = (() => {
      try {
        selfContainedDisk(file, 'image');
      } catch (err) {
        return err as { exitCode: number; message: string };
      }
      throw new Error('not refused');
    })();
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`image "${file}"`);
    expect(e.message).toContain(references[0]);
  });

  test('a vmdk with a parent, and vmdk descriptor files (monolithicFlat, twoGbMaxExtentSparse) whose extents are other files', () => {
    const parent = make('parent.vmdk', ['-f', 'vmdk']);
    const child = make('child.vmdk', ['-f', 'vmdk', '-b', parent, '-F', 'vmdk']);
    expect(inspectImageFile(child).references).toEqual([`parent "${parent}"`]);
    const flat = make('flat.vmdk', ['-f', 'vmdk', '-o', 'subformat=monolithicFlat']);
    expect(inspectImageFile(flat)).toMatchObject({ format: 'vmdk', references: ['extent "flat-flat.vmdk"'] });
    const split = make('split.vmdk', ['-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse']);
    expect(inspectImageFile(split).references).toEqual(['extent "split-s001.vmdk"']);
    // A descriptor naming a host file directly.
    const evil = path.join(dir, 'evil.vmdk');
    fs.writeFileSync(evil, '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "/etc/shadow" 0\n');
    expect(() => selfContainedDisk(evil, 'image')).toThrow('refers to other files: extent "/etc/shadow"');
  });

  test('a VHD differencing disk names its parent', () => {
    const footer = Buffer.alloc(512);
    footer.write('conectix', 0, 'latin1');
    footer.writeBigUInt64BE(512n, 16);
    footer.writeUInt32BE(4, 60);
    const dyn = Buffer.alloc(1024);
    dyn.write('cxsparse', 0, 'latin1');
    Buffer.from('C:\\base.vhd', 'utf16le').swap16().copy(dyn, 64);
    const file = path.join(dir, 'diff.vhd');
    fs.writeFileSync(file, Buffer.concat([footer, dyn, footer]));
    expect(inspectImageFile(file)).toMatchObject({ format: 'vpc', references: ['parent "C:\\base.vhd"'] });
  });

  test('formats kiln does not read are refused by name, not read as raw', () => {
    for (const [format, args] of [['vhdx', ['-f', 'vhdx']], ['vdi', ['-f', 'vdi']], ['qed', ['-f', 'qed']]] as const) {
      const file = make(`other.${format}`, [...args]);
      expect(() => selfContainedDisk(file, 'image')).toThrow(`image "${file}" is a ${format} image (kiln reads qcow2, raw, vpc, vmdk)`);
    }
  });

  test('--allow-backing-file (an overlay to boot): a backing chain of self-contained images passes; a data file down the chain, or a missing backing file, does not', () => {
    const overlay = make('overlay.qcow2', ['-f', 'qcow2', '-b', base, '-F', 'raw']);
    expect(selfContainedDisk(overlay, 'IMAGE', { allowBacking: true }).format).toBe('qcow2');
    const top = make('top.qcow2', ['-f', 'qcow2', '-b', overlay, '-F', 'qcow2']);
    expect(selfContainedDisk(top, 'IMAGE', { allowBacking: true }).format).toBe('qcow2');
    const withData = make('backed-by-data.qcow2', ['-f', 'qcow2', '-o', `data_file=${path.join(dir, 'data2.raw')}`]);
    const onData = make('on-data.qcow2', ['-f', 'qcow2', '-b', withData, '-F', 'qcow2']);
    expect(() => selfContainedDisk(onData, 'IMAGE', { allowBacking: true })).toThrow(`the backing file of "${onData}" "${withData}" (qcow2) refers to other files: external data file`);
    const gone = path.join(dir, 'gone.raw');
    fs.writeFileSync(gone, Buffer.alloc(1 << 20));
    const orphan = make('orphan.qcow2', ['-f', 'qcow2', '-b', gone, '-F', 'raw']);
    fs.rmSync(gone);
    expect(() => selfContainedDisk(orphan, 'IMAGE', { allowBacking: true })).toThrow(`its backing file "${gone}" does not exist`);
  });

  test('readDiskInfo refuses before qemu-img reads anything', async () => {
    const file = make('backed.qcow2', ['-f', 'qcow2', '-b', base, '-F', 'raw']);
    await expect(readDiskInfo(file, 'publish')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringContaining(`backing file "${base}"`) });
  });
});
