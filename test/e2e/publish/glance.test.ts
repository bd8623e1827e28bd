/**
 * Publishing to a real Glance (Debian's glance-api, started here on 127.0.0.1): `kiln build --publish`
 * uploads a freshly built EFI qcow2 and the test reads it back through the API (bytes and properties);
 * --replace keeps exactly one active image under the name; an upload interrupted half-way (SIGINT, or
 * SIGKILL and the next run's sweep) leaves no record; a quota (413), an unreachable endpoint and a file
 * that is not an image are refused with their own messages and exit codes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allImages, httpGet, startGlance, type GlanceImageDoc, type GlanceServer } from '../helpers/glance.js';
import { EFI, EFI_BUILD, sharedImage, testFlavours, testHome } from '../helpers/images.js';
import { kiln } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

let glance: GlanceServer;
const work = tempDir('e2e-publish');
const image = path.join(work, 'pub.qcow2');
let built: { code: number | null; stderr: string; stdout: string };
let efi: string;

function sha(file: string, algo: string): string {
  const h = crypto.createHash(algo);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const named = async (name: string): Promise<GlanceImageDoc[]> => (await allImages(glance)).filter((i) => i.name === name);
const publish = (args: string[], opts: Parameters<typeof kiln>[1] = {}) => kiln(['publish', '--glance-endpoint', glance.url, ...args], opts);

beforeAll(async () => {
  glance = await startGlance();
  const { home } = testHome();
  // The EFI fixture's flavours and packages with the step cache on: the Debian tree comes from the run's cache
  // (the fixture stored it), the disk, the outputs and the upload are this build's own.
  efi = await sharedImage(EFI);
  built = await kiln(['build', '-o', path.join(work, 'pub'), '-t', 'qcow2', '--publish', '--glance-endpoint', glance.url, '--publish-name', 'kiln-e2e', '--property', 'kiln_test=yes', ...EFI_BUILD], {
    env: { HOME: home, ELEMENTS_PATH: testFlavours(), KILN_NO_CACHE: '0' },
  });
  fs.writeFileSync(path.join(work, 'build.log'), `${built.stdout}\n${built.stderr}`);
});

afterAll(async () => {
  await glance?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('kiln build --publish: the image reads back byte for byte, with the properties derived from the build', async () => {
  expect(built.stderr).toMatch(/kiln: published kiln-e2e as image [0-9a-f-]{36} \(qcow2, [\d.]+ MiB, sha512 verified\)/);
  expect(built.code).toBe(0);
  // The EFI fixture's flavours and packages, its tree restored: the same bytes (GPT, ESP and all) and manifest.
  expect(sha(image, 'sha256')).toBe(sha(`${efi}.qcow2`, 'sha256'));
  expect(fs.readFileSync(path.join(work, 'pub.manifest.json'), 'utf8')).toBe(fs.readFileSync(`${efi}.manifest.json`, 'utf8'));
  const [img, ...more] = await named('kiln-e2e');
  expect(more).toEqual([]);
  expect(img).toBeDefined();
  const doc = img as GlanceImageDoc;
  const manifestFile = path.join(work, 'pub.manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { build: { id: string } };
  expect(doc).toMatchObject({
    status: 'active',
    disk_format: 'qcow2',
    container_format: 'bare',
    visibility: 'private',
    size: fs.statSync(image).size,
    os_hash_algo: 'sha512',
    os_hash_value: sha(image, 'sha512'),
    os_distro: 'debian',
    os_version: '13', // the EFI fixture builds the default release, trixie
    architecture: 'x86_64',
    hw_disk_bus: 'virtio',
    hw_firmware_type: 'uefi',
    // cloud-init's default user (the default operating system is a cloud image); no guest agent in it.
    os_admin_user: 'debian',
    kiln_build_id: manifest.build.id,
    kiln_manifest_sha256: sha(manifestFile, 'sha256'),
    kiln_test: 'yes',
  });
  expect(doc.kiln_build_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(doc.kiln_upload).toBeUndefined();
  expect(doc.hw_qemu_guest_agent).toBeUndefined();
  // The bytes, read back through the API.
  const back = path.join(work, 'back.qcow2');
  fs.writeFileSync(back, await httpGet(`${glance.url}/v2/images/${doc.id}/file`));
  expect(sha(back, 'sha256')).toBe(sha(image, 'sha256'));
  fs.rmSync(back);
});

test('--replace keeps exactly one active image under the name; the old one is renamed, or deleted with --delete-old', async () => {
  const before = (await named('kiln-e2e'))[0] as GlanceImageDoc;
  const r1 = await publish(['--replace', '--name', 'kiln-e2e', image]);
  expect(r1.stderr).toContain(`renamed the old image ${before.id} to "kiln-e2e.replaced-`);
  expect(r1.code).toBe(0);
  const now = await named('kiln-e2e');
  expect(now.map((i) => i.status)).toEqual(['active']);
  expect(now[0]?.id).toBe(r1.stdout.trim());
  expect(now[0]?.os_hidden).toBe(false);
  const renamed = (await allImages(glance)).find((i) => i.id === before.id);
  expect(renamed?.name).toMatch(/^kiln-e2e\.replaced-\d{8}T\d{6}Z$/);
  expect(renamed?.status).toBe('active');

  const r2 = await publish(['--replace', '--delete-old', '--name', 'kiln-e2e', image]);
  expect(r2.code).toBe(0);
  const after = await named('kiln-e2e');
  expect(after.map((i) => i.id)).toEqual([r2.stdout.trim()]);
  expect((await allImages(glance)).some((i) => i.id === now[0]?.id)).toBe(false);
});

test('an upload interrupted half-way (SIGINT) deletes its record and exits 130', async () => {
  let sent = false;
  const r = await publish(['--limit-rate', '40M', '--name', 'kiln-e2e-int', image], {
    onStderr: (text, child) => {
      const m = /uploading ([\d.]+) \/ ([\d.]+) MiB/.exec(text.split('\n').reverse().find((l) => l.includes('uploading')) ?? '');
      if (!sent && m && Number(m[1]) > 20) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  expect(sent).toBe(true);
  expect(r.stderr).toContain('deleting the unfinished image');
  expect(r.code).toBe(130);
  expect(await named('kiln-e2e-int')).toEqual([]);
});

test('an upload killed outright (SIGKILL) leaves a queued record that the next publish from this host deletes', async () => {
  let killed = false;
  const r = await publish(['--limit-rate', '40M', '--name', 'kiln-e2e-kill', image], {
    onStderr: (text, child) => {
      if (!killed && /uploading [1-9]/.test(text)) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  expect(r.signal).toBe('SIGKILL');
  const left = await named('kiln-e2e-kill');
  expect(left.length).toBe(1);
  expect(left[0]?.kiln_upload).toMatch(new RegExp(`^${os.hostname()}/\\d+/\\d+$`));
  const next = await publish(['--name', 'kiln-e2e-next', image]);
  expect(next.code).toBe(0);
  expect(next.stderr).toContain(`deleting image ${left[0]?.id} (kiln-e2e-kill): left half-uploaded by a kiln that is gone`);
  expect(await named('kiln-e2e-kill')).toEqual([]);
});

test('refusals: a quota (413), an unreachable endpoint, a file that is not an image, a bad property; none leaves a record', async () => {
  const capped = await startGlance(['image_size_cap = 1048576']);
  try {
    const r = await kiln(['publish', '--glance-endpoint', capped.url, '--name', 'too-big', image]);
    expect(r.stderr).toMatch(/refused to upload the data of image .*: over the storage quota or size limit \(413\)/);
    expect(r.code).toBe(1);
    expect(await allImages(capped)).toEqual([]);
  } finally {
    await capped.stop();
  }
  const down = await kiln(['publish', '--glance-endpoint', 'http://127.0.0.1:47', image]);
  expect(down.stderr.trim().split('\n').pop()).toMatch(/^kiln: error: Glance at http:\/\/127\.0\.0\.1:47 is unreachable \(ECONNREFUSED\)/);
  expect(down.code).toBe(1);

  const tarball = path.join(work, 'tree.tar');
  fs.writeFileSync(tarball, Buffer.alloc(1 << 20, 0x61));
  const notImage = await publish([tarball]);
  expect(notImage.stderr).toMatch(/tree\.tar is not a disk image/);
  expect(notImage.code).toBe(2);

  const badProp = await publish(['--property', 'os_hash_value=x', image]);
  expect(badProp.stderr).toContain('--property os_hash_value: Glance (or kiln) sets this itself');
  expect(badProp.code).toBe(2);
  const names = (await allImages(glance)).map((i) => i.name);
  expect(names).not.toContain('tree');
  expect(names).not.toContain('pub');
});
