/**
 * An OCI image layout (image-spec's image-layout.md) of one single-layer image: `oci-layout`, `index.json`
 * naming the image manifest (with its platform and a tag), and `blobs/sha256/` holding the manifest, the
 * config and the layer; optionally Docker's `manifest.json` too, so that `docker load` of any version reads
 * the archive (Docker 25 and later also read index.json; older ones only manifest.json). The same layer tar,
 * platform, time and labels give the same bytes, so the same digests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ociPlatform } from '../distro/arch.js';
import { pipe, putJsonBlob, putLayerBlob } from './blobs.js';
import { dockerManifestJson, imageConfigJson, imageIndexJson, imageManifestJson, repositoryName, rfc3339 } from './image.js';
import { LAYOUT_VERSION, MEDIA_TYPES, type Descriptor, type LayerCompression } from './media.js';
import { tarStream, type TarEntry } from './tar.js';

export interface ImageSpec {
  /** Opens the layer's tar (once, when the layout is checked and the platform known). */
  readonly layer: () => Readable;
  readonly compression: LayerCompression;
  /** Debian's name of the architecture (amd64, arm64, …): the config's and the index's platform. */
  readonly arch: string;
  /** SOURCE_DATE_EPOCH: the image's creation time. */
  readonly epoch: number;
  /** The config's labels; the manifest carries the same as annotations. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly env?: readonly string[];
  readonly cmd?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  /** The config's history line. */
  readonly createdBy: string;
  /** The image's name: index.json tags the manifest `NAME:latest` (org.opencontainers.image.ref.name). */
  readonly name: string;
  /** Also write Docker's manifest.json, loading the image as `NAME:latest`. */
  readonly dockerManifest?: boolean;
}

export interface WrittenImage {
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layer: Descriptor;
  readonly diffId: string;
  /** `NAME:latest`, as index.json (and manifest.json) name the image; undefined when NAME has nothing usable. */
  readonly ref: string | undefined;
}

/** Writes the layout into `dir`, which must not exist or be empty. */
export async function writeImageLayout(dir: string, spec: ImageSpec): Promise<WrittenImage> {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length > 0) throw new Error(`${dir}: an image layout is written into an empty directory`);
  const platform = { ...ociPlatform(spec.arch), os: 'linux' };
  const created = rfc3339(spec.epoch);
  const { descriptor: layer, diffId } = await putLayerBlob(dir, spec.layer(), spec.compression);
  const config = putJsonBlob(
    dir,
    MEDIA_TYPES.config,
    imageConfigJson({
      platform,
      created,
      diffIds: [diffId],
      createdBy: spec.createdBy,
      ...(spec.labels ? { labels: spec.labels } : {}),
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cmd ? { cmd: spec.cmd } : {}),
      ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    }),
  );
  const manifest = putJsonBlob(dir, MEDIA_TYPES.manifest, imageManifestJson(config, [layer], spec.labels));
  const repo = repositoryName(spec.name);
  const ref = repo === undefined ? undefined : `${repo}:latest`;
  const entry: Descriptor = { ...manifest, platform, ...(ref ? { annotations: { 'org.opencontainers.image.ref.name': ref } } : {}) };
  fs.writeFileSync(path.join(dir, 'index.json'), imageIndexJson([entry]));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
  if (spec.dockerManifest) fs.writeFileSync(path.join(dir, 'manifest.json'), dockerManifestJson(config, [layer], ref ? [ref] : []));
  return { manifest, config, layer, diffId, ref };
}

/**
 * The layout in `dir` as one tar at `dest` (an oci-archive): every entry owned by 0:0, dated `epoch`,
 * directories 0755 and files 0644, names in byte order.
 */
export async function archiveLayout(dir: string, dest: string, epoch: number): Promise<void> {
  const entries: TarEntry[] = [];
  const own = { uid: 0, gid: 0, mtime: epoch };
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(dir, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        entries.push({ name: r, type: 'dir', mode: 0o755, ...own });
        walk(r);
      } else if (st.isFile()) entries.push({ name: r, type: 'file', mode: 0o644, source: path.join(dir, r), ...own });
      else throw new Error(`${path.join(dir, r)}: an image layout holds only directories and files`);
    }
  };
  walk('');
  await pipe(tarStream(entries), fs.createWriteStream(dest, { mode: 0o644 }));
}
