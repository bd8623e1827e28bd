/**
 * A real Debian tree for the disk tests: the tar output of the run's shared EFI image (a kiln build of
 * `vm efi local-config` with GRUB for both BIOS and EFI), built once per run and extracted per test file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../../lib/exec/index.js';
import { EFI, sharedImage } from '../helpers/images.js';
import { tempDir } from '../../helpers/tmp.js';

/** A fresh extracted tree in a new temporary directory (removed with the test file); returns [dir, tree]. */
export async function extractDebianTree(prefix: string): Promise<{ dir: string; tree: string }> {
  const tarball = `${await sharedImage(EFI)}.tar`;
  const dir = tempDir(prefix);
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree);
  await run('tar', ['--extract', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--file', tarball, '--directory', tree], { label: 'extract test tree' });
  return { dir, tree };
}
