/**
 * Blobs of an OCI image layout (blobs/sha256/HEX): JSON documents written whole, and a layer streamed once
 * from its tar: hashed as it is (the layer's diff id), compressed, hashed again (its digest) and written,
 * all in one pass. gzip is Node's zlib at its default level, without a name or time in the header, so the
 * same tar gives the same blob whatever tools the host has.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { interrupted } from '../errors/index.js';
import { cancelSignal } from '../exec/cancel.js';
import { digestHex, layerMediaType, sha256Digest, type Descriptor, type LayerCompression } from './media.js';

export function blobPath(layoutDir: string, digest: string): string {
  return path.join(layoutDir, 'blobs', 'sha256', digestHex(digest));
}

/** Writes `json` (already serialised: its bytes are what the digest covers) as a blob. */
export function putJsonBlob(layoutDir: string, mediaType: string, json: string): Descriptor {
  const data = Buffer.from(json, 'utf8');
  const digest = sha256Digest(data);
  fs.mkdirSync(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(blobPath(layoutDir, digest), data, { mode: 0o644 });
  return { mediaType, digest, size: data.length };
}

/** Runs a stream pipeline that an interrupt (SIGINT, SIGTERM, SIGHUP) stops, as it stops kiln's processes. */
export async function pipe(...streams: [Readable, ...(Transform | Writable)[]]): Promise<void> {
  const signal = cancelSignal();
  try {
    await pipeline(streams, { signal });
  } catch (e) {
    if (signal.aborted) throw interrupted(String(signal.reason ?? 'signal'));
    throw e;
  }
}

/** A pass-through stream that hashes what goes through it. */
function hashing(): { stream: Transform; digest: () => string; size: () => number } {
  const hash = crypto.createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest('hex')}`, size: () => size };
}

export interface LayerBlob {
  readonly descriptor: Descriptor;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  readonly diffId: string;
}

/** Streams a layer tar into the layout as one blob; the source is read once. */
export async function putLayerBlob(layoutDir: string, tar: Readable, compression: LayerCompression): Promise<LayerBlob> {
  const dir = path.join(layoutDir, 'blobs', 'sha256');
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, '.layer.partial');
  const raw = hashing();
  const stored = hashing();
  try {
    const out = fs.createWriteStream(tmp, { mode: 0o644 });
    if (compression === 'gzip') await pipe(tar, raw.stream, zlib.createGzip(), stored.stream, out);
    else await pipe(tar, raw.stream, stored.stream, out);
    const digest = stored.digest();
    fs.renameSync(tmp, blobPath(layoutDir, digest));
    return { descriptor: { mediaType: layerMediaType(compression), digest, size: stored.size() }, diffId: raw.digest() };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
