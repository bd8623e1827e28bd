import { formatReport, formatSeconds, reportJson } from '../../../lib/boot/report.js';
import type { BootReport } from '../../../lib/boot/types.js';

const ok: BootReport = {
  ok: true,
  outcome: 'ok',
  message: 'SSH login after 47.3 s',
  accel: 'tcg',
  accelReason: 'KVM probe did not finish in 3 s',
  milestones: [
    { name: 'firmware', seconds: 1.23 },
    { name: 'kernel', seconds: 6.5 },
    { name: 'userspace', seconds: 9.04 },
    { name: 'systemd', seconds: 14.9 },
    { name: 'login', seconds: 42.06 },
    { name: 'ssh', seconds: 47.31 },
  ],
  seconds: 47.4,
  consoleLog: '/tmp/kiln-boot-img.log',
  sshPort: 40022,
  ssh: { command: 'true', exitCode: 0, stdout: '' },
};

test('the table: one row per milestone, seconds right-aligned to a tenth, missing ones as a dash', () => {
  const text = formatReport({ ...ok, milestones: [...ok.milestones.slice(0, 3), { name: 'systemd', seconds: undefined }, ...ok.milestones.slice(4)] });
  expect(text.split('\n')).toEqual([
    'kiln boot: ok: SSH login after 47.3 s',
    'milestone          seconds',
    'firmware / GRUB        1.2',
    'kernel started         6.5',
    'userspace (/init)      9.0',
    'systemd                  —',
    'login prompt          42.1',
    'ssh                   47.3',
    'accelerator: tcg (KVM probe did not finish in 3 s)',
    'ssh: `true` exited 0',
    'console log: /tmp/kiln-boot-img.log',
  ]);
});

test('a failure says FAILED and shows the fatal console line', () => {
  const text = formatReport({ ...ok, ok: false, outcome: 'kernel-panic', message: 'the kernel panicked before a login prompt', fatalLine: 'Kernel panic - not syncing: VFS', milestones: [{ name: 'kernel', seconds: 3 }] });
  expect(text).toContain('kiln boot: FAILED: the kernel panicked before a login prompt');
  expect(text).toContain('console: Kernel panic - not syncing: VFS');
});

test('JSON: milestones as a map in boot order, null when not reached', () => {
  const j = reportJson({ ...ok, milestones: [{ name: 'kernel', seconds: 6.54321 }, { name: 'login', seconds: undefined }] });
  expect(j).toEqual({
    ok: true,
    outcome: 'ok',
    message: 'SSH login after 47.3 s',
    accel: 'tcg',
    accelReason: 'KVM probe did not finish in 3 s',
    seconds: 47.4,
    milestones: { kernel: 6.543, login: null },
    consoleLog: '/tmp/kiln-boot-img.log',
    sshPort: 40022,
    ssh: { command: 'true', exitCode: 0, stdout: '' },
  });
  expect(Object.keys(j.milestones as object)).toEqual(['kernel', 'login']);
});

test('formatSeconds', () => {
  expect(formatSeconds(undefined)).toBe('—');
  expect(formatSeconds(0.04)).toBe('0.0');
  expect(formatSeconds(123.456)).toBe('123.5');
});
