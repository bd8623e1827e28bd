import fs from 'node:fs';
import path from 'node:path';
import { driveArgs, escapeOptionValue, kernelCommandLine, qemuArgv, qemuBinary, type QemuPlan } from '../../../lib/boot/argv.js';
import { bootArch } from '../../../lib/boot/prepare.js';
import { machineFor } from '../../../lib/boot/machine.js';
import { tempDir } from '../../helpers/tmp.js';
import { probeArgv } from '../../../lib/boot/accel.js';

const base: QemuPlan = {
  accel: 'tcg',
  memoryMb: 1024,
  cpus: 2,
  disks: [{ file: '/img/a.qcow2', format: 'qcow2' }],
  diskInterface: 'virtio',
  persist: false,
  sshPort: 40022,
};

/** The value following each occurrence of flag. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));
}

describe('qemuArgv', () => {
  test.each([
    ['tcg', ['-accel', 'tcg,thread=single', '-cpu', 'max']],
    ['kvm', ['-accel', 'kvm', '-cpu', 'host']],
  ] as const)('accelerator %s', (accel, expected) => {
    const argv = qemuArgv({ ...base, accel });
    const i = argv.indexOf('-accel');
    expect(argv.slice(i, i + 4)).toEqual(expected);
    expect(argv.filter((a) => a === '-accel')).toHaveLength(1);
  });

  // The TCG default: every virtual CPU in one host thread (README, "Booting under TCG": one thread per CPU let
  // a guest CPU run kernel text another CPU had just patched, a soft lockup after the banner).
  test.each([
    [undefined, 2, 'tcg,thread=single'],
    [undefined, 1, 'tcg,thread=single'],
    ['single', 2, 'tcg,thread=single'],
    ['multi', 2, 'tcg,thread=multi'],
  ] as const)('TCG threading %s with %i CPUs: -accel %s', (tcgThread, cpus, expected) => {
    const argv = qemuArgv({ ...base, cpus, ...(tcgThread ? { tcgThread } : {}) });
    expect(values(argv, '-accel')).toEqual([expected]);
    expect(values(argv, '-smp')).toEqual([String(cpus)]);
  });

  test('under KVM the TCG threading is not passed', () => {
    expect(values(qemuArgv({ ...base, accel: 'kvm', tcgThread: 'multi' }), '-accel')).toEqual(['kvm']);
  });

  test('serial console on stdio, no display, no monitor, reboot ends QEMU', () => {
    const argv = qemuArgv(base);
    expect(values(argv, '-display')).toEqual(['none']);
    expect(values(argv, '-chardev')).toEqual(['stdio,id=console,signal=off']);
    expect(values(argv, '-serial')).toEqual(['chardev:console']);
    expect(values(argv, '-monitor')).toEqual(['none']);
    expect(argv).toContain('-no-reboot');
    expect(values(argv, '-m')).toEqual(['1024']);
    expect(values(argv, '-smp')).toEqual(['2']);
  });

  test('SSH is forwarded from 127.0.0.1 only', () => {
    const nic = values(qemuArgv(base), '-nic');
    expect(nic).toEqual(['user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:40022-:22']);
  });

  test.each([
    [false, 'file=/img/a.qcow2,format=qcow2,if=virtio,snapshot=on'],
    [true, 'file=/img/a.qcow2,format=qcow2,if=virtio'],
  ])('persist=%s', (persist, drive) => {
    expect(values(qemuArgv({ ...base, persist }), '-drive')).toEqual([drive]);
  });

  test('extra disks follow the image, each with its own detected format; commas in paths are doubled', () => {
    const disks = [
      { file: '/img/a.qcow2', format: 'qcow2' as const },
      { file: '/tmp/blank,1.raw', format: 'raw' as const },
      { file: '/img/c.vhd', format: 'vpc' as const },
    ];
    expect(values(qemuArgv({ ...base, disks, diskInterface: 'ide' }), '-drive')).toEqual([
      'file=/img/a.qcow2,format=qcow2,if=ide,snapshot=on',
      'file=/tmp/blank,,1.raw,format=raw,if=ide,snapshot=on',
      'file=/img/c.vhd,format=vpc,if=ide,snapshot=on',
    ]);
  });

  test('EFI: OVMF code read-only, a private copy of the variables writable', () => {
    const argv = qemuArgv({ ...base, efi: { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/tmp/k/OVMF_VARS.fd' } });
    expect(values(argv, '-drive').slice(0, 2)).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd',
      'if=pflash,format=raw,unit=1,file=/tmp/k/OVMF_VARS.fd',
    ]);
  });

  test('no EFI: no pflash', () => {
    expect(qemuArgv(base).join(' ')).not.toContain('pflash');
  });

  test('-kernel, -initrd and -append; no disk at all is fine', () => {
    const argv = qemuArgv({ ...base, disks: [], kernel: { file: '/k/vmlinuz', initrd: '/k/initrd', append: 'console=ttyS0 quiet' } });
    expect(values(argv, '-kernel')).toEqual(['/k/vmlinuz']);
    expect(values(argv, '-initrd')).toEqual(['/k/initrd']);
    expect(values(argv, '-append')).toEqual(['console=ttyS0 quiet']);
    expect(argv).not.toContain('-drive');
  });

  test('QMP on a unix socket when asked', () => {
    expect(values(qemuArgv({ ...base, qmpSocket: '/tmp/k/qmp.sock' }), '-qmp')).toEqual(['unix:/tmp/k/qmp.sock,server=on,wait=off']);
  });

  test('every element is a separate argv string (no shell)', () => {
    for (const a of qemuArgv(base)) expect(a).not.toMatch(/^\s|\s$/);
  });
});

describe('arm64: qemu-system-aarch64 -M virt with AAVMF, virtio only', () => {
  const arm: QemuPlan = { ...base, arch: 'arm64', efi: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/tmp/k/AAVMF_VARS.fd' }, cdrom: '/tmp/k/seed.iso' };
  test('emulator, machine, CPU, firmware and drives', () => {
    const argv = qemuArgv(arm);
    expect(qemuBinary(arm)).toBe('qemu-system-aarch64');
    expect(qemuBinary(base)).toBe('qemu-system-x86_64');
    expect(values(argv, '-machine')).toEqual(['virt']);
    // max's pointer authentication is slow under TCG: cortex-a57 (lib/boot/machine).
    expect(values(argv, '-cpu')).toEqual(['cortex-a57']);
    expect(values(qemuArgv({ ...arm, cpuModel: 'max' }), '-cpu')).toEqual(['max']);
    expect(values(argv, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd',
      'if=pflash,format=raw,unit=1,file=/tmp/k/AAVMF_VARS.fd',
      'file=/img/a.qcow2,format=qcow2,if=virtio,snapshot=on',
      // virt has no IDE: the metadata drive is a virtio disk too.
      'file=/tmp/k/seed.iso,format=raw,if=virtio,readonly=on',
    ]);
    expect(values(qemuArgv(base), '-machine')).toEqual(['q35']);
  });
  test('the machine table: firmware from qemu-efi-aarch64, console ttyAMA0, UEFI on every boot', () => {
    const m = machineFor('arm64');
    expect([m.firmware.code, m.firmware.vars, m.firmware.package, m.console, m.efiOnly]).toEqual(['/usr/share/AAVMF/AAVMF_CODE.fd', '/usr/share/AAVMF/AAVMF_VARS.fd', 'qemu-efi-aarch64', 'ttyAMA0', true]);
    expect(kernelCommandLine('quiet', m.console)).toBe('console=ttyAMA0 quiet');
  });
});

describe("the guest's architecture: --arch, else the manifest beside the image, else the host's", () => {
  const dir = tempDir('bootarch');
  const image = path.join(dir, 'arm.qcow2');
  fs.writeFileSync(image, '');
  fs.writeFileSync(path.join(dir, 'arm.manifest.json'), JSON.stringify({ build: { arch: 'arm64' } }));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  test('from the manifest', () => expect(bootArch({ image })).toBe('arm64'));
  test('--arch wins', () => expect(bootArch({ image, arch: 'amd64' })).toBe('amd64'));
  test('no manifest: the host', () => expect(bootArch({ image: path.join(dir, 'none.qcow2') })).toBe(process.arch === 'arm64' ? 'arm64' : 'amd64'));
  test('an architecture kiln does not boot names where it came from', () => {
    expect(() => bootArch({ image, arch: 's390x' })).toThrow('--arch: kiln boots amd64 and arm64 guests, not "s390x"');
    fs.writeFileSync(path.join(dir, 'z.manifest.json'), JSON.stringify({ build: { arch: 'riscv64' } }));
    expect(() => bootArch({ image: path.join(dir, 'z.qcow2') })).toThrow(`${path.join(dir, 'z.manifest.json')} (build.arch): kiln boots amd64 and arm64 guests, not "riscv64"`);
  });
});

describe('kernelCommandLine', () => {
  test.each([
    [undefined, 'console=ttyS0'],
    ['', 'console=ttyS0'],
    ['root=/dev/vda1 ro', 'console=ttyS0 root=/dev/vda1 ro'],
    ['console=ttyS0,115200 root=/dev/vda1', 'console=ttyS0,115200 root=/dev/vda1'],
    ['root=/dev/vda1 console=tty0', 'root=/dev/vda1 console=tty0'],
  ])('%s → %s', (append, expected) => {
    expect(kernelCommandLine(append)).toBe(expected);
  });
});

test('escapeOptionValue and driveArgs', () => {
  expect(escapeOptionValue('a,b,,c')).toBe('a,,b,,,,c');
  expect(driveArgs({ file: 'x', format: 'raw' }, 'virtio', true)).toEqual(['-drive', 'file=x,format=raw,if=virtio']);
});

test('the accelerator probe reads SeaBIOS through its debug port, with no devices', () => {
  const argv = probeArgv('kvm');
  expect(values(argv, '-accel')).toEqual(['kvm']);
  expect(argv).toContain('-nodefaults');
  expect(values(argv, '-device')).toEqual(['isa-debugcon,iobase=0x402,chardev=dbg']);
});
