/**
 * KubeVirt containerDisks: a real qcow2 (qemu-img) written as an OCI image layout, read by the real skopeo
 * (inspect, copy to a directory: one layer holding disk/NAME.qcow2 owned by 107:107, the bytes unchanged), the
 * same digest twice, and pushed to and pulled back from a real registry (Debian's docker-registry on 127.0.0.1,
 * started here, with basic auth) with the manifest digest unchanged: the registry accepts what kiln writes as it is.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { containerDiskPath, writeContainerDisk } from '../../../lib/oci/containerdisk.js';
import { imageLabels } from '../../../lib/oci/labels.js';
import { KilnError } from '../../../lib/errors/index.js';
import { thrown } from '../helpers/errors.js';
import { REGISTRY_BIN, skopeo, startRegistry, type TestRegistry } from '../../e2e/helpers/registry.js';
import { command, describeIf, file } from '../../helpers/requires.js';
import { output } from '../../helpers/sh.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('unit-oci-containerdisk');
const E = 1_700_000_000;
const sha256 = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('the file inside', () => {
  test.each([
    ['/x/build.qcow2', 'img', 'disk/img.qcow2'],
    ['/x/build.raw', 'img', 'disk/img.raw'],
    ['/x/build.img', 'debian-12', 'disk/debian-12.img'],
    ['/x/build.qcow2', 'img.qcow2', 'disk/img.qcow2'],
  ])('%s named %s is %s', (disk, name, inside) => {
    expect(containerDiskPath(disk, name)).toBe(inside);
  });

  test.each([
    ['/x/build.vmdk', 'img', '/x/build.vmdk: a containerDisk holds a qcow2 or raw disk named .qcow2, .raw or .img'],
    ['/x/b.qcow2', '../etc', 'containerDisk name "../etc": letters, digits and . _ + - only (a file name under disk/)'],
    ['/x/b.qcow2', 'a/b', 'containerDisk name "a/b": letters, digits and . _ + - only (a file name under disk/)'],
    ['/x/b.qcow2', '', 'containerDisk name "": letters, digits and . _ + - only (a file name under disk/)'],
  ])('%s named %j is refused (exit 2)', (disk, name, message) => {
    const e = thrown(() => containerDiskPath(disk, name));
    expect([e.exitCode, e.message]).toEqual([2, message]);
  });

  test('a disk that is not there is refused before anything is written', async () => {
    const layout = path.join(work, 'none');
    await expect(writeContainerDisk(path.join(work, 'missing.qcow2'), layout, { name: 'img', epoch: E, arch: 'amd64' })).rejects.toThrow(KilnError);
    expect(fs.existsSync(layout)).toBe(false);
  });
});

describeIf(command('skopeo'), command('qemu-img', 'qemu-utils'), command('tar'), file(REGISTRY_BIN, 'docker-registry (Debian package docker-registry)'))('a containerDisk of a real qcow2', () => {
  const disk = path.join(work, 'build.qcow2');
  const layout = path.join(work, 'layout');
  const labels = imageLabels({ build: { id: 'b-1', flavours: ['debian', 'vm'], arch: 'amd64', kiln: '0.1.0' }, os: { id: 'debian', versionId: '12' } }, { title: 'img', epoch: E });
  let digest: string;
  let registry: TestRegistry | undefined;
  afterAll(async () => registry?.stop());

  beforeAll(async () => {
    // A qcow2 with data in it (not only a header): 3 MiB of random bytes, converted.
    const raw = path.join(work, 'build.raw');
    fs.writeFileSync(raw, crypto.randomBytes(3 * 2 ** 20));
    output('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, disk]);
    digest = await writeContainerDisk(disk, layout, { name: 'img', labels, epoch: E, arch: 'amd64' });
  });

  test('the same disk again: the same digest and the same blobs', async () => {
    const again = path.join(work, 'again');
    expect(await writeContainerDisk(disk, again, { name: 'img', labels, epoch: E, arch: 'amd64' })).toBe(digest);
    const blobs = (d: string) => fs.readdirSync(path.join(d, 'blobs', 'sha256')).sort();
    expect(blobs(again)).toEqual(blobs(layout));
    expect(blobs(layout)).toHaveLength(3);
    expect(fs.readFileSync(path.join(again, 'index.json'))).toEqual(fs.readFileSync(path.join(layout, 'index.json')));
  });

  test('skopeo inspect: the manifest kiln returned, one layer, amd64/linux, the labels', () => {
    const info = JSON.parse(output('skopeo', ['inspect', `oci:${layout}`]));
    expect(info).toMatchObject({ Digest: digest, Architecture: 'amd64', Os: 'linux', Created: '2023-11-14T22:13:20Z', Labels: labels });
    expect(info.Layers).toHaveLength(1);
  });

  test('skopeo copy to a directory: the layer holds disk/ and disk/img.qcow2, 107:107, the bytes unchanged', () => {
    const out = path.join(work, 'copied');
    output('skopeo', ['copy', '--quiet', `oci:${layout}`, `dir:${out}`]);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const layer = path.join(out, manifest.layers[0].digest.slice(7));
    const list = output('tar', ['--numeric-owner', '--full-time', '-tvzf', layer]).trim().split('\n').map((l) => l.split(/\s+/));
    expect(list.map((f) => [f[0], f[1], f[5]])).toEqual([
      ['dr-xr-xr-x', '107/107', 'disk/'],
      ['-r--r-----', '107/107', 'disk/img.qcow2'],
    ]);
    expect(list[1]?.[2]).toBe(String(fs.statSync(disk).size));
    const extracted = path.join(work, 'extracted');
    fs.mkdirSync(extracted);
    output('tar', ['-xzf', layer, '-C', extracted]);
    expect(sha256(path.join(extracted, 'disk', 'img.qcow2'))).toBe(sha256(disk));
  });

  test('a real registry takes it as it is: pushed and pulled back, the same manifest digest and layer bytes', async () => {
    registry = await startRegistry();
    const ref = `docker://${registry.host}/kiln/containerdisk:v1`;
    skopeo(registry, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}`, ref]);
    expect(JSON.parse(skopeo(registry, ['inspect', '--tls-verify=false', ref])).Digest).toBe(digest);
    const back = path.join(work, 'pulled');
    skopeo(registry, ['copy', '--quiet', '--src-tls-verify=false', ref, `oci:${back}:v1`]);
    const index = JSON.parse(fs.readFileSync(path.join(back, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([digest]);
    for (const blob of fs.readdirSync(path.join(layout, 'blobs', 'sha256'))) {
      expect(sha256(path.join(back, 'blobs', 'sha256', blob))).toBe(blob);
    }
  });
});
