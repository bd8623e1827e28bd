/**
 * image-pack --ssh against a live host that the test starts itself, never the machine running the tests:
 * the shared 'seed' image's tree (Debian with openssh-server and the test key from local-config),
 * unpacked and run as its own host — sshd chrooted into it, in new network, mount and PID namespaces.
 * kiln runs inside that network namespace (nsenter) and reaches it at 127.0.0.1:2222. The host's apt
 * sources point at a small local repository (a .deb made here), so installs need no network.
 */
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SEED, sharedImage, testHome } from '../helpers/images.js';
import { kiln, waitFor } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-pack-ssh');
const tree = path.join(work, 'host');
const spec = path.join(work, 'image.yaml');
const knownHosts = path.join(work, 'known_hosts');
let sshd: ChildProcess;
let sshdLog = '';
let nsPid = 0;
let key = '';

const SPEC = `arguments:
  role:
    description: what the node is for
    default: worker
    choices: [worker, master]
validators:
  - package: kiln-test-pkg
  - os_case:
      - redhat:
          - package: nfs-utils
      - debian:
          - script:
              role-file:
                env_vars: [role]
                inline: |
                  if [ "$test_only" = 1 ]; then test "$(cat /etc/kiln-role 2>/dev/null)" = "$distro $role"; else echo "$distro $role" > /etc/kiln-role; fi
  - argument_case:
      argument_name: role
      cases:
        master:
          - script: {never: {inline: 'exit 1'}}
  - any:
      - package: no-such-package-kiln
      - script: {hello: {inline: 'test -f /usr/share/kiln-test-pkg/hello'}}
`;

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A one-package apt repository (flat, with a Release file) at DIR, served to apt as file:. */
function makeRepo(dir: string): void {
  const pkg = path.join(work, 'pkg');
  fs.mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(pkg, 'usr/share/kiln-test-pkg'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'usr/share/kiln-test-pkg/hello'), 'hello from kiln-test-pkg\n');
  const control = 'Package: kiln-test-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: kiln tests <kiln@localhost>\nDescription: a package for the image-pack ssh test\n';
  fs.writeFileSync(path.join(pkg, 'DEBIAN/control'), control);
  fs.mkdirSync(dir, { recursive: true });
  const deb = path.join(dir, 'kiln-test-pkg_1.0_all.deb');
  sh('dpkg-deb', ['--root-owner-group', '--build', pkg, deb]);
  const data = fs.readFileSync(deb);
  const packages = `${control}Filename: ./kiln-test-pkg_1.0_all.deb\nSize: ${data.length}\nSHA256: ${createHash('sha256').update(data).digest('hex')}\n\n`;
  fs.writeFileSync(path.join(dir, 'Packages'), packages);
  const sum = createHash('sha256').update(packages).digest('hex');
  fs.writeFileSync(path.join(dir, 'Release'), `Origin: kiln-test\nLabel: kiln-test\nSuite: local\nCodename: local\nDate: ${new Date().toUTCString()}\nArchitectures: all amd64\nSHA256:\n ${sum} ${Buffer.byteLength(packages)} Packages\n`);
}

beforeAll(async () => {
  const seed = await sharedImage(SEED);
  key = testHome().key;
  fs.mkdirSync(tree);
  sh('tar', ['-xf', `${seed}.tar`, '-C', tree, '--numeric-owner']);
  makeRepo(path.join(tree, 'srv/repo'));
  fs.writeFileSync(path.join(tree, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/srv/repo ./\n');
  fs.rmSync(path.join(tree, 'etc/apt/sources.list.d'), { recursive: true, force: true });
  fs.mkdirSync(path.join(tree, 'etc/apt/sources.list.d'));
  sh('ssh-keygen', ['-A', '-f', tree]); // host keys for this test host, written into its tree
  fs.writeFileSync(spec, SPEC);
  const script = [
    'set -e',
    'ip link set lo up',
    `mount -t proc proc ${tree}/proc`,
    `mount --rbind /dev ${tree}/dev`,
    `mkdir -p ${tree}/run/sshd`,
    `exec chroot ${tree} /usr/sbin/sshd -D -e -p 2222 -o ListenAddress=127.0.0.1 -o PermitRootLogin=prohibit-password -o UseDNS=no`,
  ].join('\n');
  sshd = spawn('unshare', ['--net', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  sshd.stderr?.on('data', (d: Buffer) => (sshdLog += d.toString()));
  await waitFor(() => sshdLog.includes('Server listening on 127.0.0.1 port 2222') || sshd.exitCode !== null, 30_000);
  if (sshd.exitCode !== null) throw new Error(`sshd did not start: ${sshdLog}`);
  nsPid = Number(fs.readFileSync(`/proc/${sshd.pid}/task/${sshd.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  const hostKey = fs.readFileSync(path.join(tree, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:2222 ${hostKey}\n`);
}, 600_000);

afterAll(async () => {
  if (sshd && sshd.exitCode === null) {
    const done = new Promise((r) => sshd.once('exit', r));
    process.kill(-(sshd.pid as number), 'SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  }
  fs.rmSync(work, { recursive: true, force: true });
});

const inNs = () => ['nsenter', '-t', String(nsPid), '-n', '--'];
const pack = (extra: string[], known = knownHosts) =>
  kiln(['pack', '--ssh', 'root@127.0.0.1:2222', '--ssh-key', key, '--known-hosts', known, ...extra, spec], { wrap: inNs(), timeoutMs: 300_000 });

test('an unknown host key is refused (exit 2) and nothing runs on the host', async () => {
  const empty = path.join(work, 'empty_known_hosts');
  fs.writeFileSync(empty, '');
  const r = await pack(['--test-only'], empty);
  expect(r.stderr.trim().split('\n').pop()).toMatch(/^kiln: error: host root@127\.0\.0\.1:2222: the host key is unknown; kiln checks host keys strictly/);
  expect(r.code).toBe(2);
}, 120_000);

test('an unreachable host: exit 1, named', async () => {
  const r = await kiln(['pack', '--ssh', 'root@127.0.0.1:2223', '--ssh-key', key, '--known-hosts', knownHosts, '--test-only', spec], { wrap: inNs() });
  expect(r.stderr.trim().split('\n').pop()).toMatch(/^kiln: error: host root@127\.0\.0\.1:2223 is unreachable: .*Connection refused/);
  expect(r.code).toBe(1);
}, 120_000);

test('test-only reports what is missing and changes nothing; reconcile installs over SSH; test-only then passes', async () => {
  const before = sh('find', [path.join(tree, 'etc'), path.join(tree, 'usr/share'), '-newer', spec]);
  const check = await pack(['--test-only', '--json']);
  expect(check.code).toBe(1);
  const report = JSON.parse(check.stdout) as { results: { path: string; status: string; failure?: { message: string } }[] };
  expect(report.results.map((x) => [x.path, x.status, x.failure?.message])).toEqual([
    ['validators[0].package', 'failed', 'not installed: kiln-test-pkg'],
    ['validators[1].os_case', 'failed', expect.stringContaining('script role-file exited 1')],
    ['validators[2].argument_case', 'passed', undefined],
    ['validators[3].any', 'failed', 'none of 2 alternatives holds'],
  ]);
  expect(sh('find', [path.join(tree, 'etc'), path.join(tree, 'usr/share'), '-newer', spec])).toBe(before);

  const fix = await pack([]);
  expect(fix.stdout).toMatch(/reconcile of .*image\.yaml on host root@127\.0\.0\.1:2222: 3 passed, 1 fixed, 0 failed/);
  expect(fix.code).toBe(0);
  expect(fs.readFileSync(path.join(tree, 'usr/share/kiln-test-pkg/hello'), 'utf8')).toBe('hello from kiln-test-pkg\n');
  expect(fs.readFileSync(path.join(tree, 'etc/kiln-role'), 'utf8')).toBe('debian worker\n');
  expect(fs.readdirSync(path.join(tree, 'var/lib/apt/lists')).filter((n) => n.endsWith('Packages'))).toEqual([]);

  const again = await pack(['--test-only']);
  expect(again.stdout).toMatch(/test-only of .*image\.yaml on host root@127\.0\.0\.1:2222: 4 passed, 0 failed/);
  expect(again.code).toBe(0);
}, 300_000);
