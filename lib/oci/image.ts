/**
 * The JSON documents of an OCI image, rendered from data (pure): the image config, the image manifest, the
 * layout's index.json, and Docker's manifest.json (what `docker load` reads in every Docker version). Keys are
 * written in a fixed order and labels and annotations sorted, so the same image gives the same digests.
 */
import { MEDIA_TYPES, type Descriptor, type Platform } from './media.js';

export interface ConfigInput {
  readonly platform: Platform;
  /** RFC 3339 (rfc3339(epoch)). */
  readonly created: string;
  /** The layers' diff ids (digests of their uncompressed tars), bottom first. */
  readonly diffIds: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly env?: readonly string[];
  readonly cmd?: readonly string[];
  readonly entrypoint?: readonly string[];
  /** `NAME`, `UID`, `UID:GID`: who the container runs as. */
  readonly user?: string;
  readonly workingDir?: string;
  /** What made the layer (the config's history, shown by `docker history` and `podman history`). */
  readonly createdBy: string;
}

/** Seconds since 1970 → `2020-01-01T00:00:00Z`. */
export function rfc3339(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sorted(o: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!o || Object.keys(o).length === 0) return undefined;
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function imageConfigJson(c: ConfigInput): string {
  const labels = sorted(c.labels);
  const runtime = {
    ...(c.user ? { User: c.user } : {}),
    ...(c.env && c.env.length > 0 ? { Env: [...c.env] } : {}),
    ...(c.entrypoint && c.entrypoint.length > 0 ? { Entrypoint: [...c.entrypoint] } : {}),
    ...(c.cmd && c.cmd.length > 0 ? { Cmd: [...c.cmd] } : {}),
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    ...(labels ? { Labels: labels } : {}),
  };
  return JSON.stringify({
    created: c.created,
    architecture: c.platform.architecture,
    ...(c.platform.variant ? { variant: c.platform.variant } : {}),
    os: c.platform.os,
    config: runtime,
    rootfs: { type: 'layers', diff_ids: [...c.diffIds] },
    history: [{ created: c.created, created_by: c.createdBy }],
  });
}

function descriptor(d: Descriptor): Descriptor {
  const annotations = sorted(d.annotations);
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.platform ? { platform: { architecture: d.platform.architecture, os: d.platform.os, ...(d.platform.variant ? { variant: d.platform.variant } : {}) } } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

export function imageManifestJson(config: Descriptor, layers: readonly Descriptor[], annotations?: Readonly<Record<string, string>>): string {
  const a = sorted(annotations);
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
    ...(a ? { annotations: a } : {}),
  });
}

export function imageIndexJson(manifests: readonly Descriptor[]): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: manifests.map(descriptor) });
}

/** `docker load`'s manifest.json: the config and layers as paths in the archive, and the names to tag. */
export function dockerManifestJson(config: Descriptor, layers: readonly Descriptor[], repoTags: readonly string[]): string {
  const at = (d: Descriptor) => `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
  return JSON.stringify([{ Config: at(config), RepoTags: [...repoTags], Layers: layers.map(at) }]);
}

/**
 * A name an image can be loaded under, from an output's name: a Docker repository name is lower case
 * letters, digits and single separators (`.`, `_`, `-`) between them. Undefined when nothing is left.
 */
export function repositoryName(name: string): string | undefined {
  const r = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return r === '' ? undefined : r.slice(0, 128).replace(/[._-]+$/, '');
}
