/**
 * debian-minimal's initramfs-tools configuration file and hook (written by pre-install.d/01-dpkg-speedups) make
 * MODULES=most without its network drivers, and keep MODULES=most whenever the initramfs may use a network: the
 * file is sourced here as mkinitramfs sources it (after hook-functions), and the hook run as mkinitramfs runs it,
 * against a stand-in for /usr/share/initramfs-tools whose hook-functions records what it is asked to add.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtinFlavoursDir } from '../../../lib/flavours/discover.js';
import { tempDir } from '../../helpers/tmp.js';

const script = fs.readFileSync(path.join(builtinFlavoursDir(), 'debian-minimal', 'pre-install.d', '01-dpkg-speedups'), 'utf8');
const heredoc = (tag: string) => new RegExp(`<<'${tag}'\\n([\\s\\S]*?)\\n${tag}\\n`).exec(script)?.[1] ?? '';
const confText = heredoc('CONF');
const hookText = heredoc('HOOK');
const work = tempDir('unit-initramfs-modules');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function put(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), text);
}

/** hook-functions as initramfs-tools 0.142 (bookworm) and 0.148 (trixie) have it, as far as the two files read it. */
const HOOK_FUNCTIONS = `auto_add_modules()
{
	if [ "$#" -eq 0 ] ; then
		set -- base net ide scsi block ata dasd firewire mmc usb_storage fb
	fi
	echo "auto_add_modules $*" >> "$RECORD"
}
hidden_dep_add_modules()
{
	echo hidden_dep_add_modules >> "$RECORD"
}
`;

interface Setup { modules?: string; conf?: string; confD?: Record<string, string>; modulesFile?: string; packageHook?: string; confHook?: string; hookFunctions?: string }

/** A fresh configuration and initramfs-tools share; the environment mkinitramfs gives its configuration and hooks. */
function setUp(o: Setup): NodeJS.ProcessEnv {
  fs.rmSync(work, { recursive: true, force: true });
  put('conf/initramfs.conf', o.conf ?? `MODULES=${o.modules ?? 'most'}\nBUSYBOX=auto\nBOOT=local\nDEVICE=\nNFSROOT=auto\n`);
  put('conf/conf.d/kiln-compress.conf', 'COMPRESSLEVEL=3\n');
  put('conf/conf.d/kiln-modules.conf', confText);
  for (const [name, text] of Object.entries(o.confD ?? {})) put(`conf/conf.d/${name}`, text);
  put('conf/modules', o.modulesFile ?? '# List of modules that you want to include in your initramfs.\n');
  put('share/hook-functions', o.hookFunctions ?? HOOK_FUNCTIONS);
  for (const h of ['fsck', 'udev', 'kmod', ...(o.packageHook ? [o.packageHook] : [])]) put(`share/hooks/${h}`, '#!/bin/sh\n');
  if (o.confHook) put('share/conf-hooks.d/pkg', o.confHook);
  put('hook', hookText);
  put('record', '');
  return { PATH: process.env.PATH, CONFDIR: path.join(work, 'conf'), KILN_TEST_INITRAMFS_SHARE: path.join(work, 'share'), RECORD: path.join(work, 'record') };
}

/** MODULES and KILN_MODULES_MOST after mkinitramfs's reading of the configuration (initramfs.conf, then conf.d). */
function configured(o: Setup, opts: { afterHookFunctions?: boolean } = {}): string {
  const env = setUp(o);
  const read = `${opts.afterHookFunctions === false ? '' : '. "$KILN_TEST_INITRAMFS_SHARE/hook-functions"; '}. "$CONFDIR/initramfs.conf"; for i in "$CONFDIR"/conf.d/*; do . "$i"; done; for i in "$KILN_TEST_INITRAMFS_SHARE"/conf-hooks.d/*; do [ -e "$i" ] && . "$i"; done; echo "$MODULES|\${KILN_MODULES_MOST:-}"`;
  return execFileSync('sh', ['-c', read], { env, encoding: 'utf8' }).trim();
}

const WITHOUT_NET = 'base ide scsi block ata dasd firewire mmc usb_storage fb';

test('both files are in the script', () => {
  expect(confText).toMatch(/^# kiln/);
  expect(hookText).toMatch(/^#!\/bin\/sh\n/);
});

test("MODULES=most and Debian's own configuration: MODULES=list, and the hook is given every class but net", () => {
  expect(configured({})).toBe(`list|${WITHOUT_NET}`);
});

test('inside the initramfs at boot (no hook-functions) the file changes nothing', () => {
  expect(configured({}, { afterHookFunctions: false })).toBe('most|');
});

test.each([
  ['MODULES=dep', { modules: 'dep' }, 'dep|'],
  ['MODULES=list', { modules: 'list' }, 'list|'],
  ['BOOT=nfs', { confD: { nfs: 'BOOT=nfs\n' } }, 'most|'],
  ['an IP= setting', { confD: { ip: 'IP=192.0.2.10::192.0.2.1:255.255.255.0::eth0:off\n' } }, 'most|'],
  ['a DEVICE= setting', { confD: { device: 'DEVICE=eth0\n' } }, 'most|'],
  ['a module named in the modules file', { modulesFile: '# comment\ne1000e\n' }, 'most|'],
  ['dropbear-initramfs (unlocking over SSH)', { packageHook: 'dropbear' }, 'most|'],
  ['open-iscsi', { packageHook: 'iscsi' }, 'most|'],
  ['clevis', { packageHook: 'clevis' }, 'most|'],
  ['another conf.d file setting MODULES (even to most, after this one)', { confD: { 'zz-mine': 'MODULES=most\n' } }, 'most|'],
  ["kiln's own foreign-architecture list (MODULES=list after this file)", { confD: { 'zz-kiln-foreign': 'MODULES=list\n' } }, 'list|'],
  ["a package's conf-hooks.d setting MODULES", { confHook: 'MODULES=dep\n' }, 'dep|'],
  ['a hook-functions whose default classes it cannot read', { hookFunctions: 'auto_add_modules() { :; }\n' }, 'most|'],
])('%s: left as configured', (_what, o, expected) => {
  expect(configured(o)).toBe(expected);
});

function hookAdds(env: NodeJS.ProcessEnv): string[] {
  execFileSync('sh', [path.join(work, 'hook')], { env });
  return fs.readFileSync(path.join(work, 'record'), 'utf8').trim().split('\n').filter((l) => l !== '');
}

test('the hook adds the classes it is given, then their hidden dependencies', () => {
  const env = setUp({});
  expect(hookAdds({ ...env, MODULES: 'list', KILN_MODULES_MOST: WITHOUT_NET })).toEqual([`auto_add_modules ${WITHOUT_NET}`, 'hidden_dep_add_modules']);
});

test.each([
  ['MODULES=most (configured after the file)', { MODULES: 'most', KILN_MODULES_MOST: WITHOUT_NET }],
  ['the file did not act', { MODULES: 'list' }],
])('the hook adds nothing when %s', (_what, vars) => {
  const env = setUp({});
  expect(hookAdds({ ...env, ...vars })).toEqual([]);
});

test('the hook answers prereqs with nothing', () => {
  const env = setUp({});
  expect(execFileSync('sh', [path.join(work, 'hook'), 'prereqs'], { env: { ...env, MODULES: 'list', KILN_MODULES_MOST: WITHOUT_NET }, encoding: 'utf8' })).toBe('');
  expect(fs.readFileSync(path.join(work, 'record'), 'utf8')).toBe('');
});
