/**
 * image-pack --image on a real kiln-built qcow2 (the shared 'seed' image, copied): test-only reports what
 * is missing and leaves the file byte-identical; a reconcile that fails half-way (after real installs)
 * and one interrupted by SIGINT leave it byte-identical too; a reconcile that succeeds grows the image as
 * needed (built images are sized to fit), installs from the mirror, and writes a qcow2 that checks clean;
 * test-only then passes. Nothing stays mounted or attached.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SEED, sharedImage, testHome } from '../helpers/images.js';
import { expectNoLeaks, hostState, kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const SPEC = `arguments:
  greeting:
    description: what the marker says
    default: hello
  fail:
    description: make the last validator fail (for the half-way test)
    default: "no"
    choices: ["yes", "no"]
validators:
  - package: [tree]
  - os_case:
      - redhat:
          - package: nfs-utils
      - debian:
          - script:
              marker:
                env_vars: [greeting]
                inline: |
                  if [ "$test_only" = 1 ]; then
                    test "$(cat /etc/kiln-marker 2>/dev/null)" = "$distro $greeting" || { echo "marker missing" >&2; exit 1; }
                  else
                    echo "$distro $greeting" > /etc/kiln-marker
                  fi
  - argument_case:
      argument_name: fail
      cases:
        "yes":
          - script: {fail: {inline: 'echo "failing on purpose" >&2; exit 1'}}
  - any:
      - package: no-such-package-kiln
      - script: {present: {inline: 'command -v tree'}}
`;

const work = tempDir('e2e-pack-image');
const image = path.join(work, 'node.qcow2');
const spec = path.join(work, 'image.yaml');

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

beforeAll(async () => {
  const seed = await sharedImage(SEED);
  fs.copyFileSync(`${seed}.qcow2`, image);
  fs.writeFileSync(spec, SPEC);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const pack = (...args: string[]) => kiln(['pack', '--image', image, ...args, spec], { timeoutMs: 600_000 });

test('test-only reports what is missing and leaves the image byte-identical', async () => {
  const before = sha256(image);
  const host = hostState();
  const r = await pack('--test-only', '--json');
  expect(r.code).toBe(1);
  const report = JSON.parse(r.stdout) as { results: { path: string; status: string; failure?: { message: string } }[] };
  expect(report.results.map((x) => [x.path, x.status, x.failure?.message])).toEqual([
    ['validators[0].package', 'failed', 'not installed: tree'],
    ['validators[1].os_case', 'failed', expect.stringContaining('script marker exited 1')],
    ['validators[2].argument_case', 'passed', undefined],
    ['validators[3].any', 'failed', 'none of 2 alternatives holds'],
  ]);
  expect(sha256(image)).toBe(before);
  expectNoLeaks(host, work);
}, 600_000);

test('a reconcile that fails half-way, after real installs, leaves the image byte-identical', async () => {
  const before = sha256(image);
  const host = hostState();
  const r = await pack('--arg', 'fail=yes');
  expect(r.stdout).toMatch(/fixed +.*image\.yaml:\d+:\d+: validators\[0\]\.package/);
  expect(r.stdout).toContain('failing on purpose');
  expect(r.stderr).toMatch(/validators of .*image\.yaml failed on image .*node\.qcow2 \(the image was left as it was\)/);
  expect(r.code).toBe(1);
  expect(sha256(image)).toBe(before);
  expect(fs.readdirSync(work).filter((n) => n.includes('.kiln-'))).toEqual([]);
  expectNoLeaks(host, work);
}, 600_000);

test('a reconcile interrupted by SIGINT exits 130 and leaves the image byte-identical', async () => {
  const before = sha256(image);
  const host = hostState();
  let sent = false;
  const r = await kiln(['pack', '--image', image, spec], {
    timeoutMs: 600_000,
    onStderr: (text, child) => {
      if (!sent && text.includes('working on a raw copy')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 1500);
      }
    },
  });
  expect(sent).toBe(true);
  expect(r.code).toBe(130);
  expect(sha256(image)).toBe(before);
  expect(fs.readdirSync(work).filter((n) => n.includes('.kiln-'))).toEqual([]);
  expectNoLeaks(host, work);
}, 600_000);

test('reconcile grows the image, installs and replaces it (a qcow2 that checks clean); test-only then passes', async () => {
  const sizeBefore = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', image], { encoding: 'utf8' }).stdout)['virtual-size'] as number;
  const host = hostState();
  const r = await pack('--arg', 'greeting=hi');
  expect(r.stderr).toMatch(/the root filesystem had \d+ MiB free; the image grew by \d+ MiB/);
  expect(r.stdout).toMatch(/fixed +.*image\.yaml:\d+:\d+: validators\[0\]\.package/);
  expect(r.stdout).toMatch(/reconcile of .*image\.yaml on image .*node\.qcow2: 3 passed, 1 fixed, 0 failed/);
  expect(r.code).toBe(0);
  const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', image], { encoding: 'utf8' }).stdout) as { format: string; 'virtual-size': number; 'format-specific': { data: { 'compression-type': string } } };
  expect(info.format).toBe('qcow2');
  expect(info['format-specific'].data['compression-type']).toBe('zstd');
  expect(info['virtual-size']).toBeGreaterThan(sizeBefore);
  expect(spawnSync('qemu-img', ['check', image]).status).toBe(0);
  // The partition table and the root filesystem of the result are sound.
  const raw = path.join(work, 'check.raw');
  expect(spawnSync('qemu-img', ['convert', '-O', 'raw', image, raw]).status).toBe(0);
  expect(spawnSync('sfdisk', ['--verify', raw], { encoding: 'utf8' }).stdout).toContain('No errors detected.');
  const part = (JSON.parse(spawnSync('sfdisk', ['--json', raw], { encoding: 'utf8' }).stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0];
  const fsck = spawnSync('e2fsck', ['-fn', `${raw}?offset=${(part?.start ?? 0) * 512}`], { encoding: 'utf8' });
  expect(fsck.status).toBe(0);
  fs.rmSync(raw);
  expectNoLeaks(host, work);

  const again = await pack('--test-only', '--arg', 'greeting=hi');
  expect(again.stdout).toMatch(/test-only of .*image\.yaml on image .*: 4 passed, 0 failed/);
  expect(again.code).toBe(0);
}, 600_000);

test('a file that is not a disk image is refused (exit 2) and left alone', async () => {
  const junk = path.join(work, 'junk.img');
  fs.writeFileSync(junk, Buffer.alloc(4 << 20, 0x61));
  const before = sha256(junk);
  const r = await kiln(['pack', '--image', junk, '--test-only', spec]);
  expect(r.stderr.trim().split('\n').pop()).toMatch(/^kiln: error: image ".*junk\.img": no root filesystem found/);
  expect(r.code).toBe(2);
  expect(sha256(junk)).toBe(before);
}, 120_000);

test('qcow2 images that refer to a real bootable disk (a backing file, an external data file): get-kernel, pack, publish, install --installed and boot exit 2 naming it and read nothing', async () => {
  const backed = path.join(work, 'backed.qcow2');
  const withData = path.join(work, 'with-data.qcow2');
  const dataFile = path.join(work, 'bootable.raw');
  expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'qcow2', backed]).status).toBe(0);
  expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${dataFile},data_file_raw=on`, withData, '4G']).status).toBe(0);
  // The data file holds the bootable disk: following it would "work".
  expect(spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, dataFile]).status).toBe(0);
  // A file read after its atime was set before its mtime gets a new atime (relatime): shown on a control file.
  const old = new Date('2000-01-01T00:00:00Z');
  const control = path.join(work, 'control');
  fs.writeFileSync(control, 'x');
  fs.utimesSync(control, old, fs.statSync(control).mtime);
  fs.readFileSync(control);
  expect(fs.statSync(control).atimeMs).toBeGreaterThan(old.getTime());
  for (const f of [image, dataFile]) fs.utimesSync(f, old, fs.statSync(f).mtime);
  const { key } = testHome();
  for (const [file, ref] of [[backed, `backing file "${image}"`], [withData, `external data file "${dataFile}"`]] as const) {
    const runs = [
      ['disk-image-get-kernel', ['-d', work, file]],
      ['kiln', ['pack', '--image', file, '--test-only', spec]],
      ['kiln', ['publish', '--glance-endpoint', 'http://127.0.0.1:9', '--name', 'refused', file]],
      ['kiln', ['install', '--os', 'debian12', '--installed', file, '-o', path.join(work, 'installed'), '--ssh-key', key]],
      ['kiln', ['boot', file]],
    ] as const;
    for (const [bin, args] of runs) {
      const r = await kiln([...args], { bin });
      expect([bin, args[0], r.code]).toEqual([bin, args[0], 2]);
      expect(r.stderr).toContain(`refers to other files: ${ref}`);
    }
  }
  for (const f of [image, dataFile]) expect([f, fs.statSync(f).atimeMs]).toEqual([f, old.getTime()]);
  expect(fs.readdirSync(work).filter((n) => /vmlinuz|initrd|^installed/.test(n))).toEqual([]);
  for (const f of [backed, withData, dataFile, control]) fs.rmSync(f);
}, 300_000);

