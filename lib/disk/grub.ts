/**
 * GRUB images made with the tree's own grub-mkimage (run via chroot, so the tool matches the
 * modules; it needs no mounts). Both images carry a small early config that finds the root
 * filesystem by UUID, so the disk boots whatever BIOS drive or firmware path it ends up on.
 * The platform's modules are also copied to /boot/grub/<platform>, as grub-install would, so
 * `insmod` from grub.cfg and a later grub-install inside the image work.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec/index.js';
import { failed } from '../errors/index.js';
import { hostPath, writeInTree } from '../rootfs/paths.js';
import type { EfiPlatform } from './platform.js';

export type GrubPlatform = 'i386-pc' | EfiPlatform;

const COMMON_MODULES = ['part_msdos', 'part_gpt', 'ext2', 'search', 'search_fs_uuid', 'normal', 'configfile', 'linux', 'serial', 'terminal', 'echo', 'test', 'boot', 'ls', 'cat', 'reboot', 'halt'];

export function grubModules(platform: GrubPlatform): string[] {
  switch (platform) {
    case 'i386-pc':
      return ['biosdisk', ...COMMON_MODULES];
    case 'x86_64-efi':
      return [...COMMON_MODULES, 'fat', 'efi_gop', 'all_video', 'gfxterm'];
    case 'arm64-efi':
      // Debian's arm64 kernel is an EFI-stub Image: GRUB's linux loader starts it through the firmware; no video modules.
      return [...COMMON_MODULES, 'fat'];
  }
}

export function renderEarlyConfig(rootUuid: string): string {
  return `search --no-floppy --fs-uuid --set=root ${rootUuid}\nset prefix=($root)/boot/grub\n`;
}

const GRUB_PACKAGES: Readonly<Record<GrubPlatform, string>> = { 'i386-pc': 'grub-pc-bin', 'x86_64-efi': 'grub-efi-amd64-bin', 'arm64-efi': 'grub-efi-arm64-bin' };

/** argv after `chroot TREE`; paths are inside the tree. */
export function grubMkimageArgs(platform: GrubPlatform, earlyConfig: string, output: string): string[] {
  return ['grub-mkimage', '-O', platform, '-d', `/usr/lib/grub/${platform}`, '-p', '/boot/grub', '-c', earlyConfig, '-o', output, ...grubModules(platform)];
}

/** Builds a GRUB image for a platform from the tree's GRUB (grub-pc-bin / grub-efi-amd64-bin). */
export async function makeGrubImage(tree: string, platform: GrubPlatform, rootUuid: string): Promise<Buffer> {
  const moduleDir = hostPath(tree, `usr/lib/grub/${platform}`);
  if (!fs.existsSync(path.join(moduleDir, 'kernel.img'))) {
    const pkg = GRUB_PACKAGES[platform];
    throw failed(`the tree has no GRUB modules for ${platform} (${moduleDir})`, { hint: `install ${pkg} in the image` });
  }
  // Both files live in the tree's /tmp only while grub-mkimage runs (before the filesystem is made).
  const rel = { early: `/tmp/.kiln-grub-early-${process.pid}.cfg`, image: `/tmp/.kiln-grub-${platform}-${process.pid}.img` };
  const early = writeInTree(tree, rel.early, renderEarlyConfig(rootUuid));
  const image = hostPath(tree, rel.image, { keepLast: true });
  // Whatever sits at the name (a planted link) goes first: only what grub-mkimage writes is read back.
  fs.rmSync(image, { force: true });
  try {
    await run('chroot', [tree, ...grubMkimageArgs(platform, rel.early, rel.image)], { label: `grub-mkimage (${platform})` });
    if (!fs.lstatSync(image, { throwIfNoEntry: false })?.isFile()) throw failed(`grub-mkimage (${platform}) wrote no image`);
    const img = fs.readFileSync(image);
    if (img.length < 1024) throw failed(`grub-mkimage (${platform}) produced ${img.length} bytes`);
    return img;
  } finally {
    fs.rmSync(early, { force: true });
    fs.rmSync(image, { force: true });
  }
}

/** Copies /usr/lib/grub/<platform>/*.{mod,lst} to /boot/grub/<platform> inside the tree. */
export function copyGrubModules(tree: string, platform: GrubPlatform): void {
  const from = hostPath(tree, `usr/lib/grub/${platform}`);
  for (const name of fs.readdirSync(from)) {
    if (!(name.endsWith('.mod') || name.endsWith('.lst') || name === 'boot.img')) continue;
    // Regular files only: a module that is a link could name a host file.
    if (fs.lstatSync(path.join(from, name)).isFile()) writeInTree(tree, `boot/grub/${platform}/${name}`, fs.readFileSync(path.join(from, name)));
  }
}

export function readBootImg(tree: string): Buffer {
  return fs.readFileSync(hostPath(tree, 'usr/lib/grub/i386-pc/boot.img'));
}
