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

export type GrubPlatform = 'i386-pc' | 'x86_64-efi';

const COMMON_MODULES = ['part_msdos', 'part_gpt', 'ext2', 'search', 'search_fs_uuid', 'normal', 'configfile', 'linux', 'serial', 'terminal', 'echo', 'test', 'boot', 'ls', 'cat', 'reboot', 'halt'];

export function grubModules(platform: GrubPlatform): string[] {
  switch (platform) {
    case 'i386-pc':
      return ['biosdisk', ...COMMON_MODULES];
    case 'x86_64-efi':
      return [...COMMON_MODULES, 'fat', 'efi_gop', 'all_video', 'gfxterm'];
  }
}

export function renderEarlyConfig(rootUuid: string): string {
  return `search --no-floppy --fs-uuid --set=root ${rootUuid}\nset prefix=($root)/boot/grub\n`;
}

/** argv after `chroot TREE`; paths are inside the tree. */
export function grubMkimageArgs(platform: GrubPlatform, earlyConfig: string, output: string): string[] {
  return ['grub-mkimage', '-O', platform, '-d', `/usr/lib/grub/${platform}`, '-p', '/boot/grub', '-c', earlyConfig, '-o', output, ...grubModules(platform)];
}

/** Builds a GRUB image for a platform from the tree's GRUB (grub-pc-bin / grub-efi-amd64-bin). */
export async function makeGrubImage(tree: string, platform: GrubPlatform, rootUuid: string): Promise<Buffer> {
  const moduleDir = path.join(tree, 'usr/lib/grub', platform);
  if (!fs.existsSync(path.join(moduleDir, 'kernel.img'))) {
    const pkg = platform === 'i386-pc' ? 'grub-pc-bin' : 'grub-efi-amd64-bin';
    throw failed(`the tree has no GRUB modules for ${platform} (${moduleDir})`, { hint: `install ${pkg} in the image` });
  }
  // Both files live in the tree's /tmp only while grub-mkimage runs (before the filesystem is made).
  const rel = { early: `/tmp/.kiln-grub-early-${process.pid}.cfg`, image: `/tmp/.kiln-grub-${platform}-${process.pid}.img` };
  const early = path.join(tree, rel.early);
  const image = path.join(tree, rel.image);
  fs.mkdirSync(path.dirname(early), { recursive: true });
  fs.writeFileSync(early, renderEarlyConfig(rootUuid));
  try {
    await run('chroot', [tree, ...grubMkimageArgs(platform, rel.early, rel.image)], { label: `grub-mkimage (${platform})` });
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
  const from = path.join(tree, 'usr/lib/grub', platform);
  const to = path.join(tree, 'boot/grub', platform);
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (name.endsWith('.mod') || name.endsWith('.lst') || name === 'boot.img') fs.copyFileSync(path.join(from, name), path.join(to, name));
  }
}

export function readBootImg(tree: string): Buffer {
  return fs.readFileSync(path.join(tree, 'usr/lib/grub/i386-pc/boot.img'));
}
