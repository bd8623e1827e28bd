/**
 * Blobs of an OCI image layout (blobs/sha256/HEX): JSON documents written whole, and a layer streamed once
 * from its tar: hashed as it is (the layer's diff id), compressed, hashed again (its digest) and written,
 * all in one pass. gzip is Node's zlib at its default level, without a name or time in the header, on every
 * core: the tar is cut every 16 MiB and each piece compressed as a gzip member of its own (a gzip file may
 * hold several; every reader of layers takes them), the pieces in order. The cuts are at fixed offsets, so
 * the same tar gives the same blob whatever the host's cores or tools.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import { promisify } from 'node:util';
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

const gzip = promisify(zlib.gzip);
/** Where the tar is cut into gzip members. */
export const GZIP_MEMBER_BYTES = 16 * 2 ** 20;

/** gzip as members of `member` bytes of input each, up to `parallel` compressed at once, written in order. */
export function gzipMembers(member = GZIP_MEMBER_BYTES, parallel = os.availableParallelism()): Transform {
  let parts: Buffer[] = [];
  let held = 0;
  let emitted = false;
  const pending: Promise<Buffer>[] = [];
  const take = (n: number): Buffer => {
    const all = Buffer.concat(parts);
    parts = n < all.length ? [all.subarray(n)] : [];
    held -= n;
    return all.subarray(0, n);
  };
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      held += chunk.length;
      void (async () => {
        while (held >= member) {
          pending.push(gzip(take(member)));
          await settle(parallel);
        }
      })().then(() => done(), done);
    },
    flush(done) {
      if (held > 0 || !emitted) pending.push(gzip(take(held)));
      settle(0).then(() => done(), done);
    },
  });
  const settle = async (keep: number) => {
    while (pending.length > keep) {
      t.push(await (pending.shift() as Promise<Buffer>));
      emitted = true;
    }
  };
  return t;
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
    if (compression === 'gzip') await pipe(tar, raw.stream, gzipMembers(), stored.stream, out);
    else await pipe(tar, raw.stream, stored.stream, out);
    const digest = stored.digest();
    fs.renameSync(tmp, blobPath(layoutDir, digest));
    return { descriptor: { mediaType: layerMediaType(compression), digest, size: stored.size() }, diffId: raw.digest() };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
