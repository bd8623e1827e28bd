/**
 * debian-minimal's initramfs memo (finalise.d/10-initramfs) reuses an initramfs only when bin/kiln-initramfs-inputs
 * prints the same lines: run here on a small fake tree (--root), every true input must change its group's digest —
 * a module file, initramfs.conf, a hook of initramfs-tools, the kernel image, the kernel package's version, a
 * program the hooks copy in, an /etc file initramfs-tools names — and what mkinitramfs never reads must not.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinFlavoursDir } from '../../../lib/flavours/discover.js';
import { tempDir } from '../../helpers/tmp.js';

const helper = path.join(builtinFlavoursDir(), 'debian-minimal', 'bin', 'kiln-initramfs-inputs');
const V = '6.1.0-99-amd64';
const work = tempDir('unit-initramfs-inputs');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const status = (kernelVersion: string) =>
  ['linux-image-' + V, 'initramfs-tools', 'busybox']
    .map((p, i) => `Package: ${p}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${i === 0 ? kernelVersion : '1.0'}\nMaintainer: t\nDescription: t\n`)
    .join('\n');

function put(rel: string, text: string, mode = 0o644): void {
  const f = path.join(work, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text, { mode });
}

function inputs(): Record<string, string> {
  const out = execFileSync(helper, ['--root', work, V], { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

beforeAll(() => {
  put(`boot/vmlinuz-${V}`, 'kernel image 1');
  put(`boot/config-${V}`, 'CONFIG_EXT4_FS=y\n');
  put(`lib/modules/${V}/kernel/drivers/virtio_blk.ko`, 'module 1');
  put(`lib/modules/${V}/modules.dep`, 'kernel/drivers/virtio_blk.ko:\n');
  put('etc/initramfs-tools/initramfs.conf', 'MODULES=most\nCOMPRESS=zstd\n');
  put('usr/share/initramfs-tools/hooks/fsck', '#!/bin/sh\n# reads /etc/fstab and /etc/kiln-test-named.conf\n', 0o755);
  put('etc/fstab', '# empty\n');
  put('etc/kiln-test-named.conf', 'a\n');
  put('etc/bench-late', 'edition 1\n');
  put('usr/bin/busybox', 'busybox 1', 0o755);
  put('usr/share/doc/busybox/copyright', 'c');
  put('var/lib/dpkg/status', status('6.1.99-1'));
  fs.mkdirSync(path.join(work, 'var/lib/dpkg/info'), { recursive: true });
  fs.writeFileSync(path.join(work, 'var/lib/dpkg/available'), '');
});

const cases: [string, () => void, string | undefined][] = [
  ['a module file changed', () => put(`lib/modules/${V}/kernel/drivers/virtio_blk.ko`, 'module 2'), 'modules'],
  ['a module added', () => put(`lib/modules/${V}/kernel/drivers/extra.ko`, 'new'), 'modules'],
  ['initramfs.conf changed', () => put('etc/initramfs-tools/initramfs.conf', 'MODULES=dep\nCOMPRESS=zstd\n'), 'config'],
  ['a conf.d file added', () => put('etc/initramfs-tools/conf.d/resume', 'RESUME=none\n'), 'config'],
  ['an initramfs-tools hook changed', () => put('usr/share/initramfs-tools/hooks/fsck', '#!/bin/sh\n# reads /etc/fstab and /etc/kiln-test-named.conf\n:\n', 0o755), 'config'],
  ['a modprobe.d option added', () => put('etc/modprobe.d/blacklist.conf', 'blacklist floppy\n'), 'config'],
  ['an /etc file a hook names changed', () => put('etc/kiln-test-named.conf', 'b\n'), 'config'],
  ['/etc/fstab changed', () => put('etc/fstab', 'LABEL=root / ext4 defaults 0 1\n'), 'config'],
  ['the kernel image changed', () => put(`boot/vmlinuz-${V}`, 'kernel image 2'), 'kernel'],
  ['the kernel package version changed', () => put('var/lib/dpkg/status', status('6.1.99-2')), 'packages'],
  ['a program the hooks copy in changed', () => put('usr/bin/busybox', 'busybox 2', 0o755), 'programs'],
  ['a program mode changed', () => fs.chmodSync(path.join(work, 'usr/bin/busybox'), 0o700), 'programs'],
  ['firmware added', () => put('lib/firmware/fw.bin', 'fw'), 'firmware'],
  ['a late hook wrote an /etc file initramfs-tools never reads', () => put('etc/bench-late', 'edition 2\n'), undefined],
  ['documentation changed', () => put('usr/share/doc/busybox/copyright', 'd'), undefined],
];

test.each(cases)('%s: changes %s only', (_what, change, group) => {
  const before = inputs();
  expect(Object.keys(before)).toEqual(['kernel', 'modules', 'firmware', 'config', 'programs', 'packages']);
  change();
  const after = inputs();
  const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
  expect(changed).toEqual(group ? [group] : []);
});

test('the same tree gives the same lines (a stable digest)', () => {
  expect(inputs()).toEqual(inputs());
});
