/**
 * kiln install on this machine: the dry run prints the preseed (the host's mirror, the SSH key, the
 * packages) and the VM plan; the real Debian installer runs with kiln's preseed appended to its initrd,
 * kiln reports the stages it reaches from the installer's own log, detects the stall where this mirror
 * lacks installer components with its default inactivity window (the error dialog's redraws, keep-alives and
 * repeated log lines are not progress), and fails with exit 1, the stage, the component and a failure
 * bundle, leaving no VM and no output; the second stage on a kiln-built image standing in for a finished install boots it,
 * installs a package over SSH, powers it off and converts it, and the output holds the package.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveMirrors } from '../../../lib/rootfs/mirror.js';
import { IMAGES, SEED, sharedImage, testHome } from '../helpers/images.js';
import { kiln, type Run } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-install');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const qemus = () => spawnSync('pgrep', ['-f', `qemu-system-x86_64.*${work}|qemu-system-x86_64.*kiln-install-`], { encoding: 'utf8' }).stdout.trim();
const installDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('kiln-install-'));

// The real installer runs with kiln's defaults (no --inactivity: the stall is 300 s of no progress), in the
// background from the start of the file: while it waits out that window at an error dialog (an idle VM),
// the second stage runs beside it.
let installerRun: Promise<Run> | undefined;
let dirsBefore: string[] = [];
const installerOut = path.join(work, 'installer', 'deb');
beforeAll(() => {
  dirsBefore = installDirs();
  fs.mkdirSync(path.dirname(installerOut));
  installerRun = kiln(['install', '--os', 'debian12', '-o', installerOut, '--ssh-key', testHome().key, '--timeout', '1800'], { timeoutMs: 35 * 60_000 });
});

test('--dry-run prints the preseed with the host mirror, the SSH key and the packages, and the VM plan', async () => {
  const { key } = testHome();
  const r = await kiln(['install', '--os', 'debian12', '-o', path.join(work, 'dry'), '--ssh-key', key, '--packages', 'less,curl', '--dry-run']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const host = new URL(resolveMirrors(undefined, {}).mirror).host;
  expect(r.stdout).toContain(`d-i mirror/http/hostname string ${host}`);
  expect(r.stdout).toContain('d-i mirror/suite string bookworm');
  expect(r.stdout).toMatch(/d-i pkgsel\/include string openssh-server less curl/);
  const b64 = /echo (\S+) > \/target\/root\/\.ssh\/authorized_keys\.b64/.exec(r.stdout)?.[1] ?? '';
  expect(Buffer.from(b64, 'base64').toString()).toBe(fs.readFileSync(`${key}.pub`, 'utf8'));
  expect(r.stdout).toContain('d-i debian-installer/exit/poweroff boolean true');
  expect(r.stdout).toMatch(/installer: \/usr\/lib\/debian-installer\/images\/12\/amd64\/text\/debian-installer\/amd64\/linux/);
  expect(r.stdout).toMatch(/kernel command line: auto=true priority=critical .*log_host=10\.0\.2\.2 log_port=\d+ console=ttyS0/);
  expect(r.stdout).toMatch(/memory: 1024 MiB .*disk: 10 GiB/s);
  expect(fs.readdirSync(work).filter((n) => n !== 'installer')).toEqual([]);
});

test('bad input: an unknown OS, a key without .pub, a bad host name: exit 2, one line, nothing started', async () => {
  const { key } = testHome();
  const unknown = await kiln(['install', '--os', 'debian99', '-o', path.join(work, 'x'), '--ssh-key', key, '--dry-run']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/--os debian99: not in libosinfo's database.*did you mean/);
  fs.writeFileSync(path.join(work, 'lonely'), 'not a key');
  const nopub = await kiln(['install', '--os', 'debian12', '-o', path.join(work, 'x'), '--ssh-key', path.join(work, 'lonely'), '--dry-run']);
  expect(nopub.code).toBe(2);
  expect(nopub.stderr).toMatch(/its public key .*lonely\.pub does not exist/);
  const host = await kiln(['install', '--os', 'debian12', '-o', path.join(work, 'x'), '--ssh-key', key, '--hostname', 'bad_name', '--dry-run']);
  expect(host.code).toBe(2);
  expect(host.stderr).toMatch(/--hostname "bad_name"/);
  fs.rmSync(path.join(work, 'lonely'));
});

test('the second stage on a kiln-built image: boot, SSH, install a package, power off, convert; the output holds it', async () => {
  const { key } = testHome();
  const img = await sharedImage(SEED);
  const out = path.join(work, 'second');
  const r = await kiln(['install', '--os', 'debian13', '--installed', `${img}.qcow2`, '-o', out, '--ssh-key', key, '--packages', 'less', '--checksum'], { timeoutMs: 20 * 60_000 });
  if (r.code !== 0) throw new Error(`kiln install --installed failed (${r.code}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  expect(fs.existsSync(`${out}.qcow2`)).toBe(true);
  expect(spawnSync('sha256sum', ['-c', `${out}.qcow2.sha256`], { cwd: work }).status).toBe(0);
  const manifest = fs.readFileSync(`${out}.manifest.json`, 'utf8');
  expect(manifest).toContain('"less"');
  // The converted output, inspected offline (the seed image it came from is booted by image/vm.test.ts):
  // dpkg in the image knows the package and its binary is there.
  fs.writeFileSync(path.join(work, 'less.yaml'), 'validators:\n  - package: less\n  - script: {binary: {inline: "test -x /usr/bin/less"}}\n');
  const check = await kiln(['pack', '--image', `${out}.qcow2`, '--test-only', path.join(work, 'less.yaml')]);
  expect([check.code, check.stderr]).toEqual([0, expect.not.stringMatching(/error/)]);
});

test('the real Debian installer with kiln\'s defaults: stages from its log, the stall at the missing installer components reported within the inactivity window (300 s) plus one sampling period of the last progress, exit 1, a failure bundle, nothing left', async () => {
  const r = await (installerRun as Promise<Run>);
  fs.writeFileSync(path.join(IMAGES, 'install.log'), `${r.stdout}\n${r.stderr}`);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/stage: network \(\d+ s\)/);
  expect(r.stdout).toMatch(/stage: mirror \(\d+ s\)/);
  const stalled = /the installer stalled at stage "installer components": no disk, network, console or installer-log activity for (\d+) s; it could not fetch \S+/.exec(r.stderr);
  expect(stalled).not.toBeNull();
  // Reported once the window is over, within one sampling period (5 s) and a sample's own time.
  expect(Number(stalled?.[1])).toBeGreaterThanOrEqual(300);
  expect(Number(stalled?.[1])).toBeLessThanOrEqual(300 + 5 + 5);
  const bundle = `${installerOut}.install-failure`;
  expect(fs.readdirSync(bundle).sort()).toEqual(['activity.txt', 'console.log', 'installer.log', 'preseed.cfg', 'report.txt']);
  expect(fs.readFileSync(path.join(bundle, 'report.txt'), 'utf8')).toMatch(/last stage: installer components/);
  expect(fs.readFileSync(path.join(bundle, 'activity.txt'), 'utf8')).toMatch(/disk read\s+disk write\s+network/);
  expect(fs.readFileSync(path.join(bundle, 'installer.log'), 'utf8')).toMatch(/main-menu/);
  expect(fs.existsSync(`${installerOut}.qcow2`)).toBe(false);
  expect(qemus()).toBe('');
  expect(installDirs()).toEqual(dirsBefore);
}, 40 * 60_000);

