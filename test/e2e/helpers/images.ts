/**
 * Images shared between end-to-end test files: each distinct image is built once per test run
 * (scripts/test empties the directory first) and reused by every test that only inspects or boots it.
 * Most files that use them run in one lane (scripts/test's IMAGES_LANE); a file of the other lane that asks
 * for an image while it is being built waits for that build (a lock file per image), so none is built
 * twice at once.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tryLock } from '../../../lib/namespace/lock.js';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { kiln, REPO } from './kiln.js';

export const IMAGES = path.join(REPO, 'test-results', 'e2e-images');

/** A shared image: its name, the arguments of its build, and the command that builds it. */
export interface Fixture {
  readonly name: string;
  readonly args: readonly string[];
  readonly bin: string;
  /** Built with the step cache on: another test file that builds the same flavours shares its steps. */
  readonly cache?: boolean;
}

/** The seed's flavours; build/debian-faults.test.ts builds them too, sharing the run's step cache with SEED. */
export const SEED_FLAVOURS = ['vm', 'local-config', 'fbtest'] as const;
/**
 * The seed's image: `disk-image-create vm local-config` (debian added), with a first-boot.d test hook, in the
 * formats its users inspect (every other format is written and checked by disk/disk.test.ts).
 */
export const SEED: Fixture = { name: 'seed', args: ['-t', 'qcow2,raw,tar', '--checksum', ...SEED_FLAVOURS], bin: 'disk-image-create', cache: true };
/** The EFI image's packages and flavours; publish/glance.test.ts builds them too, sharing its cached steps. */
export const EFI_BUILD = ['-p', 'grub-pc-bin', 'vm', 'efi', 'local-config'] as const;
/**
 * The EFI image, booted by image/vm.test.ts; its tar (with GRUB for BIOS too) is also the real Debian tree
 * disk/disk.test.ts assembles disks from.
 */
export const EFI: Fixture = { name: 'efi', args: ['-t', 'qcow2,tar', ...EFI_BUILD], bin: 'kiln', cache: true };
/** The deploy ramdisk (kernel + initramfs). */
export const DEPLOY: Fixture = { name: 'deploy', args: ['deploy'], bin: 'ramdisk-image-create', cache: true };

/** A HOME with an SSH key pair, so local-config copies a key the tests can log in with. */
export function testHome(): { home: string; key: string } {
  const home = path.join(IMAGES, 'home');
  const key = path.join(home, '.ssh', 'id_ed25519');
  if (!fs.existsSync(key)) {
    // Both lanes of end-to-end files may ask at once: each makes a pair in a directory of its own and renames
    // it to .ssh; a rename onto an existing .ssh fails, so the first pair wins whole.
    const mine = path.join(home, `.ssh.${process.pid}`);
    fs.mkdirSync(mine, { recursive: true, mode: 0o700 });
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kiln-e2e', '-f', path.join(mine, 'id_ed25519')]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
    try {
      fs.renameSync(mine, path.dirname(key));
    } catch {
      fs.rmSync(mine, { recursive: true, force: true });
    }
  }
  return { home, key };
}

/**
 * Test flavours: fbtest, a first-boot.d hook that counts its runs, and a cleanup.d hook that replaces the
 * tree's grub-mkimage with a failing one when KILN_TEST_FAULT=grub (cleanup.d and the variables only it reads
 * are not step-cache inputs, so the faulty builds share the seed's cached steps). Both lanes may ask at once:
 * each writes a copy of its own and renames it into place; the first whole copy wins.
 */
export function testFlavours(): string {
  const dir = path.join(IMAGES, 'flavours');
  if (fs.existsSync(dir)) return dir;
  const mine = `${dir}.${process.pid}`;
  writeFlavour(path.join(mine, 'fbtest'), {
    hooks: {
      'first-boot.d': { '50-count': '#!/bin/sh\nset -eu\nmkdir -p /var/lib/kiln-test\necho "first boot hook ran" >> /var/lib/kiln-test/first-boot-count\necho KILN-FIRST-BOOT-HOOK\n' },
      'cleanup.d': {
        '90-break-grub': `#!/bin/sh\nset -eu\n[ "\${KILN_TEST_FAULT:-}" = grub ] || exit 0\nprintf '#!/bin/sh\\necho "grub-mkimage: injected failure" >&2\\nexit 1\\n' > "$TARGET_ROOT/usr/bin/grub-mkimage"\n`,
      },
    },
  });
  fs.mkdirSync(IMAGES, { recursive: true });
  try {
    fs.renameSync(mine, dir);
  } catch {
    fs.rmSync(mine, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Notes a shared fixture's build time and the test file that paid for it: the suite's timing table
 * (test/report.ts) counts it against the fixture's own allowance, not against that file.
 */
export function recordFixture(name: string, seconds: number): void {
  fs.mkdirSync(IMAGES, { recursive: true });
  const testPath = expect.getState().testPath ?? '';
  fs.writeFileSync(path.join(IMAGES, `${name}.fixture.json`), `${JSON.stringify({ name, seconds, testPath })}\n`);
}

/**
 * Holds `${prefix}.lock` (kiln's own lock file: a dead owner's is taken over) while `fn` runs; waits while
 * another live process of this run holds it.
 */
async function withImageLock<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const attempt = tryLock(`${prefix}.lock`);
    if ('release' in attempt) {
      try {
        return await fn();
      } finally {
        attempt.release();
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Builds `name` with these arguments unless this run already did; returns the output prefix. */
export async function sharedImage(fixture: Fixture): Promise<string> {
  fs.mkdirSync(IMAGES, { recursive: true });
  return withImageLock(path.join(IMAGES, fixture.name), () => buildShared(fixture));
}

async function buildShared({ name, args, bin, cache }: Fixture): Promise<string> {
  const prefix = path.join(IMAGES, name);
  const stamp = `${prefix}.built`;
  const key = JSON.stringify({ bin, args });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key) return prefix;
  const { home } = testHome();
  const r = await kiln([...(bin === 'kiln' ? ['build'] : []), '-o', prefix, ...args], {
    bin,
    env: { HOME: home, ELEMENTS_PATH: testFlavours(), ...(cache ? { KILN_NO_CACHE: '0' } : {}) },
  });
  fs.writeFileSync(`${prefix}.build.log`, `${r.stdout}\n${r.stderr}`);
  if (r.code !== 0) throw new Error(`building ${name} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(-4000)}`);
  fs.writeFileSync(stamp, key);
  recordFixture(name, r.seconds);
  process.stdout.write(`built ${name} in ${r.seconds.toFixed(1)} s\n`);
  return prefix;
}
