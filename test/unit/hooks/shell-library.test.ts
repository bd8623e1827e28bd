/**
 * $_LIB as elements source it: diskimage-builder's own files when its elements directory is on the search
 * path (found beside it, staged as they are, keyed by their bytes), kiln's own otherwise; sourced by bash
 * under `set -eu` as upstream's elements do.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findUpstreamLibrary, LIBRARY_FILES, shellLibrary, shellLibraryDigest } from '../../../lib/hooks/shell-library.js';
import { describeIf, file } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-shell-library');
const DIB = '/usr/lib/python3/dist-packages/diskimage_builder';

/** Stages a library into a directory, as lib/build/stage.ts does. */
function stage(files: Record<string, string>, name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text, { mode: 0o755 });
  return dir;
}
const bash = (lib: string, script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['-c', `set -eu -o pipefail; ${script}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', _LIB: lib, _BASE_ELEMENT_DIR: path.join(DIB, 'elements'), ...env } });

/** A directory laid out like diskimage-builder's package: elements/ (with package-installs-v2) and lib/. */
function fakeDib(name: string, withLib: boolean): string {
  const top = path.join(work, name);
  fs.mkdirSync(path.join(top, 'elements', 'package-installs', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(top, 'elements', 'package-installs', 'bin', 'package-installs-v2'), '');
  if (withLib) {
    fs.mkdirSync(path.join(top, 'lib'));
    for (const f of LIBRARY_FILES) fs.writeFileSync(path.join(top, 'lib', f), `# upstream ${f}\n`);
  }
  return path.join(top, 'elements');
}

describe('finding diskimage-builder\'s library', () => {
  test('beside its elements directory on the search path; not beside other directories', () => {
    const elements = fakeDib('dib', true);
    const other = path.join(work, 'mine');
    fs.mkdirSync(other, { recursive: true });
    expect(findUpstreamLibrary([other, elements])).toBe(path.join(work, 'dib', 'lib'));
    expect(findUpstreamLibrary([other])).toBeUndefined();
    expect(findUpstreamLibrary([fakeDib('dib-nolib', false)])).toBeUndefined();
  });
  test('its files are staged as they are, dib-run-parts is kiln\'s, and the digest follows their bytes', () => {
    const lib = path.join(work, 'dib', 'lib');
    const files = shellLibrary(lib);
    expect(files['img-functions']).toBe('# upstream img-functions\n');
    expect(Object.keys(files).sort()).toEqual([...LIBRARY_FILES, 'dib-run-parts'].sort());
    expect(files['dib-run-parts']).toContain('#!/bin/bash');
    const before = shellLibraryDigest(lib);
    fs.appendFileSync(path.join(lib, 'common-functions'), '# edited\n');
    expect(shellLibraryDigest(lib)).not.toBe(before);
  });
});

describe("kiln's own library (no diskimage-builder on the search path)", () => {
  const lib = stage(shellLibrary(undefined), 'native');
  test('the defaults set what elements rely on, under set -eu', () => {
    const r = bash(lib, 'unset ARCH; source $_LIB/img-defaults; source $_LIB/ramdisk-defaults; echo "$ARCH $FS_TYPE $IMAGE_TYPE $IMAGE_NAME $RAMDISK_ELEMENT $DIB_NO_TMPFS"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^(amd64|arm64|[a-z0-9_]+) ext4 qcow2 image ramdisk-base 0\n$/);
    expect(bash(lib, 'source $_LIB/common-defaults; echo $ARCH', { ARCH: 'arm64' }).stdout).toBe('arm64\n');
  });
  test('die prints its message and exits with the failed command\'s status', () => {
    const r = bash(lib, 'source $_LIB/die; false || die "it broke"');
    expect([r.status, r.stdout]).toEqual([1, 'it broke\n']);
  });
  test('common-functions and ramdisk-functions fail with a message saying what to do', () => {
    for (const f of ['common-functions', 'ramdisk-functions']) {
      const r = bash(lib, `source $_LIB/${f}; echo went on`);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`kiln: $_LIB/${f} is diskimage-builder's`);
      expect(r.stderr).toContain('ELEMENTS_PATH');
    }
  });
  test('img-functions names dib-run-parts in $_LIB, which runs', () => {
    const parts = path.join(work, 'parts');
    fs.mkdirSync(parts, { recursive: true });
    fs.writeFileSync(path.join(parts, '10-a'), '#!/bin/sh\necho ran-a\n', { mode: 0o755 });
    const r = bash(lib, `source $_LIB/img-functions; $DIB_RUN_PARTS ${parts}`);
    expect([r.status, r.stdout]).toEqual([0, 'ran-a\n']);
  });
});

describeIf(file(DIB, "diskimage-builder (Debian package python3-diskimage-builder)"))('diskimage-builder\'s real library, staged from the host', () => {
  test('found beside its elements, and its select_boot_kernel_initrd picks the newest Debian kernel', () => {
    const found = findUpstreamLibrary([path.join(DIB, 'elements')]);
    expect(found).toBe(path.join(DIB, 'lib'));
    const lib = stage(shellLibrary(found), 'upstream');
    const tree = path.join(work, 'tree');
    fs.mkdirSync(path.join(tree, 'boot'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'etc', 'debian_version'), '12.8\n');
    for (const f of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-27-amd64', 'initrd.img-6.1.0-9-amd64', 'initrd.img-6.1.0-27-amd64']) fs.writeFileSync(path.join(tree, 'boot', f), '');
    const r = bash(lib, `source $_LIB/common-defaults; source $_LIB/img-defaults; source $_LIB/common-functions; source $_LIB/img-functions; source $_LIB/ramdisk-defaults; source $_LIB/ramdisk-functions; select_boot_kernel_initrd ${tree}; echo "$KERNEL $RAMDISK"`);
    expect([r.status, r.stdout.trim().split('\n').pop()]).toEqual([0, 'vmlinuz-6.1.0-27-amd64 initrd.img-6.1.0-27-amd64']);
  });
});
