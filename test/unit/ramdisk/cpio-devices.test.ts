/**
 * The initramfs's device nodes without mknod: empty files staged in their place become character devices in
 * the newc archive (as cpio itself lists them); a non-empty file of that name, and other entries, are left alone.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { patchDeviceEntries, patchDeviceFile, RAMDISK_DEVICES } from '../../../lib/ramdisk/cpio-devices.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('cpio-devices');

function archive(files: Record<string, string>): string {
  const staging = path.join(dir, `s${Math.random().toString(36).slice(2)}`);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(staging, name)), { recursive: true });
    fs.writeFileSync(path.join(staging, name), text);
  }
  const out = `${staging}.cpio`;
  const list = ['.', ...Object.keys(files).flatMap((f) => [path.dirname(f), f])].filter((v, i, a) => a.indexOf(v) === i).sort();
  const r = spawnSync('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0', '--reproducible', '-F', out], { cwd: staging, input: `${list.join('\n')}\n` });
  expect(r.status).toBe(0);
  return out;
}

const listing = (file: string) =>
  spawnSync('cpio', ['-itv', '--quiet', '-F', file], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[0]} ${f.slice(4, 6).join(' ')} ${f[f.length - 1]}`);

test('empty dev/console and dev/null become crw------- 5,1 and crw-rw-rw- 1,3; other entries stay', () => {
  const file = archive({ 'dev/console': '', 'dev/null': '', 'init': '#!/bin/sh\n', 'etc/empty': '' });
  expect(patchDeviceFile(file, RAMDISK_DEVICES)).toEqual(['dev/console', 'dev/null']);
  const l = listing(file);
  expect(l.find((x) => x.endsWith(' dev/console'))).toMatch(/^crw------- 5, 1 dev\/console$/);
  expect(l.find((x) => x.endsWith(' dev/null'))).toMatch(/^crw-rw-rw- 1, 3 dev\/null$/);
  expect(l.find((x) => x.endsWith(' etc/empty'))).toMatch(/^-rw/);
  expect(l.find((x) => x.endsWith(' init'))).toMatch(/^-rw/);
});

test('a non-empty file of a device\'s name is not a placeholder: left alone, and the archive unchanged', () => {
  const file = archive({ 'dev/console': 'not empty\n', 'a': 'x' });
  const before = fs.readFileSync(file);
  expect(patchDeviceFile(file, RAMDISK_DEVICES)).toEqual([]);
  expect(fs.readFileSync(file)).toEqual(before);
});

test('something that is not a newc archive is refused', () => {
  expect(() => patchDeviceEntries(Buffer.from('not a cpio archive at all'), RAMDISK_DEVICES)).toThrow(/not a newc cpio entry at byte 0/);
});
