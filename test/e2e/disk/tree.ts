/**
 * A real small Debian tree for the disk tests, made once with mmdebstrap from the host's mirror
 * (read from its apt sources, never hard-coded) and cached as a tarball; each test file extracts it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../../lib/exec/index.js';
import { pickMirrors, readHostSources } from '../../../lib/rootfs/mirror.js';
import { tempDir } from '../../helpers/tmp.js';

export const CACHE = process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';
export const TREE_PACKAGES = ['linux-image-amd64', 'grub-pc-bin', 'grub-efi-amd64-bin', 'initramfs-tools', 'systemd-sysv'];

function hostMirror(): string {
  const mirror = process.env.DIB_DISTRIBUTION_MIRROR ?? pickMirrors(readHostSources()).mirror;
  if (!mirror) throw new Error('no Debian mirror in the host apt sources (/etc/apt/sources.list.d/*.sources)');
  return mirror;
}

/** The cached tarball of the tree, made on first use (atomically, so parallel runs are safe). */
export async function debianTreeTarball(): Promise<string> {
  const key = crypto.createHash('sha256').update(['bookworm', 'minbase', ...TREE_PACKAGES].join(' ')).digest('hex').slice(0, 12);
  const tarball = path.join(CACHE, `disk-tree-bookworm-${key}.tar`);
  if (fs.existsSync(tarball)) return tarball;
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = `${tarball}.kiln-part-${process.pid}.tar`;
  try {
    await run('mmdebstrap', ['--quiet', '--variant=minbase', `--include=${TREE_PACKAGES.join(',')}`, 'bookworm', tmp, hostMirror()], { label: 'mmdebstrap (test tree)', timeoutMs: 20 * 60_000 });
    fs.renameSync(tmp, tarball);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return tarball;
}

/** A fresh extracted tree in a new temporary directory (removed with the test file); returns [dir, tree]. */
export async function extractDebianTree(prefix: string): Promise<{ dir: string; tree: string }> {
  const tarball = await debianTreeTarball();
  const dir = tempDir(prefix);
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree);
  await run('tar', ['--extract', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--file', tarball, '--directory', tree], { label: 'extract test tree' });
  return { dir, tree };
}
