import fs from 'node:fs';
import path from 'node:path';
import { cleanLine, recognizeLine } from '../../../lib/boot/console.js';
import type { Fatal, Milestone } from '../../../lib/boot/types.js';

const FIXTURES = path.join(process.cwd(), 'test', 'fixtures', 'boot');

/** Replays a recorded console: milestones in the order first seen, and the first fatal condition. */
function replay(name: string, expect?: RegExp): { milestones: Milestone[]; fatal: Fatal | undefined; lines: Record<string, string> } {
  const milestones: Milestone[] = [];
  const lines: Record<string, string> = {};
  let fatal: Fatal | undefined;
  for (const raw of fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n')) {
    const line = cleanLine(raw);
    for (const ev of recognizeLine(line, expect)) {
      if (ev.kind === 'fatal') fatal ??= ev.fatal;
      else if (!milestones.includes(ev.milestone)) {
        milestones.push(ev.milestone);
        lines[ev.milestone] = line;
      }
    }
  }
  return { milestones, fatal, lines };
}

describe('recorded console transcripts', () => {
  test('Debian via SeaBIOS and GRUB: every milestone, in order, ending at the login prompt', () => {
    const r = replay('debian-bios.txt');
    expect(r.milestones).toEqual(['firmware', 'kernel', 'userspace', 'systemd', 'login']);
    expect(r.fatal).toBeUndefined();
    expect(r.lines.login).toBe('debian login: ');
    expect(r.lines.kernel).toMatch(/^\[ +0\.000000\] Linux version 6\.1\.0-28-amd64/);
  });

  test('kernel panic is fatal (the first panic line), after the kernel milestone', () => {
    const r = replay('kernel-panic.txt');
    expect(r.milestones).toEqual(['kernel']);
    expect(r.fatal).toBe('kernel-panic');
  });

  test('EFI: OVMF and GRUB count as firmware; the rescue shell is fatal', () => {
    const r = replay('grub-rescue-efi.txt');
    expect(r.milestones).toEqual(['firmware']);
    expect(r.fatal).toBe('grub-rescue');
  });

  test('systemd emergency mode is fatal', () => {
    const r = replay('emergency.txt');
    expect(r.milestones).toEqual(['systemd']);
    expect(r.fatal).toBe('emergency-mode');
  });

  test('a ramdisk with --expect: kernel, /init, the expected line; no login', () => {
    const r = replay('ramdisk.txt', /kiln-test: ready/);
    expect(r.milestones).toEqual(['kernel', 'userspace', 'expect']);
  });

  test('--expect wins over built-in meanings of the same line', () => {
    expect(recognizeLine('debian login: ', /login:/).map((e) => (e.kind === 'milestone' ? e.milestone : e.fatal))).toEqual(['expect', 'login']);
    expect(recognizeLine('[ 1.0] Kernel panic - not syncing: x', /Kernel panic/)[0]).toEqual({ kind: 'milestone', milestone: 'expect' });
  });
});

describe('single lines', () => {
  test.each([
    ['[    0.000000] Linux version 6.1.0-28-amd64 (x) #1 SMP', 'kernel'],
    ['[    3.0] Run /init as init process', 'userspace'],
    ['[    3.0] Run /sbin/init as init process', 'userspace'],
    ['[    8.4] systemd[1]: Detected virtualization qemu.', 'systemd'],
    ['Welcome to Debian GNU/Linux 12 (bookworm)!', 'systemd'],
    ['localhost login:', 'login'],
    ['my-host.example login: ', 'login'],
    ['debian login: [   37.273873] runtime-ssh-host-keys.sh[436]: Generating public/private rsa key pair.', 'login'],
    ['debian login: [  OK  ] Started ssh.service - OpenBSD Secure Shell server.', 'login'],
    ['  Booting `Debian GNU/Linux\'', 'firmware'],
    ['EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path', 'firmware'],
  ])('%s → %s', (line, milestone) => {
    expect(recognizeLine(line)).toContainEqual({ kind: 'milestone', milestone });
  });

  test.each([
    'Last login: Thu Nov 21 10:00:00 2024 from 10.0.2.2',
    'debian login: root',
    'debian login: [root]',
    '[    1.0] Linux version is nice',
    '',
    'Starting systemd-udevd version 252',
  ])('nothing: %s', (line) => {
    expect(recognizeLine(line)).toEqual([]);
  });
});

describe('cleanLine', () => {
  test.each([
    ['\x1b[0;32m  OK  \x1b[0m] Started', '  OK  ] Started'],
    ['plain\r', 'plain'],
    ['\x1b[2J\x1b[1;1H\x1b[?25lGNU GRUB', 'GNU GRUB'],
    ['countdown 3s\rcountdown 2s', 'countdown 2s'],
    ['\x1b(Bbell\x07', 'bell'],
  ])('%j → %j', (raw, clean) => {
    expect(cleanLine(raw)).toBe(clean);
  });
});
