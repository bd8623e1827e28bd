/**
 * Pushes an OCI image layout directory (oci-layout, index.json, blobs/sha256/…) holding one image manifest
 * to a registry reference: its config and layers first (skipped when present, mounted from `mountFrom` when
 * given), then the manifest under the tag. What `kiln publish --to docker://…` sends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { blobPath as ociBlobPath } from '../oci/blobs.js';
import { OCI_MANIFEST, RegistryClient, type ClientOptions, type Descriptor } from './client.js';
import { parseImageRef, refText } from './ref.js';

export interface PushLayoutOptions extends ClientOptions {
  /** A repository of the same registry to mount blobs from. */
  readonly mountFrom?: string;
  /** Called with each blob's digest and what happened to it. */
  readonly onBlob?: (digest: string, how: 'exists' | 'mounted' | 'uploaded', bytes: number) => void;
}

/** Returns the manifest's digest. */
export async function pushOciLayout(layoutDir: string, ref: string, opts: PushLayoutOptions = {}): Promise<string> {
  const target = parseImageRef(ref, 'destination');
  const manifestDesc = onlyManifest(layoutDir);
  const manifestText = fs.readFileSync(blobPath(layoutDir, manifestDesc.digest));
  const manifest = JSON.parse(manifestText.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  const client = new RegistryClient(target, opts);
  for (const d of [manifest.config, ...manifest.layers]) {
    const file = blobPath(layoutDir, d.digest);
    if (fs.statSync(file).size !== d.size) throw invalid(`${layoutDir}: blob ${d.digest} is ${fs.statSync(file).size} bytes, the manifest says ${d.size}`);
    const how = await client.pushBlob(d.digest, d.size, { file }, opts.mountFrom);
    opts.onBlob?.(d.digest, how, d.size);
  }
  const digest = await client.putManifest(target.reference, manifestText.toString('utf8'), manifestDesc.mediaType);
  if (digest !== manifestDesc.digest) throw new Error(`${refText(target, target.reference)}: the manifest was stored as ${digest}, not ${manifestDesc.digest}`);
  return digest;
}

function onlyManifest(dir: string): Descriptor {
  let index: { manifests?: Descriptor[] };
  try {
    if (!fs.existsSync(path.join(dir, 'oci-layout'))) throw new Error('no oci-layout file');
    index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as typeof index;
  } catch (e) {
    throw invalid(`${dir}: not an OCI image layout (${(e as Error).message})`);
  }
  const images = (index.manifests ?? []).filter((m) => m.mediaType === OCI_MANIFEST);
  if (images.length !== 1) throw invalid(`${dir}/index.json: ${images.length} image manifests; exactly one can be pushed`);
  return images[0] as Descriptor;
}

function blobPath(dir: string, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw invalid(`${dir}: "${digest}" is not a sha256 digest`);
  const file = ociBlobPath(dir, digest);
  if (!fs.existsSync(file)) throw invalid(`${dir}: blob ${digest} is missing (${file})`);
  return file;
}
