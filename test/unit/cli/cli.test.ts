import fs from 'node:fs';
import path from 'node:path';
import { makeTree, removeTree } from '../helpers/fixtures.js';
import { runBin } from '../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const os1 = { provides: ['operating-system'] };
const { root, dirs } = makeTree({
  fx: {
    'fake-os': { ...os1, readme: '# A fake operating system\n', hooks: { 'root.d': { '10-tree': 'exec' } } },
    vm: { deps: ['bootloader'], hooks: { 'finalise.d': { '50-grub': 'exec' } } },
    bootloader: { hooks: { 'block-device.d': { '10-part': 'exec' } } },
    'local-config': { hooks: { 'install.d': { '50-keys': 'exec', '10-proxy': 'exec' } } },
    'debian-minimal': { ...os1, hooks: { 'root.d': { '08-base': 'exec' }, 'install.d': { '01-apt': 'exec' } } },
    'other-os': os1,
    dup: { hooks: { 'install.d': { '50-keys': 'exec' } } },
  },
});
const fx = dirs.fx as string;
const env = { ELEMENTS_PATH: fx, KILN_DEFAULT_OS: undefined, DIB_IMAGE_SIZE: undefined };
afterAll(() => removeTree(root));

describe('kiln plan', () => {
  test('--json lists flavours and, per phase, hooks in run order with their flavour', () => {
    const r = runBin('kiln', ['plan', 'vm', 'local-config', 'debian-minimal', '--json'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.flavours.map((f: { name: string }) => f.name)).toEqual(['vm', 'local-config', 'debian-minimal', 'bootloader']);
    const hooks = (phase: string) =>
      plan.phases.find((p: { name: string }) => p.name === phase).hooks.map((h: { name: string; flavour: string; where: string }) => `${h.name}@${h.flavour}:${h.where}`);
    expect(hooks('install.d')).toEqual(['01-apt@debian-minimal:chroot', '10-proxy@local-config:chroot', '50-keys@local-config:chroot']);
    expect(hooks('root.d')).toEqual(['08-base@debian-minimal:host']);
    expect(hooks('block-device.d')).toEqual(['10-part@bootloader:host']);
    expect(plan.outputs).toEqual([{ format: 'qcow2', path: 'image.qcow2' }]);
    expect(plan.defaultOsAdded).toBeUndefined();
  });

  test('adds the default operating system when none is named, and says so', () => {
    const r = runBin('kiln', ['plan', 'vm', '--default-os', 'fake-os'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fake-os +default operating system/);
    expect(r.stdout).toContain('kiln added "fake-os"');
  });

  test('disk-image-create --dry-run prints the plan with diskimage-builder spelling', () => {
    const r = runBin('disk-image-create', ['-o', 'img', '-t', 'qcow2,tar', '--dry-run', 'vm', 'other-os'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('img.qcow2  (qcow2)');
    expect(r.stdout).toContain('img.tar  (tar)');
  });

  test('ramdisk-image-create --dry-run adds the ramdisk element and says why; kiln plan --ramdisk --ramdisk-element chooses it', () => {
    const own = { ...env, ELEMENTS_PATH: undefined, RAMDISK_ELEMENT: undefined };
    const r = runBin('ramdisk-image-create', ['-o', 'rd', '--dry-run', 'local-config'], { env: own });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}ramdisk-base +ramdisk element, added by ramdisk-image-create/m);
    expect(r.stdout).toContain('rd.initramfs  (initramfs)');
    const p = runBin('kiln', ['plan', '--ramdisk', '--ramdisk-element', 'deploy', '--json', 'local-config'], { env: own });
    expect(p.code).toBe(0);
    const flavours = JSON.parse(p.stdout).flavours.map((f: { name: string; why: string }) => `${f.name}: ${f.why}`);
    expect(flavours).toContain('deploy: ramdisk element, added by ramdisk-image-create (--ramdisk-element or RAMDISK_ELEMENT chooses another)');
    expect(flavours).toContain('ramdisk-base: dependency of deploy');
  });

  test('kiln flavours lists each flavour with its README\'s first line', () => {
    const r = runBin('kiln', ['flavours'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fake-os +A fake operating system \(provides operating-system\)/);
  });
});

describe('bad input exits 2 with one line naming the culprit and writes nothing', () => {
  const cwd = tempDir('cwd');
  const envFileDir = tempDir('envf');
  const unreadable = path.join(envFileDir, 'secret.env');
  fs.writeFileSync(unreadable, 'A=1\n');
  fs.chmodSync(unreadable, 0);
  const readable = process.getuid?.() === 0; // root reads anything: use a missing file then
  const envFile = readable ? path.join(envFileDir, 'missing.env') : unreadable;
  afterAll(() => {
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(envFileDir, { recursive: true, force: true });
  });

  test.each([
    ['unknown flavour', ['build', '-o', 'img', 'vm', 'nosuch'], env, /unknown flavour "nosuch"; searched /],
    ['bad ELEMENTS_PATH entry', ['build', '-o', 'img', 'vm'], { ...env, ELEMENTS_PATH: `${fx}:/nonexistent/dir` }, /ELEMENTS_PATH entry "\/nonexistent\/dir" is not a directory/],
    ['double provider', ['build', '-o', 'img', 'fake-os', 'other-os'], env, /"operating-system" is provided by both "fake-os" and "other-os"/],
    ['no operating system with --default-os none', ['build', '-o', 'img', '--default-os', 'none', 'vm'], env, /no flavour provides "operating-system"/],
    ['duplicate hook', ['build', '-o', 'img', 'local-config', 'dup', 'fake-os'], env, /hook install.d\/50-keys is shipped by both flavour "local-config" .* and flavour "dup"/],
    ['unknown output format', ['build', '-o', 'img', '-t', 'qcow2,floppy', 'fake-os'], env, /--type: unknown output format "floppy"/],
    ['--image-size banana', ['build', '-o', 'img', '--image-size', 'banana', 'fake-os'], env, /--image-size: "banana" is not a size/],
    ['unreadable --env-file', ['build', '-o', 'img', '--env-file', envFile, 'fake-os'], env, /--env-file .*: cannot read it/],
    ['unknown option', ['build', '--frobnicate', 'fake-os'], env, /unknown option '--frobnicate'/],
    ['bad --block-device', ['build', '--block-device', 'gpt', 'fake-os'], env, /--block-device: "gpt" is not one of mbr, efi/],
    ['ramdisk element not a flavour', ['ramdisk', '-o', 'rd', 'fake-os'], { ...env, RAMDISK_ELEMENT: 'ramdisk' }, /ramdisk element "ramdisk" \(--ramdisk-element \/ RAMDISK_ELEMENT\) is not a flavour/],
    ['ramdisk of an OS that installs no kernel', ['ramdisk', '-o', 'rd', 'fake-os'], env, /this plan cannot make a ramdisk: nothing in it installs a kernel .*"fake-os" provides operating-system and installs none/],
  ])('%s', (_what, args, e, message) => {
    const before = fs.readdirSync(cwd);
    const r = runBin('kiln', args, { cwd, env: e });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(fs.readdirSync(cwd)).toEqual(before);
  });

  test.each([
    ['disk-image-create', ['-o', 'img', 'nosuch']],
    ['ramdisk-image-create', ['-o', 'r', 'nosuch']],
  ])('the %s alias too', (bin, args) => {
    const r = runBin(bin, args, { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flavour "nosuch"/);
  });

  test.each([
    ['kiln', ['pack', 'spec.yaml']], // no target
    ['image-pack', ['--image', 'a.qcow2', '--root', '/', 'spec.yaml']], // two targets
    ['disk-image-get-kernel', []], // no image
    ['disk-image-get-kernel', ['/nonexistent.qcow2']],
    ['kiln', ['get-kernel', '-o', 'a/b', '/bin/ls']], // a prefix is not a path
    ['disk-image-get-kernel', ['/etc/hostname']], // not a disk image
    ['kiln', ['boot', '/nonexistent.qcow2']],
  ])('%s %j is refused', (bin, args) => {
    const r = runBin(bin, args, { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('help and version', () => {
  test.each([['kiln', ['--help']], ['disk-image-create', ['--help']], ['kiln', ['build', '--help']], ['kiln', ['--version']]])('%s %j exits 0', (bin, args) => {
    const r = runBin(bin, args);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  test('build --help lists settings with their environment variables', () => {
    const r = runBin('kiln', ['build', '--help']);
    for (const s of ['--image-size', 'DIB_IMAGE_SIZE', 'DIB_RELEASE', 'DIB_DISTRIBUTION_MIRROR', 'ELEMENTS_PATH', 'DIB_IMAGE_CACHE', '--env-file', '--no-tmpfs']) {
      expect(r.stdout).toContain(s);
    }
  });
});
