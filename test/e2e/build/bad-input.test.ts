/**
 * Bad input, table-driven, across commands, as root on this machine: each row exits 2 (or 1 where the
 * build itself failed), prints one line naming the culprit, and changes nothing in the output directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-bad');
const F = path.join(work, 'flavours');
const out = path.join(work, 'out');
const ro = path.join(work, 'ro');
const specs = path.join(work, 'specs');
const tree = path.join(work, 'tree');
fs.mkdirSync(out);
fs.mkdirSync(ro);
fs.mkdirSync(specs);
fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
fs.writeFileSync(path.join(out, 'img.tar'), 'the previous image\n');

writeFlavour(path.join(F, 'noexec'), {});
fs.mkdirSync(path.join(F, 'noexec', 'install.d'));
fs.writeFileSync(path.join(F, 'noexec', 'install.d', '50-forgot-chmod'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
writeFlavour(path.join(F, 'syntax'), { hooks: { 'install.d': { '50-broken': '#!/bin/bash\nif [ -e / ]; then\necho unterminated\n' } } });
writeFlavour(path.join(F, 'badenv'), { environment: { '10-env.bash': 'export A=(\n' } });
writeFlavour(path.join(F, 'badpi'), {});
fs.writeFileSync(path.join(F, 'badpi', 'package-installs.yaml'), 'curl:\n  phase: install.d\nvim: [\n');
writeFlavour(path.join(F, 'badkey'), {});
fs.writeFileSync(path.join(F, 'badkey', 'package-installs.yaml'), 'curl:\n  phaze: install.d\n');
writeFlavour(path.join(F, 'missdep'), { deps: ['no-such-dep'] });
writeFlavour(path.join(F, 'fakedisk'), {});
writeFlavour(path.join(F, 'inchroot'), { hooks: { 'install.d': { '50-ok': 'exec' } } });
fs.writeFileSync(path.join(F, 'fakedisk', 'disk.yaml'), 'bootloader: grub\n');
writeFlavour(path.join(F, 'badsize'), { hooks: { 'block-device-size.d': { '10-size': '#!/bin/sh\necho IMAGE_SIZE=lots\n' } } });
writeFlavour(path.join(F, 'baddisk'), {});
fs.writeFileSync(path.join(F, 'baddisk', 'disk.yaml'), 'bootloader: lilo\n');
writeFlavour(path.join(F, 'os2'), { provides: ['operating-system'] });
writeFlavour(path.join(F, 'failing'), { hooks: { 'install.d': { '50-fails': '#!/bin/sh\necho "disk quota exceeded" >&2\nexit 4\n' } } });
writeFlavour(path.join(F, 'nobin'), {});
fs.writeFileSync(path.join(F, 'nobin', 'binary-deps'), 'no-such-tool\n');
writeFlavour(path.join(F, 'badmap'), {});
fs.writeFileSync(path.join(F, 'badmap', 'pkg-map'), '{"family": {"debian": {"growpart": ["cloud-utils"]}}}\n');
writeFlavour(path.join(F, 'badsvc'), {});
fs.writeFileSync(path.join(F, 'badsvc', 'svc-map'), 'ssh:\n  default: [sshd\n');
fs.writeFileSync(path.join(specs, 'unknown-validator.yaml'), 'validators:\n  - package: curl\n  - pkg: vim\n');
fs.writeFileSync(path.join(specs, 'good.yaml'), 'validators:\n  - package: curl\n');
fs.writeFileSync(path.join(specs, 'syntax.yaml'), 'validators:\n  - package: [curl\n');
fs.writeFileSync(path.join(specs, 'reserved.yaml'), 'arguments:\n  distro:\n    description: no\nvalidators:\n  - script: missing.sh\n');
fs.writeFileSync(path.join(work, 'known_hosts'), '');
fs.writeFileSync(path.join(work, 'bad.env'), 'DIB_IMAGE_SIZE=enormous\n');
fs.writeFileSync(path.join(work, 'notimage.qcow2'), 'just text\n');
const mbr = Buffer.alloc(1 << 20);
mbr.writeUInt16LE(0xaa55, 510);
fs.writeFileSync(path.join(work, 'mbr.raw'), mbr);
fs.writeFileSync(path.join(work, 'clouds.yaml'), 'clouds:\n  lab:\n    auth:\n      auth_url: http://127.0.0.1:47/v3\n      username: u\n      password: p\n      user_domain_name: Default\n');

const env = { ELEMENTS_PATH: F };
const b = (...a: string[]) => ['build', '-t', 'tar', '-o', path.join(out, 'img'), ...a];

type Row = [what: string, bin: string, args: string[], extraEnv: Record<string, string>, code: number, message: RegExp];
const ROWS: Row[] = [
  ['unknown flavour', 'kiln', b('busybox', 'nosuch'), {}, 2, /unknown flavour "nosuch"/],
  ['misspelt flavour', 'disk-image-create', ['-t', 'tar', '-o', path.join(out, 'img'), 'busybx'], {}, 2, /unknown flavour "busybx"/],
  ['dependency on a missing flavour', 'kiln', b('busybox', 'missdep'), {}, 2, /unknown flavour "no-such-dep" \(required by "missdep"\)/],
  ['two operating systems', 'kiln', b('busybox', 'os2'), {}, 2, /"operating-system" is provided by both/],
  ['hook not executable', 'kiln', b('busybox', 'noexec'), {}, 2, /\[noexec\] install\.d\/50-forgot-chmod is a script but not executable/],
  ['hook with a syntax error', 'kiln', b('busybox', 'syntax'), {}, 2, /\[syntax\] install\.d\/50-broken: syntax error: .*line \d+/],
  ['environment.d with a syntax error', 'kiln', b('busybox', 'badenv'), {}, 2, /\[badenv\] environment\.d\/10-env\.bash: syntax error/],
  ['package-installs.yaml syntax', 'kiln', b('busybox', 'badpi'), {}, 2, /\[badpi\] .*package-installs\.yaml:\d+:\d+: Flow sequence/],
  ['package-installs.yaml unknown key', 'kiln', b('busybox', 'badkey'), {}, 2, /\[badkey\] .*package-installs\.yaml:1: curl: unknown key "phaze"/],
  ['pkg-map with a list for a name', 'kiln', b('busybox', 'badmap'), {}, 2, /\[badmap\] .*badmap\/pkg-map: "family\.debian\.growpart" must be a string/],
  ['svc-map syntax', 'kiln', b('busybox', 'badsvc'), {}, 2, /\[badsvc\] .*badsvc\/svc-map:\d+:\d+: /],
  ['unknown DIB_INIT_SYSTEM (dib-init-system)', 'kiln', b('busybox', 'dib-init-system'), { DIB_INIT_SYSTEM: 'launchd' }, 2, /\[dib-init-system\] environment\.d\/99-dib-init-system exited 1: DIB_INIT_SYSTEM=launchd is not an init system kiln knows/],
  ['bad IMAGE_SIZE printed by a hook', 'kiln', ['build', '-t', 'raw', '-o', path.join(out, 'img'), 'busybox', 'fakedisk', 'badsize'], {}, 2, /\[badsize\] block-device-size\.d\/10-size printed IMAGE_SIZE=lots, which is not a size/],
  ['image size too small for the tree', 'kiln', ['build', '-t', 'raw', '--image-size', '1M', '-o', path.join(out, 'img'), 'busybox', 'fakedisk'], {}, 2, /image size 1 MiB is smaller than the tree needs/],
  ['unknown bootloader in disk.yaml', 'kiln', ['build', '-t', 'raw', '-o', path.join(out, 'img'), 'busybox', 'baddisk'], {}, 2, /\[baddisk\] .*disk\.yaml.*lilo/],
  ['disk format without vm', 'kiln', ['build', '-t', 'qcow2', '-o', path.join(out, 'img'), 'busybox'], {}, 2, /disk images are made by the vm flavour/],
  ['an architecture kiln cannot build (disk)', 'disk-image-create', ['-a', 's390x', '-t', 'raw', '-o', path.join(out, 'img'), 'busybox', 'fakedisk'], {}, 2, /-a s390x: kiln builds images for amd64 and arm64 only \(supported: amd64, arm64\)/],
  ['an architecture kiln cannot build (tree)', 'kiln', b('-a', 'riscv64', 'busybox', 'inchroot'), {}, 2, /-a riscv64: kiln builds images for amd64 and arm64 only \(supported: amd64, arm64\)/],
  ['step cache size not a size', 'kiln', b('busybox', '--cache-size', 'lots'), {}, 2, /--cache-size: "lots" is not a size/],
  ['step cache size too small (environment)', 'kiln', b('busybox'), { KILN_CACHE_SIZE: '10k' }, 2, /KILN_CACHE_SIZE: "10k" is too small for the step cache \(at least 1M\)/],
  ['cache prune: bad age', 'kiln', ['cache', 'prune', '--older-than', 'a week'], {}, 2, /--older-than: "a week" is not an age/],
  ['unknown output format', 'kiln', ['build', '-t', 'tar,floppy', '-o', path.join(out, 'img'), 'busybox'], {}, 2, /unknown output format "floppy"/],
  ['output directory missing', 'kiln', ['build', '-t', 'tar', '-o', path.join(out, 'nodir', 'img'), 'busybox'], {}, 2, /directory .*nodir does not exist/],
  ['output directory not writable', 'kiln', ['build', '-t', 'tar', '-o', path.join(ro, 'img'), 'busybox'], {}, 2, /directory .*ro is not writable \(EROFS\)/],
  ['missing --env-file', 'kiln', [...b('busybox'), '--env-file', path.join(work, 'none.env')], {}, 2, /--env-file .*none\.env/],
  ['bad value in --env-file', 'kiln', [...b('busybox'), '--env-file', path.join(work, 'bad.env')], {}, 2, /DIB_IMAGE_SIZE.*"enormous" is not a size/],
  ['bad ELEMENTS_PATH', 'kiln', b('busybox'), { ELEMENTS_PATH: `${F}:/no/such/dir` }, 2, /ELEMENTS_PATH entry "\/no\/such\/dir" is not a directory/],
  ['non-Debian release', 'kiln', ['build', '-t', 'tar', '--release', 'centos7', '-o', path.join(out, 'img'), 'debian-minimal'], {}, 2, /release "centos7" .*is not a Debian release/],
  ['bad --arch', 'kiln', [...b('busybox'), '--arch', 'z80'], {}, 2, /z80/],
  ['a hook that fails (exit 1, culprit named)', 'kiln', b('busybox', 'failing'), {}, 1, /\[failing\] install\.d\/50-fails exited 4/],
  ['ramdisk of an OS that installs no kernel (refused when planned)', 'ramdisk-image-create', ['-o', path.join(out, 'rd'), 'busybox', 'nobin'], {}, 2, /this plan cannot make a ramdisk: nothing in it installs a kernel/],
  ['ramdisk element that is not a flavour', 'ramdisk-image-create', ['--ramdisk-element', 'dracut-ramdisk', '-o', path.join(out, 'rd'), 'debian-minimal'], {}, 2, /ramdisk element "dracut-ramdisk" \(--ramdisk-element \/ RAMDISK_ELEMENT\) is not a flavour/],
  ['image-pack: unknown validator, with file:line', 'image-pack', ['--root', tree, '--test-only', path.join(specs, 'unknown-validator.yaml')], {}, 2, /unknown-validator\.yaml:3:\d+: validators\[1\]: unknown validator type "pkg"/],
  ['image-pack: YAML syntax error', 'image-pack', ['--root', tree, '--test-only', path.join(specs, 'syntax.yaml')], {}, 2, /syntax\.yaml:\d+:\d+/],
  ['image-pack: reserved argument name and missing script', 'kiln', ['pack', '--root', tree, '--test-only', path.join(specs, 'reserved.yaml')], {}, 2, /reserved\.yaml: 3 problems/],
  ['image-pack: missing spec', 'image-pack', ['--root', tree, path.join(specs, 'none.yaml')], {}, 2, /spec ".*none\.yaml" does not exist/],
  ['image-pack: SSH target unreachable', 'kiln', ['pack', '--ssh', 'root@127.0.0.1:1', '--known-hosts', path.join(work, 'known_hosts'), '--test-only', path.join(specs, 'good.yaml')], {}, 1, /host root@127\.0\.0\.1:1 is unreachable: .*Connection refused/],
  ['image-pack: root that does not exist', 'image-pack', ['--root', path.join(work, 'none'), path.join(specs, 'good.yaml')], {}, 2, /root tree ".*none" does not exist/],
  ['disk-image-get-kernel on a file that is not an image', 'disk-image-get-kernel', ['-d', out, path.join(work, 'notimage.qcow2')], {}, 2, /notimage\.qcow2" has no kernel/],
  ['disk-image-get-kernel on a missing image', 'disk-image-get-kernel', ['-d', out, path.join(work, 'none.qcow2')], {}, 2, /image ".*none\.qcow2" does not exist/],
  ['image-pack --image on a file that is not an image', 'image-pack', ['--image', path.join(work, 'notimage.qcow2'), '--test-only', path.join(specs, 'good.yaml')], {}, 2, /notimage\.qcow2": no root filesystem found/],
  ['kiln publish: no cloud named', 'kiln', ['publish', path.join(work, 'notimage.qcow2')], { OS_CLOUD: '', OS_AUTH_URL: '' }, 2, /no OpenStack cloud given/],
  ['kiln publish: unknown cloud', 'kiln', ['publish', '--os-cloud', 'prod', path.join(work, 'notimage.qcow2')], { OS_CLIENT_CONFIG_FILE: path.join(work, 'clouds.yaml') }, 2, /--os-cloud prod: no cloud of that name in .*clouds\.yaml/],
  ['kiln publish: a file that is not an image', 'kiln', ['publish', '--glance-endpoint', 'http://127.0.0.1:9', path.join(work, 'notimage.qcow2')], {}, 2, /notimage\.qcow2 is not a disk image/],
  ['kiln publish: a tarball', 'kiln', ['publish', '--os-cloud', 'lab', path.join(out, 'img.tar')], { OS_CLIENT_CONFIG_FILE: path.join(work, 'clouds.yaml') }, 2, /img\.tar is not a disk image/],
  ['kiln publish: Keystone unreachable', 'kiln', ['publish', '--os-cloud', 'lab', path.join(work, 'mbr.raw')], { OS_CLIENT_CONFIG_FILE: path.join(work, 'clouds.yaml') }, 1, /Keystone at http:\/\/127\.0\.0\.1:47 is unreachable \(ECONNREFUSED\)/],
  ['kiln build: --replace without --publish', 'kiln', [...b('busybox'), '--replace'], {}, 2, /--replace needs --publish/],
  ['kiln build --publish of a tar-only build', 'kiln', [...b('busybox'), '--publish', '--glance-endpoint', 'http://127.0.0.1:9'], {}, 2, /--publish needs a disk image output, but this build makes tar/],
  ['kiln boot: missing image', 'kiln', ['boot', path.join(work, 'none.qcow2')], {}, 2, /IMAGE: ".*none\.qcow2" does not exist/],
  ['kiln boot: --initrd without --kernel', 'kiln', ['boot', '--initrd', path.join(work, 'bad.env'), path.join(work, 'notimage.qcow2')], {}, 2, /--initrd needs --kernel/],
  ['kiln boot: --memory too small', 'kiln', ['boot', '--memory', '12', path.join(work, 'notimage.qcow2')], {}, 2, /--memory: "12"/],
];

beforeAll(() => {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'kiln-e2e-ro', ro]);
  if (r.status !== 0) throw new Error(`cannot mount a read-only tmpfs: ${r.stderr}`);
});
afterAll(() => {
  spawnSync('umount', [ro]);
  fs.rmSync(work, { recursive: true, force: true });
});

const listing = () => fs.readdirSync(out).sort().map((n) => `${n}:${fs.statSync(path.join(out, n)).size}`);

test(`the table has at least 25 rows (${ROWS.length})`, () => expect(ROWS.length).toBeGreaterThanOrEqual(25));

test('a bad value the step cache kept (IMAGE_SIZE) names the same flavour and hook on a hit as on the miss', async () => {
  const cacheEnv = { ...env, KILN_NO_CACHE: '0', DIB_IMAGE_CACHE: path.join(work, 'cache') };
  const args = ['build', '-t', 'raw', '-o', path.join(out, 'img'), 'busybox', 'fakedisk', 'badsize'];
  const miss = await kiln(args, { env: cacheEnv });
  const hit = await kiln(args, { env: cacheEnv });
  expect(`${hit.stdout}${hit.stderr}`).toMatch(/restore \w+ from the step cache/);
  for (const r of [miss, hit]) {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kiln: error: \[badsize\] block-device-size\.d\/10-size printed IMAGE_SIZE=lots, which is not a size/);
  }
});

test.each(ROWS)('%s', async (_what, bin, args, extraEnv, code, message) => {
  const before = listing();
  const r = await kiln(args, { bin, env: { ...env, ...extraEnv } });
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('kiln: error:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(r.code).toBe(code);
  expect(listing()).toEqual(before);
  expect(fs.readFileSync(path.join(out, 'img.tar'), 'utf8')).toBe('the previous image\n');
});
