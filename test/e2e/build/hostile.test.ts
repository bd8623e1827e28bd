/**
 * Hostile trees and images never reach the host. Busybox trees, and raw/qcow2 images made from them, whose
 * /etc, /usr, /tmp, /proc, /dev and /boot are absolute or `../` symlinks to a decoy directory (a stand-in
 * for the host's own: following a link on the host lands in it): `pack` test-only and reconcile (--root and
 * --image), `disk-image-get-kernel` and a build whose root.d makes such links change nothing in the decoy,
 * watched all through the run and compared after it. And two builds started together on a dead build's
 * output lock: never both.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { expectNoLeaks, hostState, kiln, type Run } from '../helpers/kiln.js';
import { makeTree } from '../spec/fake-tree.js';
import { snapshotDir } from '../../helpers/snapshot.js';

const work = tempDir('e2e-hostile');
// The decoy must not lie below a directory the trees link (a decoy in TMPDIR, reached through the tree's
// linked /tmp, would make that link a loop): /var/tmp, which no tree here links.
const decoy = fs.mkdtempSync('/var/tmp/kiln-e2e-decoy-');
const F = path.join(work, 'flavours');
const LINKED = ['etc', 'usr', 'tmp', 'proc', 'dev', 'boot'] as const;


/** Runs kiln while checking the decoy every 50 ms; returns the run and every moment the decoy differed. */
async function watched(args: string[], opts: Parameters<typeof kiln>[1] = {}): Promise<{ r: Run; changes: string[] }> {
  const before = snapshotDir(decoy);
  const changes: string[] = [];
  const timer = setInterval(() => {
    const now = snapshotDir(decoy);
    if (now.join('\n') !== before.join('\n')) changes.push(now.filter((l) => !before.includes(l)).join(', ') || 'an entry went away');
  }, 50);
  try {
    const r = await kiln(args, { timeoutMs: 5 * 60_000, ...opts });
    return { r, changes };
  } finally {
    clearInterval(timer);
    const after = snapshotDir(decoy);
    if (after.join('\n') !== before.join('\n')) changes.push(`after: ${after.filter((l) => !before.includes(l)).join(', ') || 'an entry went away'}`);
  }
}

/** The link to the decoy's `name` as written in a tree at `root`: absolute, or climbing out with `..`. */
const linkTo = (root: string, name: string, kind: 'absolute' | 'dotdot') =>
  kind === 'absolute' ? path.join(decoy, name) : path.join(path.relative(root, '/'), '..', '..', decoy, name);

function hostileTree(name: string, kind: 'absolute' | 'dotdot', linked: readonly string[]): string {
  const root = path.join(work, name);
  makeTree(root, {}, {});
  for (const d of linked) {
    fs.rmSync(path.join(root, d), { recursive: true, force: true });
    fs.symlinkSync(linkTo(root, d, kind), path.join(root, d));
  }
  return root;
}

const SPEC = `validators:
  - script:
      hostile:
        inline: |
          echo "kiln ran here" > /root/kiln-ran
          sleep 1
`;

beforeAll(() => {
  // The decoy looks like a system: what kiln would touch if it followed a link on the host.
  for (const d of ['etc', 'usr/sbin', 'usr/bin', 'tmp', 'proc', 'dev/pts', 'boot', 'sys']) fs.mkdirSync(path.join(decoy, d), { recursive: true });
  fs.writeFileSync(path.join(decoy, 'etc/resolv.conf'), 'nameserver 192.0.2.53\n');
  fs.writeFileSync(path.join(decoy, 'etc/os-release'), 'ID=decoy\n');
  fs.writeFileSync(path.join(decoy, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 0\n');
  fs.writeFileSync(path.join(decoy, 'boot/vmlinuz-9.9.9'), 'decoy kernel');
  fs.writeFileSync(path.join(decoy, 'boot/initrd.img-9.9.9'), 'decoy initrd');
  fs.writeFileSync(path.join(work, 'spec.yaml'), SPEC);
  // A flavour whose root.d (after busybox's) turns the tree's system directories into links out of it.
  const links = ['etc', 'tmp', 'proc', 'dev', 'boot'].map((d) => `rm -rf "$TARGET_ROOT/${d}"; ln -s "${path.join(decoy, d)}" "$TARGET_ROOT/${d}"`).join('\n');
  writeFlavour(path.join(F, 'hostile'), { hooks: { 'root.d': { '90-links-out': `#!/bin/sh\nset -e\n${links}\n` }, 'install.d': { '50-wait': '#!/bin/sh\nsleep 1\n' } } });
  writeFlavour(path.join(F, 'slow'), { hooks: { 'install.d': { '50-slow': '#!/bin/sh\nsleep 3\n' } } });
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(decoy, { recursive: true, force: true });
});

describe.each(['absolute', 'dotdot'] as const)('a tree whose /etc, /usr, /tmp, /proc, /dev and /boot are %s links to the decoy', (kind) => {
  test('pack --root, test-only and reconcile: the decoy is never touched', async () => {
    const root = hostileTree(`tree-${kind}`, kind, LINKED);
    const before = hostState();
    for (const mode of [['--test-only'], []]) {
      const { r, changes } = await watched(['pack', '--root', root, ...mode, path.join(work, 'spec.yaml')]);
      expect([mode, changes]).toEqual([mode, []]);
      expect([mode, r.code, r.stderr]).toEqual([mode, 0, expect.any(String)]);
    }
    expect(fs.readFileSync(path.join(root, 'root/kiln-ran'), 'utf8')).toBe('kiln ran here\n');
    expectNoLeaks(before, work);
  });
});

describe('raw and qcow2 images (no partition table) whose /usr, /tmp, /proc, /dev, /boot and /etc/resolv.conf lead to the decoy', () => {
  const images: Record<string, string> = {};
  beforeAll(() => {
    for (const kind of ['absolute', 'dotdot'] as const) {
      const root = hostileTree(`image-tree-${kind}`, kind, ['usr', 'tmp', 'proc', 'dev', 'boot']);
      fs.rmSync(path.join(root, 'etc/resolv.conf'), { force: true });
      fs.symlinkSync(linkTo(path.join(root, 'etc'), 'etc/resolv.conf', kind), path.join(root, 'etc/resolv.conf'));
      const raw = path.join(work, `hostile-${kind}.raw`);
      expect(spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, raw, '64M']).status).toBe(0);
      images[`raw-${kind}`] = raw;
      const qcow2 = path.join(work, `hostile-${kind}.qcow2`);
      expect(spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]).status).toBe(0);
      images[`qcow2-${kind}`] = qcow2;
    }
  });

  test.each(['raw-absolute', 'qcow2-dotdot'])('%s: pack --image test-only and reconcile, and get-kernel, never touch the decoy', async (name) => {
    const image = images[name] as string;
    const before = hostState();
    for (const mode of [['--test-only'], []]) {
      const { r, changes } = await watched(['pack', '--image', image, ...mode, path.join(work, 'spec.yaml')]);
      expect([mode, changes]).toEqual([mode, []]);
      expect([mode, r.code, r.stderr]).toEqual([mode, 0, expect.any(String)]);
    }
    // The image's /boot leads to the decoy's kernel on the host; inside the image it leads nowhere.
    const { r, changes } = await watched(['-d', work, image], { bin: 'disk-image-get-kernel' });
    expect(changes).toEqual([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no kernel/);
    expect(fs.readdirSync(work).filter((n) => /vmlinuz|initrd/.test(n))).toEqual([]);
    expectNoLeaks(before, work);
  });
});

test('a partition table pointing past the end of the disk: get-kernel and pack --image exit 2 naming the partition', async () => {
  const disk = path.join(work, 'bad-table.raw');
  const mbr = Buffer.alloc(4 * 2 ** 20);
  mbr.writeUInt8(0x83, 446 + 4); // partition 1: Linux, from sector 2048, 1,000,000 sectors (the disk has 8,192)
  mbr.writeUInt32LE(2048, 446 + 8);
  mbr.writeUInt32LE(1_000_000, 446 + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  fs.writeFileSync(disk, mbr);
  for (const [bin, args] of [['disk-image-get-kernel', ['-d', work, disk]], ['kiln', ['pack', '--image', disk, '--test-only', path.join(work, 'spec.yaml')]]] as const) {
    const r = await kiln([...args], { bin });
    expect([bin, r.code]).toEqual([bin, 2]);
    expect(r.stderr).toMatch(/partition 1 \(bytes 1048576 to 513048576\) does not fit in the disk \(4194304 bytes\)/);
  }
});

test('a build whose root.d turns /etc, /tmp, /proc, /dev and /boot into links to the decoy: chroot, hooks, outputs and manifest stay in the tree', async () => {
  const out = path.join(work, 'out');
  fs.mkdirSync(out, { recursive: true });
  const before = hostState();
  const { r, changes } = await watched(['build', '-t', 'tar', '-o', path.join(out, 'img'), 'busybox', 'hostile'], { env: { ELEMENTS_PATH: F } });
  expect(changes).toEqual([]);
  expect([r.code, r.stderr.slice(-1500)]).toEqual([0, expect.any(String)]);
  // The manifest reports the tree's own (nothing), not the decoy's os-release.
  expect(JSON.parse(fs.readFileSync(path.join(out, 'img.manifest.json'), 'utf8')).os.id).not.toBe('decoy');
  expectNoLeaks(before, out);
});

test("a dead build's output lock and two builds started together, five times: exactly one of them builds each time", async () => {
  const out = path.join(work, 'locks');
  fs.mkdirSync(out, { recursive: true });
  const lock = path.join(out, '.img.kiln-lock');
  const args = ['build', '-t', 'tar', '-o', path.join(out, 'img'), 'busybox', 'slow'];
  for (let round = 0; round < 5; round++) {
    fs.writeFileSync(lock, JSON.stringify({ pid: 999_999, start: '1' }));
    const runs = await Promise.all([kiln(args, { env: { ELEMENTS_PATH: F } }), kiln(args, { env: { ELEMENTS_PATH: F } })]);
    const codes = runs.map((x) => x.code).sort();
    expect([round, codes]).toEqual([round, [0, 2]]);
    expect(runs.find((x) => x.code === 2)?.stderr).toMatch(/another kiln build \(pid \d+\) is writing this output now/);
    expect(fs.readdirSync(out).filter((n) => n.includes('kiln-lock') || n.includes('takeover'))).toEqual([]);
  }
});
