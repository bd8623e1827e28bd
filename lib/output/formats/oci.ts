/**
 * oci: NAME.oci.tar, an OCI image layout archive (what `skopeo copy oci-archive:…`, `podman load` and
 * `docker load` read) of one image from scratch whose one layer is the tree: the `tar` format's tree tar
 * (numeric owners, xattrs, sorted, times clamped), gzipped. Its config has the build's platform, the time
 * SOURCE_DATE_EPOCH, PATH, /bin/sh as the command when the tree has one, and the build manifest's labels
 * (lib/oci/labels.ts). Docker's manifest.json is in the archive too, so Docker before 25 (which reads no
 * index.json) loads it as well, tagged NAME:latest. The same tree gives the same bytes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hostArch } from '../../config/parse.js';
import { imageLabels } from '../../oci/labels.js';
import { archiveLayout, writeImageLayout } from '../../oci/layout.js';
import { readRuntimeConfig } from '../../oci/runtime.js';
import { existsInTree } from '../../rootfs/paths.js';
import { KILN_VERSION } from '../../version.js';
import { manifestTextOf, type ManifestFacts } from '../manifest.js';
import type { FormatInput, FormatWriter } from '../types.js';
import { tarArgs } from './tar.js';

export const OCI_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The output's name without its extension: the image's title and name (NAME:latest). */
function imageName(final: string): string {
  return path.basename(final).replace(/\.oci\.tar$/, '');
}

async function finish(input: FormatInput): Promise<void> {
  const epoch = input.epoch ?? Math.floor(Date.now() / 1000);
  const name = imageName(input.final);
  const manifest = manifestTextOf(input.tree, input.build);
  const labels = imageLabels(JSON.parse(manifest) as ManifestFacts, {
    title: name,
    epoch,
    manifestSha256: crypto.createHash('sha256').update(manifest).digest('hex'),
  });
  const runtime = readRuntimeConfig(input.tree);
  const layout = path.join(input.scratch, 'layout');
  // input.dest holds the tree's tar (the commands'); it becomes the layer blob, then the archive replaces it.
  await writeImageLayout(layout, {
    layer: () => fs.createReadStream(input.dest, { highWaterMark: 1 << 20 }),
    compression: 'gzip',
    arch: input.build?.arch ?? hostArch(),
    epoch,
    labels: { ...runtime?.labels, ...labels },
    env: [OCI_PATH, ...(runtime?.env ?? [])],
    ...(runtime?.cmd ? { cmd: runtime.cmd } : runtime?.entrypoint ? {} : existsInTree(input.tree, '/bin/sh') ? { cmd: ['/bin/sh'] } : {}),
    ...(runtime?.entrypoint ? { entrypoint: runtime.entrypoint } : {}),
    ...(runtime?.user ? { user: runtime.user } : {}),
    ...(runtime?.workingDir ? { workingDir: runtime.workingDir } : {}),
    createdBy: `kiln ${KILN_VERSION}: the tree of ${name}`,
    name,
    dockerManifest: true,
  });
  await archiveLayout(layout, input.dest, epoch);
}

export const oci: FormatWriter = {
  format: 'oci',
  commands: (input) => [{ cmd: 'tar', args: tarArgs(input) }],
  finish,
};
