/**
 * Paths inside a tree never lead out of it: trees whose /etc, /usr, /tmp, /boot, /var are absolute or `..`
 * symlinks to a decoy directory beside the tree; whatever kiln writes, renames, reads or clamps stays in
 * the tree, and the decoy is byte for byte what it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureHostResolvConf, replaceFile, treeShell } from '../../../lib/chroot/index.js';
import { writeBootConfig } from '../../../lib/disk/bootconfig.js';
import { readInstalled } from '../../../lib/output/dpkg.js';
import { sourceDateEpoch } from '../../../lib/output/epoch.js';
import { existsInTree, hostPath, writeInTree } from '../../../lib/rootfs/paths.js';
import { Scope } from '../../../lib/scope/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { snapshotDir } from '../../helpers/snapshot.js';


// The decoy must not lie below a directory the trees link (their /tmp leads to it: a decoy in TMPDIR would make
// the tree's /tmp a loop); /dev/shm is a world-writable tmpfs on every Linux.
const decoys: string[] = [];
afterAll(() => decoys.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A decoy that looks like a system (etc, usr, var, boot, tmp) and a tree whose top directories lead to it. */
function hostile(kind: 'absolute' | 'dotdot'): { root: string; decoy: string } {
  const base = tempDir(`paths-${kind}`);
  const decoy = fs.mkdtempSync('/dev/shm/kiln-test-decoy-');
  decoys.push(decoy);
  const root = path.join(base, 'tree');
  for (const d of ['etc', 'usr/sbin', 'usr/bin', 'usr/share/doc/pkg', 'var/lib/dpkg', 'boot', 'tmp']) fs.mkdirSync(path.join(decoy, d), { recursive: true });
  fs.writeFileSync(path.join(decoy, 'etc/resolv.conf'), 'nameserver 192.0.2.53\n');
  fs.writeFileSync(path.join(decoy, 'etc/fstab'), '# the decoy host fstab\n');
  fs.writeFileSync(path.join(decoy, 'etc/os-release'), 'ID=decoy\n');
  fs.writeFileSync(path.join(decoy, 'var/lib/dpkg/status'), 'Package: decoy\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n');
  fs.writeFileSync(path.join(decoy, 'usr/share/doc/pkg/changelog.Debian.gz'), 'x');
  fs.utimesSync(path.join(decoy, 'usr/share/doc/pkg/changelog.Debian.gz'), 2_000_000_000, 2_000_000_000);
  fs.writeFileSync(path.join(decoy, 'usr/bin/bash'), '');
  fs.mkdirSync(root);
  for (const d of ['etc', 'usr', 'var', 'boot', 'tmp']) fs.symlinkSync(kind === 'absolute' ? path.join(decoy, d) : `../../../../..${path.join(decoy, d)}`, path.join(root, d));
  return { root, decoy };
}

describe.each(['absolute', 'dotdot'] as const)('a tree whose top directories are %s links to a decoy', (kind) => {
  test('paths resolve inside the tree; nothing kiln writes, renames or reads reaches the decoy', async () => {
    const { root, decoy } = hostile(kind);
    const before = snapshotDir(decoy);
    expect(hostPath(root, 'etc/resolv.conf').startsWith(`${root}/`)).toBe(true);
    expect(existsInTree(root, '/etc/os-release')).toBe(false);
    expect(treeShell(root)).toBe('/bin/sh');
    // The chroot session's resolv.conf and policy-rc.d: the directories do not exist in the tree, so nothing is put.
    const scope = new Scope();
    replaceFile(scope, root, 'etc/resolv.conf', 'nameserver 198.51.100.1\n');
    replaceFile(scope, root, 'usr/sbin/policy-rc.d', 'exit 101\n', 0o755);
    ensureHostResolvConf(scope, root);
    expect(snapshotDir(decoy)).toEqual(before);
    await scope.close();
    // The boot configuration, a file written into the tree, the manifest's packages and the epoch.
    writeBootConfig(root, { rootUuid: '00000000-0000-4000-8000-000000000001', kernel: { version: '6.1', vmlinuz: '/boot/vmlinuz-6.1', initrd: '/boot/initrd.img-6.1' } });
    expect(fs.readFileSync(hostPath(root, 'etc/fstab'), 'utf8')).toMatch(/^UUID=00000000-0000-4000-8000-000000000001\s+\/\s/m);
    writeInTree(root, 'usr/lib/kiln/first-boot.d/x', 'echo\n', 0o755);
    expect(readInstalled(root)).toEqual({ os: { id: 'linux', versionId: undefined, prettyName: undefined }, packages: [] });
    expect(sourceDateEpoch({}, root).seconds).not.toBe(2_000_000_000);
    expect(snapshotDir(decoy)).toEqual(before);
  });
});

test("a link to itself (/etc -> /etc) is a loop: exit 2 naming the tree and the path, nothing touched", () => {
  const root = tempDir('paths-loop');
  fs.symlinkSync('/etc', path.join(root, 'etc'));
  const hostResolv = fs.readFileSync('/etc/resolv.conf');
  expect(() => replaceFile(new Scope(), root, 'etc/resolv.conf', 'x')).toThrow(expect.objectContaining({ kind: 'invalid', message: `tree ${root}: /etc/resolv.conf cannot be resolved inside it (a loop of symbolic links)` }));
  expect(fs.readFileSync('/etc/resolv.conf').equals(hostResolv)).toBe(true);
});

test('inside the tree, links still work: usr-merged /bin, a relative resolv.conf link moved aside as a link', async () => {
  const root = tempDir('paths-ok');
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'));
  fs.symlinkSync('usr/bin', path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, 'usr/bin/bash'), '');
  fs.symlinkSync('/run/systemd/resolve/stub-resolv.conf', path.join(root, 'etc/resolv.conf'));
  expect(treeShell(root)).toBe('/bin/bash');
  expect(hostPath(root, '/bin/bash')).toBe(path.join(root, 'usr/bin/bash'));
  expect(hostPath(root, 'etc/resolv.conf', { keepLast: true })).toBe(path.join(root, 'etc/resolv.conf'));
  expect(hostPath(root, 'etc/resolv.conf')).toBe(path.join(root, 'run/systemd/resolve/stub-resolv.conf'));
  const scope = new Scope();
  replaceFile(scope, root, 'etc/resolv.conf', 'nameserver 198.51.100.1\n');
  expect(fs.readFileSync(path.join(root, 'etc/resolv.conf'), 'utf8')).toBe('nameserver 198.51.100.1\n');
  await scope.close();
  expect(fs.readlinkSync(path.join(root, 'etc/resolv.conf'))).toBe('/run/systemd/resolve/stub-resolv.conf');
  // A file written where a link was replaces the link, never writes through it.
  fs.symlinkSync('/etc/hostname', path.join(root, 'etc/hostname'));
  writeInTree(root, 'etc/hostname', 'kiln\n');
  expect(fs.lstatSync(path.join(root, 'etc/hostname')).isSymbolicLink()).toBe(false);
});
