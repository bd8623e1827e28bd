/**
 * debian-minimal's initramfs-tools hook (written by pre-install.d/01-dpkg-speedups) leaves MODULES=most's network
 * drivers out of the initramfs, and keeps them whenever the initramfs may use a network: run here on a fake
 * DESTDIR and configuration, as mkinitramfs runs it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinFlavoursDir } from '../../../lib/flavours/discover.js';
import { tempDir } from '../../helpers/tmp.js';

const script = fs.readFileSync(path.join(builtinFlavoursDir(), 'debian-minimal', 'pre-install.d', '01-dpkg-speedups'), 'utf8');
const hookText = /<<'HOOK'\n([\s\S]*?)\nHOOK\n/.exec(script)?.[1] ?? '';
const V = '6.1.0-99-amd64';
const work = tempDir('unit-initramfs-no-net');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function put(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), text);
}

/** Runs the hook on a fresh DESTDIR; whether the network driver is still there afterwards. */
function netDriverKept(opts: { modules?: string; conf?: string; confD?: string; modulesFile?: string; packageHook?: string }): boolean {
  fs.rmSync(work, { recursive: true, force: true });
  put('hook', hookText);
  put(`dest/usr/lib/modules/${V}/kernel/drivers/net/ethernet/e1000e.ko`, 'net');
  put(`dest/usr/lib/modules/${V}/kernel/drivers/block/virtio_blk.ko`, 'block');
  put('conf/initramfs.conf', opts.conf ?? 'MODULES=most\nBUSYBOX=auto\nBOOT=local\nDEVICE=\nNFSROOT=auto\n');
  put('conf/conf.d/kiln-compress.conf', opts.confD ?? 'COMPRESSLEVEL=3\n');
  put('conf/modules', opts.modulesFile ?? '# List of modules that you want to include in your initramfs.\n');
  fs.mkdirSync(path.join(work, 'pkg-hooks'), { recursive: true });
  for (const h of ['fsck', 'udev', 'kmod', ...(opts.packageHook ? [opts.packageHook] : [])]) put(`pkg-hooks/${h}`, '#!/bin/sh\n');
  execFileSync('sh', [path.join(work, 'hook')], {
    env: { PATH: process.env.PATH, MODULES: opts.modules ?? 'most', DESTDIR: path.join(work, 'dest'), version: V, CONFDIR: path.join(work, 'conf'), KILN_TEST_PACKAGE_HOOKS: path.join(work, 'pkg-hooks') },
  });
  expect(fs.existsSync(path.join(work, `dest/usr/lib/modules/${V}/kernel/drivers/block/virtio_blk.ko`))).toBe(true);
  return fs.existsSync(path.join(work, `dest/usr/lib/modules/${V}/kernel/drivers/net/ethernet/e1000e.ko`));
}

test('the hook is in the script', () => {
  expect(hookText).toMatch(/^#!\/bin\/sh\n/);
});

test("MODULES=most and Debian's own configuration: the network drivers go, the disk drivers stay", () => {
  expect(netDriverKept({})).toBe(false);
});

test.each([
  ['MODULES=list (or dep, netboot)', { modules: 'list' }],
  ['BOOT=nfs', { confD: 'BOOT=nfs\n' }],
  ['an IP= setting', { confD: 'IP=192.0.2.10::192.0.2.1:255.255.255.0::eth0:off\n' }],
  ['a DEVICE= setting', { confD: 'DEVICE=eth0\n' }],
  ['a module named in the modules file', { modulesFile: '# comment\ne1000e\n' }],
  ['dropbear-initramfs (unlocking over SSH)', { packageHook: 'dropbear' }],
  ['open-iscsi', { packageHook: 'iscsi' }],
  ['clevis', { packageHook: 'clevis' }],
])('kept with %s', (_what, opts) => {
  expect(netDriverKept(opts)).toBe(true);
});
