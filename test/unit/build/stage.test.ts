/**
 * The staged hooks directory, laid out like diskimage-builder's, and the commands elements call from it:
 * pkg-map, svc-map, get_image_element_array and dib-run-parts run as the hooks run them (bash, no root).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stageHooks, stageNameMaps } from '../../../lib/build/stage.js';
import { sourcedEnvironment, type HookContext } from '../../../lib/hooks/run.js';
import type { BuildPlan, PlannedFlavour } from '../../../lib/plan/build-plan.js';
import { writeFlavour } from '../helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('unit-stage');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function flavour(name: string, files: PlannedFlavour['files'] = {}): PlannedFlavour {
  return { name, dir: path.join(root, 'flavours', name), reason: { kind: 'named' }, why: 'named', summary: undefined, files, overrides: [] };
}

const fl = path.join(root, 'flavours');
writeFlavour(path.join(fl, 'one'), { hooks: { 'install.d': { '50-one': 'exec', 'unit.service': 'plain' }, 'extra.d': { 'x.conf': 'plain' } }, environment: { '10-one': 'export ONE=1\n' } });
fs.mkdirSync(path.join(fl, 'one', 'static', 'usr', 'local', 'sbin'), { recursive: true });
fs.writeFileSync(path.join(fl, 'one', 'static', 'usr', 'local', 'sbin', 'tool'), '#!/bin/sh\n', { mode: 0o750 });
fs.symlinkSync('tool', path.join(fl, 'one', 'static', 'usr', 'local', 'sbin', 'tool-link'));
fs.mkdirSync(path.join(fl, 'one', 'init-scripts', 'systemd'), { recursive: true });
fs.writeFileSync(path.join(fl, 'one', 'init-scripts', 'systemd', 'one.service'), '[Unit]\n');
fs.writeFileSync(path.join(fl, 'one', 'pkg-map'), JSON.stringify({ family: { debian: { growpart: 'cloud-utils', gone: '' } } }));
fs.writeFileSync(path.join(fl, 'one', 'svc-map'), 'ssh:\n  default: sshd\n  debian: ssh\n');
writeFlavour(path.join(fl, 'two'), { hooks: { 'install.d': { 'unit.service': '# two wins\n' } } });
fs.mkdirSync(path.join(fl, 'two', 'static', 'etc'), { recursive: true });
fs.writeFileSync(path.join(fl, 'two', 'static', 'etc', 'two.conf'), 'two\n');
fs.mkdirSync(path.join(fl, 'two', 'bin'));
fs.writeFileSync(path.join(fl, 'two', 'bin', 'two-tool'), '#!/bin/sh\necho two\n', { mode: 0o755 });

const plan = {
  kind: 'disk',
  flavours: [flavour('one', { pkgMap: path.join(fl, 'one', 'pkg-map'), svcMap: path.join(fl, 'one', 'svc-map') }), flavour('two')],
  phases: [{ name: 'install.d', where: 'chroot', runs: true, hooks: [{ name: '50-one', flavour: 'one', path: path.join(fl, 'one', 'install.d', '50-one'), where: 'chroot' }] }],
  environment: [{ flavour: 'one', path: path.join(fl, 'one', 'environment.d', '10-one') }],
} as unknown as BuildPlan;

const hooks = path.join(root, 'hooks');
const { envFiles } = stageHooks(plan, hooks);
stageNameMaps(plan, hooks, { DISTRO_NAME: 'debian', DIB_RELEASE: 'bookworm' });
const bash = (script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: `${hooks}/bin:${hooks}/helpers:/usr/bin:/bin`, DISTRO_NAME: 'debian', DIB_RELEASE: 'bookworm', ...env } });

test('hooks, the files beside them (later flavours win), environment.d, bin/ and merged trees are staged', () => {
  expect(fs.statSync(path.join(hooks, 'install.d', '50-one')).mode & 0o111).not.toBe(0);
  expect(fs.readFileSync(path.join(hooks, 'install.d', 'unit.service'), 'utf8')).toBe('# two wins\n');
  expect(fs.existsSync(path.join(hooks, 'extra.d', 'x.conf'))).toBe(true);
  expect(envFiles).toEqual(['10-one']);
  expect(fs.statSync(path.join(hooks, 'static', 'usr', 'local', 'sbin', 'tool')).mode & 0o777).toBe(0o750);
  expect(fs.readlinkSync(path.join(hooks, 'static', 'usr', 'local', 'sbin', 'tool-link'))).toBe('tool');
  expect(fs.existsSync(path.join(hooks, 'static', 'etc', 'two.conf'))).toBe(true);
  expect(fs.existsSync(path.join(hooks, 'init-scripts', 'systemd', 'one.service'))).toBe(true);
  expect(bash('two-tool').stdout).toBe('two\n');
});

describe('pkg-map (kiln\'s flavour command over the resolved maps)', () => {
  const pkgMap = path.join(process.cwd(), 'flavours', 'pkg-map', 'bin', 'pkg-map');
  beforeAll(() => fs.copyFileSync(pkgMap, path.join(hooks, 'bin', 'pkg-map')));
  test('maps, drops names mapped to "", prefixes', () => {
    const r = bash('pkg-map --element one --prefix - growpart gone');
    expect([r.status, r.stdout]).toEqual([0, '-cloud-utils\n']);
  });
  test('an unmapped name: exit 1 naming it, or passed through with --missing-ok', () => {
    expect(bash('pkg-map --element one vim').status).toBe(1);
    expect(bash('pkg-map --element one vim').stderr).toContain('one has no valid mapping for package vim');
    expect(bash('pkg-map --missing-ok --element one vim growpart').stdout).toBe('vim\ncloud-utils\n');
  });
  test('a flavour without a map: exit 2, or every name with --missing-ok; no --element: exit 1', () => {
    expect(bash('pkg-map --element two vim').status).toBe(2);
    expect(bash('pkg-map --element two --missing-ok vim').stdout).toBe('vim\n');
    expect(bash('pkg-map vim').status).toBe(1);
    expect(bash('pkg-map --element one --distro fedora growpart').status).toBe(2);
  });
  // What diskimage-builder's pkg-map does with the JSON maps (the pkg-map flavour copies them into the image).
  const json = path.join(root, 'maps.json');
  fs.writeFileSync(json, JSON.stringify({ default: { web: 'httpd', vim: 'vim' }, family: { debian: { web: 'apache2' }, redhat: { vim: 'vim-enhanced' } }, distro: { ubuntu: { web: 'apache2-bin' } }, release: { debian: { trixie: { web: 'apache2 apache2-utils' } } } }));
  test('--pkg-map FILE: default, family, distro and release, later winning, for the build\'s or another distribution', () => {
    expect(bash(`pkg-map --pkg-map ${json} web vim`).stdout).toBe('apache2\nvim\n');
    expect(bash(`pkg-map --pkg-map ${json} --distro fedora web vim`).stdout).toBe('httpd\nvim-enhanced\n');
    expect(bash(`pkg-map --pkg-map ${json} --distro ubuntu web`).stdout).toBe('apache2-bin\n');
    expect(bash(`pkg-map --pkg-map ${json} --release trixie web`).stdout).toBe('apache2\napache2-utils\n');
    const missing = bash(`pkg-map --pkg-map ${json} nano`);
    expect([missing.status, missing.stderr]).toEqual([1, `pkg-map: <${json}> has no valid mapping for package nano\n`]);
    expect(bash(`pkg-map --pkg-map ${root}/none.json vim`).status).toBe(2);
    expect(bash(`pkg-map --pkg-map ${json} --element one vim`).status).toBe(1);
  });
  test('in the finished image (no staged maps): the map the flavour copied to /usr/share/pkg-map', () => {
    const image = path.join(root, 'image');
    fs.mkdirSync(path.join(image, 'usr', 'local', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(image, 'usr', 'share', 'pkg-map'), { recursive: true });
    fs.copyFileSync(pkgMap, path.join(image, 'usr', 'local', 'bin', 'pkg-map'));
    fs.copyFileSync(json, path.join(image, 'usr', 'share', 'pkg-map', 'web'));
    const r = bash(`${image}/usr/local/bin/pkg-map --element web web`, { TARGET_ROOT: image });
    expect([r.status, r.stdout]).toEqual([0, 'apache2\n']);
    expect(bash(`${image}/usr/local/bin/pkg-map --element other web`, { TARGET_ROOT: image }).status).toBe(2);
  });
});

test('svc-map prints the distribution\'s service names', () => {
  fs.copyFileSync(path.join(process.cwd(), 'flavours', 'svc-map', 'bin', 'svc-map'), path.join(hooks, 'bin', 'svc-map'));
  expect(bash('svc-map ssh cron').stdout).toBe('ssh\ncron\n');
});

test('get_image_element_array feeds an associative array of flavour → directory', () => {
  const r = bash('eval declare -A e=($(get_image_element_array)); for k in "${!e[@]}"; do echo "$k=${e[$k]}"; done | sort');
  expect(r.stdout).toBe(`one=${path.join(fl, 'one')}\ntwo=${path.join(fl, 'two')}\n`);
});

test('the staged dib-run-parts is on PATH: sources ../environment.d, runs executables in order, stops at the first failure (more in hooks/dib-run-parts)', () => {
  const d = path.join(root, 'parts', 'run.d');
  fs.mkdirSync(path.join(root, 'parts', 'environment.d'), { recursive: true });
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(root, 'parts', 'environment.d', '10-v'), 'export V=from-env\n');
  fs.writeFileSync(path.join(d, '20-b'), '#!/bin/bash\necho "b $V"\nexit 3\n', { mode: 0o755 });
  fs.writeFileSync(path.join(d, '10-a'), '#!/bin/bash\necho "a $V"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(d, '30-c'), '#!/bin/bash\necho c\n', { mode: 0o755 });
  fs.writeFileSync(path.join(d, '15-skipped.sh'), '#!/bin/bash\necho skipped\n', { mode: 0o755 });
  const r = bash(`dib-run-parts ${d}`);
  expect(r.status).toBe(3);
  expect(r.stdout).toBe('a from-env\nb from-env\n');
  expect(r.stderr).toContain(`${d}/20-b exited 3`);
});

describe('sourcedEnvironment', () => {
  const ctx = (files: string[]): HookContext => ({ root, hooksDir: hooks, envFiles: files, env: { PATH: '/usr/bin:/bin', BASE: 'b' }, log: undefined as never });
  test('the environment after every environment.d file', async () => {
    const env = await sourcedEnvironment(ctx(['10-one']), plan.environment);
    expect(env.ONE).toBe('1');
    expect(env.BASE).toBe('b');
  });
  test('a file that fails is bad input naming its flavour and what it said', async () => {
    fs.writeFileSync(path.join(hooks, 'environment.d', '99-bad'), 'echo "DIB_INIT_SYSTEM is wrong"\nreturn 1\n');
    const planned = [...plan.environment, { flavour: 'dib-init-system', path: '/x/environment.d/99-bad' }];
    await expect(sourcedEnvironment(ctx(['10-one', '99-bad']), planned)).rejects.toMatchObject({ kind: 'invalid', message: '[dib-init-system] environment.d/99-bad exited 1: DIB_INIT_SYSTEM is wrong' });
  });
});

test('$_LIB/img-functions: select_boot_kernel_initrd picks the newest kernel and initrd (or the patterns), under set -eu', () => {
  const tree = path.join(root, 'tree');
  fs.mkdirSync(path.join(tree, 'boot'), { recursive: true });
  for (const f of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-27-amd64', 'initrd.img-6.1.0-9-amd64', 'initrd.img-6.1.0-27-amd64', 'config-6.1.0-27-amd64']) fs.writeFileSync(path.join(tree, 'boot', f), '');
  const pick = (env: Record<string, string> = {}) => bash(`set -eu -o pipefail; . ${hooks}/lib/img-functions; select_boot_kernel_initrd ${tree}; echo "$KERNEL:$RAMDISK:$BOOTDIR"`, env);
  expect(pick().stdout).toBe(`vmlinuz-6.1.0-27-amd64:initrd.img-6.1.0-27-amd64:${tree}/boot\n`);
  expect(pick({ DIB_BAREMETAL_KERNEL_PATTERN: 'vmlinuz-*-9-*', DIB_BAREMETAL_INITRD_PATTERN: 'initrd.img-*-9-*' }).stdout).toBe(`vmlinuz-6.1.0-9-amd64:initrd.img-6.1.0-9-amd64:${tree}/boot\n`);
  const none = bash(`set -eu -o pipefail; . ${hooks}/lib/img-functions; select_boot_kernel_initrd ${root}/nowhere`);
  expect(none.status).not.toBe(0);
  expect(none.stderr).toContain('no kernel (vmlinu*) or initrd (initrd*)');
  const unmatched = bash(`set -eu -o pipefail; . ${hooks}/lib/img-functions; select_boot_kernel_initrd ${tree}`, { DIB_BAREMETAL_KERNEL_PATTERN: 'bzImage*', DIB_BAREMETAL_INITRD_PATTERN: 'initrd*' });
  expect(unmatched.stderr).toContain('no kernel (bzImage*) or initrd (initrd*)');
});
