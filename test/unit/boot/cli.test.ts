import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../../lib/cli/main.js';
import { runBin } from '../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('unit-boot');
const file = path.join(dir, 'file');
fs.writeFileSync(file, 'x');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `kiln ARGS` in this process, capturing what it writes. */
async function kiln(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((s: string) => ((out.stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((out.stderr += s), true)) as typeof process.stderr.write;
  try {
    const code = await run('kiln', args);
    return { code, ...out };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}

/** Bad input: exit 2, one line on stderr that names the flag, nothing on stdout, nothing started. */
test.each([
  [['/nonexistent.qcow2'], /^kiln: error: IMAGE: "\/nonexistent.qcow2" does not exist$/],
  [[], /nothing to boot: name an IMAGE or --kernel FILE/],
  [[file, '--timeout', 'soon'], /--timeout: "soon" is not a positive number/],
  [[file, '--timeout', '-3'], /--timeout: "-3"/],
  [[file, '--expect', '(unclosed'], /--expect: "\(unclosed" is not a regular expression/],
  [['--kernel', path.join(dir, 'nope')], /--kernel: ".*nope" does not exist/],
  [['--initrd', file], /--initrd needs --kernel/],
  [[file, '--append', 'quiet'], /--append needs --kernel/],
  [['--kernel', file, '--initrd', path.join(dir, 'nope')], /--initrd: ".*nope" does not exist/],
  [[file, '--disk', path.join(dir, 'extra.raw')], /--disk: ".*extra.raw" does not exist/],
  [[file, '--disk', dir], /--disk: ".*" is not a file/],
  [[file, '--memory', '1.5'], /--memory: "1.5" is not a positive integer/],
  [[file, '--cpus', '0'], /--cpus: "0"/],
  [[file, '--accel', 'hvf'], /--accel.*hvf.*kvm, tcg/],
  [[file, '--tcg-thread', 'auto'], /--tcg-thread.*auto.*single, multi/],
  [[file, '--ssh-command', 'uptime'], /--ssh-command needs --ssh/],
  [[file, '--ssh-user', 'devuser'], /--ssh-user needs --ssh/],
  [[file, '--ssh', '--ssh-user', 'dev user;rm'], /--ssh-user: "dev user;rm" is not a user name/],
  [[file, '--ssh', '--ssh-key', path.join(dir, 'nokey')], /--ssh-key: ".*nokey" does not exist/],
  [[file, '--ssh-key', file], /--ssh-key needs --ssh/],
  [[file, '--metadata', path.join(dir, 'md.json')], /^kiln: error: --metadata: cannot read ".*md.json" \(no such file\)$/],
  [[file, '--metadata', file], /--metadata: ".*file" is not valid JSON/],
  [[file, '--user-data', dir], /--user-data: cannot read ".*" \(a directory\)$/],
  [[file, '--seed', 'ec2'], /--seed.*ec2.*config-drive, nocloud/],
  [[file, '--seed', 'nocloud', '--ssh-key', file], /--ssh-key: no public key ".*file.pub"/],
])('kiln boot %j', async (args, message) => {
  const r = await kiln(['boot', ...args]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(message);
});

test('--ssh without any key is bad input before anything boots', async () => {
  const saved = { HOME: process.env.HOME, SUDO_USER: process.env.SUDO_USER };
  process.env.HOME = dir;
  delete process.env.SUDO_USER;
  try {
    const r = await kiln(['boot', file, '--ssh']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^kiln: error: --ssh: no SSH key found .*\(hint: .*--ssh-key FILE\)$/);
  } finally {
    process.env.HOME = saved.HOME;
    if (saved.SUDO_USER !== undefined) process.env.SUDO_USER = saved.SUDO_USER;
  }
});

test('an unreadable image is bad input too (qemu-img decides, not the name)', async () => {
  fs.writeFileSync(path.join(dir, 'fake.qcow2'), Buffer.from('QFI\xfb\x00\x00\x00\x09 not really', 'latin1'));
  const r = await kiln(['boot', path.join(dir, 'fake.qcow2'), '--accel', 'tcg']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^kiln: error: IMAGE ".*fake.qcow2" is not a disk image qemu can read: .*qcow2 version/);
});

test('through the real executable: exit 2 and one line', () => {
  const r = runBin('kiln', ['boot', '--kernel', file, '--timeout', '0']);
  expect(r).toEqual({ code: 2, stdout: '', stderr: 'kiln: error: --timeout: "0" is not a positive number\n' });
});

test('kiln boot --help lists the flags', async () => {
  const r = await kiln(['boot', '--help']);
  expect(r.code).toBe(0);
  for (const flag of ['--ssh', '--timeout', '--expect', '--efi', '--kernel', '--initrd', '--append', '--disk', '--persist', '--accel', '--tcg-thread', '--json']) {
    expect(r.stdout).toContain(flag);
  }
});
