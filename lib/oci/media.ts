/**
 * The OCI image format's names (image-spec 1.1): media types, the layout's marker file, descriptors and
 * digests. Everything kiln writes uses the OCI media types, never Docker's.
 */
import crypto from 'node:crypto';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** The empty descriptor's type (image-spec 1.1): the config of an artifact that has none. */
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

/** The content of an image layout's `oci-layout` file. */
export const LAYOUT_VERSION = '1.0.0';

/** How a layer's tar is stored: gzip (what every runtime reads) or as it is. */
export type LayerCompression = 'gzip' | 'none';

export function layerMediaType(c: LayerCompression): string {
  switch (c) {
    case 'gzip':
      return MEDIA_TYPES.layerGzip;
    case 'none':
      return MEDIA_TYPES.layer;
  }
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** A content descriptor: what a blob is, its digest (`sha256:HEX`) and size in bytes. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  /** An artifact manifest's type, as an index or a referrers list names it. */
  readonly artifactType?: string;
}

/** `sha256:HEX` of bytes. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a `sha256:HEX` digest (a blob's file name under blobs/sha256/). */
export function digestHex(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new Error(`not a sha256 digest: ${digest}`);
  return m[1] as string;
}
