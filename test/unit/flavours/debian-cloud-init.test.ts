/**
 * flavours/debian/install.d/60-cloud-init, run in a directory instead of a chroot (KILN_TEST_ROOT): the
 * cloud-init configuration and the boot order that lets sshd and the network start beside cloud-init, on the
 * units of trixie's cloud-init 25.1 (their dependency lines as Debian ships them) and bookworm's 22.4.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

const HOOK = path.resolve('flavours/debian/install.d/60-cloud-init');

const TRIXIE: Record<string, string> = {
  'cloud-init-main.service': `[Unit]
Description=Cloud-init: Single Process
DefaultDependencies=no
After=systemd-remount-fs.service
Before=cloud-init-local.service

[Service]
Type=notify
ExecStart=/usr/bin/cloud-init --all-stages
`,
  'cloud-init-local.service': `[Unit]
Description=Cloud-init: Local Stage (pre-network)
DefaultDependencies=no
Wants=network-pre.target
After=hv_kvp_daemon.service
Before=network-pre.target
Before=shutdown.target
Before=sysinit.target
Conflicts=shutdown.target

[Service]
Type=oneshot
ExecStart=sh -c 'echo "start" | nc -Uu -W1 /run/cloud-init/share/local.sock -s /run/cloud-init/share/local-return.sock | sh'
`,
  'cloud-init-network.service': `[Unit]
Description=Cloud-init: Network Stage
DefaultDependencies=no
Wants=cloud-init-local.service
Wants=sshd-keygen.service
Wants=sshd.service
After=cloud-init-local.service
After=systemd-networkd-wait-online.service
After=networking.service
Before=network-online.target
Before=chronyd.service
Before=sshd-keygen.service
Before=sshd.service
Before=systemd-user-sessions.service
Before=sysinit.target
Before=shutdown.target
Conflicts=shutdown.target
`,
};

// bookworm's 22.4: the network stage is cloud-init.service; names may share a line.
const BOOKWORM: Record<string, string> = {
  'cloud-init-local.service': '[Unit]\nDefaultDependencies=no\nWants=network-pre.target\nBefore=network-pre.target shutdown.target sysinit.target\n',
  'cloud-init.service': '[Unit]\nDefaultDependencies=no\nWants=cloud-init-local.service sshd-keygen.service sshd.service\nAfter=cloud-init-local.service systemd-networkd-wait-online.service\nBefore=network-online.target sshd-keygen.service sshd.service systemd-user-sessions.service sysinit.target\n',
};

function runHook(units: Record<string, string>): { root: string; status: number | null; stderr: string } {
  const root = tempDir('debian-cloud-init');
  const dir = path.join(root, 'lib/systemd/system');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(units)) fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync('bash', [HOOK], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', KILN_TEST_ROOT: root } });
  return { root, status: r.status, stderr: r.stderr };
}

const read = (root: string, p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const deps = (text: string, key: 'Before' | 'Wants' | 'After') =>
  text.split('\n').filter((l) => l.startsWith(`${key}=`)).flatMap((l) => l.slice(key.length + 1).split(' '));

describe.each([
  ['trixie (cloud-init 25.1)', TRIXIE, 'cloud-init-network.service'],
  ['bookworm (cloud-init 22.4)', BOOKWORM, 'cloud-init.service'],
])('%s', (_name, units, network) => {
  const { root, status, stderr } = runHook(units);

  test('the hook succeeds', () => {
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  test('the local stage no longer holds back network-pre.target (and systemd-networkd); it stays before sysinit.target', () => {
    const local = read(root, 'etc/systemd/system/cloud-init-local.service');
    expect(deps(local, 'Before')).not.toContain('network-pre.target');
    expect(deps(local, 'Wants')).not.toContain('network-pre.target');
    expect(deps(local, 'Before')).toEqual(expect.arrayContaining(['shutdown.target', 'sysinit.target']));
  });

  test('the network stage no longer holds back sshd; it stays before sysinit.target and systemd-user-sessions (logins), after the host keys', () => {
    const unit = read(root, `etc/systemd/system/${network}`);
    for (const k of ['Before', 'Wants'] as const) expect(deps(unit, k).filter((d) => d.startsWith('sshd'))).toEqual([]);
    expect(deps(unit, 'Before')).toEqual(expect.arrayContaining(['network-online.target', 'systemd-user-sessions.service', 'sysinit.target']));
    expect(deps(unit, 'Wants')).toContain('cloud-init-local.service');
    expect(deps(unit, 'After')).toEqual(expect.arrayContaining(['cloud-init-local.service', 'systemd-networkd-wait-online.service']));
    expect(read(root, `etc/systemd/system/${network}.d/kiln-after-host-keys.conf`)).toMatch(/^After=kiln-ssh-host-keys\.service$/m);
    // Nothing else of the package's unit changed.
    const original = units[network]!;
    expect(unit.split('\n').slice(1).filter((l) => !/^(Before|Wants)=/.test(l))).toEqual(original.split('\n').filter((l) => !/^(Before|Wants)=/.test(l)));
  });

  test.each(['ssh.service', 'kiln-ssh-host-keys.service', 'sshd-keygen.service'])('%s starts without waiting for sysinit.target', (unit) => {
    const conf = read(root, `etc/systemd/system/${unit}.d/kiln-early.conf`);
    expect(conf).toMatch(/^DefaultDependencies=no$/m);
    expect(deps(conf, 'After')).toEqual(expect.arrayContaining(['systemd-remount-fs.service', 'local-fs.target']));
    expect(conf).toMatch(/^Conflicts=shutdown\.target$/m);
  });

  test('the config stage (growpart) waits for logins to be allowed', () => {
    const config = read(root, 'etc/systemd/system/cloud-config.service.d/kiln-after-logins.conf');
    expect(deps(config, 'After')).toEqual(expect.arrayContaining(['systemd-logind.service', 'systemd-user-sessions.service']));
  });

  test('cloud-init keeps the host keys sshd already serves, and configures no network', () => {
    const cfg = read(root, 'etc/cloud/cloud.cfg.d/10-kiln.cfg');
    expect(cfg).toMatch(/^ssh_deletekeys: false$/m);
    expect(cfg).toMatch(/^ssh_genkeytypes: \[ed25519, ecdsa\]$/m);
    expect(cfg).toMatch(/^network: \{config: disabled\}$/m);
    expect(cfg).toMatch(/^datasource_list: \[ ConfigDrive, OpenStack, NoCloud, None \]$/m);
  });
});

test('a cloud-init whose units no longer have the dependencies removed fails the build, naming the unit', () => {
  const { status, stderr } = runHook({ ...TRIXIE, 'cloud-init-local.service': '[Unit]\nBefore=sysinit.target\n' });
  expect(status).toBe(1);
  expect(stderr).toMatch(/cloud-init-local\.service has no Before=\/Wants= network-pre\.target/);
});

test('without cloud-init\'s units the hook fails, naming what is missing', () => {
  const { status, stderr } = runHook({});
  expect(status).toBe(1);
  expect(stderr).toMatch(/cloud-init-local\.service not found/);
});
