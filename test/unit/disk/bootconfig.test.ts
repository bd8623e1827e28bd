import fs from 'node:fs';
import path from 'node:path';
import { compareKernelVersions, findKernel, grubTimeout, kernelCmdline, renderDefaultGrub, renderFstab, renderGrubCfg, writeBootConfig } from '../../../lib/disk/bootconfig.js';
import { tempDir } from '../../helpers/tmp.js';

const kernel = { version: '6.1.0-50-amd64', vmlinuz: '/boot/vmlinuz-6.1.0-50-amd64', initrd: '/boot/initrd.img-6.1.0-50-amd64' };
const rootUuid = '2f1c8f0e-5d0e-4a47-9f3b-1d0c7b7f0a11';

describe('renderFstab', () => {
  test.each([
    [{ rootUuid }, [`UUID=${rootUuid} / ext4 errors=remount-ro 0 1`]],
    [{ rootUuid, espUuid: 'AB29-A743' }, [`UUID=${rootUuid} / ext4 errors=remount-ro 0 1`, 'UUID=AB29-A743 /boot/efi vfat umask=0077,nofail 0 2']],
  ])('%j', (c, entries) => {
    const lines = renderFstab(c).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(entries);
  });
});

describe('renderGrubCfg', () => {
  const cfg = renderGrubCfg({ rootUuid, kernel });
  test.each([
    'serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1',
    'terminal_input serial console',
    'terminal_output serial console',
    'set timeout=0',
    `search --no-floppy --fs-uuid --set=root ${rootUuid}`,
    `\tlinux /boot/vmlinuz-6.1.0-50-amd64 root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200`,
    '\tinitrd /boot/initrd.img-6.1.0-50-amd64',
  ])('has the line %j', (line) => {
    expect(cfg.split('\n')).toContain(line);
  });
  test('extra command-line words are appended', () => {
    expect(kernelCmdline({ rootUuid, cmdline: ['quiet', 'net.ifnames=0'] })).toBe(`root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200 quiet net.ifnames=0`);
  });
});

describe("GRUB's timeout: none by default, DIB_GRUB_TIMEOUT's seconds when set", () => {
  test.each([
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['5', 5],
    [' 10 ', 10],
  ])('DIB_GRUB_TIMEOUT=%j → %d', (value, seconds) => {
    expect(grubTimeout(value)).toBe(seconds);
    const cfg = renderGrubCfg({ rootUuid, kernel, timeout: seconds }).split('\n');
    expect(cfg).toContain(`set timeout=${seconds}`);
    expect(renderDefaultGrub({ timeout: seconds }).split('\n')).toContain(`GRUB_TIMEOUT=${seconds}`);
  });
  test.each(['-1', '1.5', 'five', '5s', '999999'])('DIB_GRUB_TIMEOUT=%j is refused, naming the variable (exit 2)', (value) => {
    expect(() => grubTimeout(value)).toThrow(expect.objectContaining({ kind: 'invalid', message: expect.stringContaining(`DIB_GRUB_TIMEOUT=${value}`) }));
  });
});

describe('renderDefaultGrub keeps the serial console for update-grub', () => {
  test.each([
    [{}, 'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200"'],
    [{ cmdline: ['quiet'] }, 'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 quiet"'],
  ])('%j', (c, line) => {
    const text = renderDefaultGrub(c).split('\n');
    expect(text).toContain(line);
    expect(text).toContain('GRUB_TERMINAL="serial console"');
    expect(text).toContain('GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"');
    expect(text).toContain('GRUB_TIMEOUT=0');
  });
});

describe('arm64: the serial console is ttyAMA0, GRUB on the firmware console (no x86 COM1)', () => {
  const console = { kernel: 'console=ttyAMA0,115200', grubSerial: false };
  const arm = { version: '6.1.0-50-arm64', vmlinuz: '/boot/vmlinuz-6.1.0-50-arm64', initrd: '/boot/initrd.img-6.1.0-50-arm64' };
  test('grub.cfg', () => {
    const cfg = renderGrubCfg({ rootUuid, kernel: arm, console }).split('\n');
    expect(cfg).toContain(`\tlinux /boot/vmlinuz-6.1.0-50-arm64 root=UUID=${rootUuid} ro console=ttyAMA0,115200`);
    expect(cfg).toContain('terminal_output console');
    expect(cfg.filter((l) => /serial|ttyS0|tty0/.test(l))).toEqual([]);
  });
  test('/etc/default/grub', () => {
    const text = renderDefaultGrub({ console }).split('\n');
    expect(text).toContain('GRUB_CMDLINE_LINUX="console=ttyAMA0,115200"');
    expect(text).toContain('GRUB_TERMINAL=console');
    expect(text.filter((l) => l.startsWith('GRUB_SERIAL_COMMAND'))).toEqual([]);
  });
});

describe('findKernel', () => {
  let tree: string;
  beforeEach(() => {
    tree = tempDir('kernel');
    fs.mkdirSync(path.join(tree, 'boot'));
  });
  afterEach(() => fs.rmSync(tree, { recursive: true, force: true }));
  const touch = (...names: string[]) => names.forEach((n) => fs.writeFileSync(path.join(tree, 'boot', n), ''));

  test('the newest version with an initrd', () => {
    touch('vmlinuz-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-50-amd64', 'initrd.img-6.1.0-50-amd64', 'config-6.1.0-50-amd64');
    expect(findKernel(tree)).toEqual(kernel);
  });
  test('no kernel, or no initrd, names what to install', () => {
    expect(() => findKernel(tree)).toThrow(/no kernel/);
    touch('vmlinuz-6.1.0-50-amd64');
    expect(() => findKernel(tree)).toThrow(/has no initrd.img-6.1.0-50-amd64/);
  });
  test.each([
    ['6.1.0-50-amd64', '6.1.0-9-amd64', 1],
    ['5.10.0-28-amd64', '6.1.0-9-amd64', -1],
    ['6.1.0-9-amd64', '6.1.0-9-amd64', 0],
  ])('compareKernelVersions(%s, %s) has sign %d', (a, b, sign) => {
    expect(Math.sign(compareKernelVersions(a, b))).toBe(sign);
  });
  test('writeBootConfig writes the three files and never follows a symlink out of the tree', () => {
    const outside = path.join(tree, '..', `kiln-outside-${process.pid}`);
    fs.writeFileSync(outside, 'host file\n');
    fs.mkdirSync(path.join(tree, 'etc'));
    fs.symlinkSync(outside, path.join(tree, 'etc/fstab'));
    writeBootConfig(tree, { rootUuid, espUuid: '1234-ABCD', kernel });
    expect(fs.readFileSync(outside, 'utf8')).toBe('host file\n');
    fs.rmSync(outside);
    expect(fs.readFileSync(path.join(tree, 'etc/fstab'), 'utf8')).toContain('/boot/efi');
    expect(fs.existsSync(path.join(tree, 'boot/grub/grub.cfg'))).toBe(true);
    expect(fs.existsSync(path.join(tree, 'etc/default/grub'))).toBe(true);
    expect(fs.statSync(path.join(tree, 'boot/efi')).isDirectory()).toBe(true);
  });
});
