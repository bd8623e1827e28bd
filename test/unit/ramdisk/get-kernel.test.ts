import { parseDebugfsLs, parseFsUuid, partitionOffsets, pickKernel } from '../../../lib/inspect/kernel.js';
import { defaultPrefix } from '../../../lib/cli/actions/get-kernel.js';

const LS = [
  '/12/040755/0/0/.//',
  '/2/040755/0/0/..//',
  '/13/100644/0/0/initrd.img-6.1.0-9-amd64/4/',
  '/14/100644/0/0/vmlinuz-6.1.0-9-amd64/5/',
  '/15/100644/0/0/vmlinuz-6.1.0-10-amd64/5/',
  '/16/100644/0/0/initrd.img-6.1.0-10-amd64/5/',
  '/17/120777/0/0/vmlinuz-9.9.9-link/5/',
  '/18/040755/0/0/grub//',
].join('\n');

test('parseDebugfsLs: names and modes, without . and ..', () => {
  const e = parseDebugfsLs(LS);
  expect(e.map((x) => x.name)).toEqual(['initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'initrd.img-6.1.0-10-amd64', 'vmlinuz-9.9.9-link', 'grub']);
  expect(e[5]?.mode).toBe(0o40755);
});

test('pickKernel: the newest regular kernel file and its initrd (symlinks ignored)', () => {
  expect(pickKernel(parseDebugfsLs(LS))).toEqual({ version: '6.1.0-10-amd64', kernel: 'vmlinuz-6.1.0-10-amd64', initrd: 'initrd.img-6.1.0-10-amd64' });
  expect(pickKernel(parseDebugfsLs('/14/100644/0/0/vmlinuz-6.1/5/'))).toEqual({ version: '6.1', kernel: 'vmlinuz-6.1', initrd: undefined });
  expect(pickKernel([{ name: 'initramfs-6.5.img', mode: 0o100644 }, { name: 'vmlinuz-6.5', mode: 0o100644 }])?.initrd).toBe('initramfs-6.5.img');
  expect(pickKernel([])).toBeUndefined();
});

test('partitionOffsets and parseFsUuid', () => {
  const json = JSON.stringify({ partitiontable: { label: 'dos', sectorsize: 512, partitions: [{ node: 'x1', start: 2048, size: 100 }, { node: 'x2', start: 4096, size: 100 }] } });
  expect(partitionOffsets(json)).toEqual([1048576, 2097152]);
  expect(partitionOffsets('{}')).toEqual([]);
  // Checked against the disk: a table pointing past its end is bad input naming the partition.
  expect(partitionOffsets(json, { bytes: 4096 * 512 + 100 * 512, what: 'image "x"' })).toEqual([1048576, 2097152]);
  expect(() => partitionOffsets(json, { bytes: 4096 * 512, what: 'image "x"' })).toThrow('image "x": partition 2 (bytes 2097152 to 2148352) does not fit in the disk (2097152 bytes)');
  expect(parseFsUuid('Filesystem volume name:   cloudimg-rootfs\nFilesystem UUID:          0f4c7a5e-3b1a-4c1e-9a57-0d2b7c6f9e11\n')).toBe('0f4c7a5e-3b1a-4c1e-9a57-0d2b7c6f9e11');
});

test('defaultPrefix: the image name without its extension', () => {
  expect(defaultPrefix('/x/img.qcow2')).toBe('img');
  expect(defaultPrefix('deploy.raw')).toBe('deploy');
  expect(defaultPrefix('name.tar')).toBe('name.tar');
});

describe('preflight: which hooks are shell scripts', () => {
  test.each([
    ['#!/bin/bash', 'bash'],
    ['#!/bin/sh -eu', 'sh'],
    ['#! /usr/bin/env bash', 'bash'],
    ['#!/usr/bin/dash', 'dash'],
    ['#!/usr/bin/python3', undefined],
    ['#!/usr/bin/env python3', undefined],
    ['echo no shebang', undefined],
  ])('%j → %s', async (line, shell) => {
    const { shebangShell } = await import('../../../lib/build/preflight.js');
    expect(shebangShell(line)).toBe(shell);
  });
});
