/**
 * `kiln publish --to docker://HOST[:PORT]/REPO:TAG IMAGE`: a qcow2 or raw disk pushed as a KubeVirt
 * containerDisk (lib/oci/containerdisk.ts: from scratch, one layer holding disk/NAME.qcow2 owned 107:107, OCI
 * media types, labels from the build manifest beside the image) through kiln's registry client. The layout is
 * written to a temporary directory and removed however the push ends; the registry gets the blobs first and
 * the manifest (the tag) last, so an interrupted push leaves no tag. The image's time is SOURCE_DATE_EPOCH, else
 * the file's modification time: the same file published twice is the same manifest digest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import { hostArch } from '../config/parse.js';
import { containerDiskPath, writeContainerDisk } from '../oci/containerdisk.js';
import { imageLabels } from '../oci/labels.js';
import { RegistryClient, RegistryUnreachable } from '../registry/client.js';
import { pushOciLayout } from '../registry/layout.js';
import { parseImageRef, refText } from '../registry/ref.js';
import type { Scope } from '../scope/index.js';
import { defaultImageName, readSidecar } from './image.js';
import { inspectForPublish } from './index.js';

/** The disk formats a containerDisk may hold (KubeVirt reads qcow2 and raw). */
const CONTAINER_DISK_FORMATS = ['qcow2', 'raw'];

export interface ContainerDiskPublishOptions {
  readonly file: string;
  /** docker://HOST[:PORT]/REPO[:TAG|@DIGEST] */
  readonly to: string;
  /** The disk's name under disk/ (default: the file's name without its extension). */
  readonly name?: string;
  readonly insecure: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly say: (line: string) => void;
}

export interface ContainerDiskPublishResult {
  readonly destination: string;
  readonly digest: string;
  readonly disk: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly blobs: { readonly uploaded: number; readonly present: number };
}

/** `--to` values kiln publishes to besides Glance (the default). */
export function isRegistryDestination(to: string): boolean {
  return to.startsWith('docker://');
}

export async function publishContainerDisk(scope: Scope, o: ContainerDiskPublishOptions): Promise<ContainerDiskPublishResult> {
  const t0 = Date.now();
  const target = parseImageRef(o.to, '--to');
  const { diskFormat, bytes } = await inspectForPublish(o.file);
  if (!CONTAINER_DISK_FORMATS.includes(diskFormat)) {
    throw invalid(`${o.file}: a containerDisk holds a qcow2 or raw disk, not ${diskFormat}`, `convert it: qemu-img convert -O qcow2 ${o.file} ${defaultImageName(o.file)}.qcow2`);
  }
  const sidecar = readSidecar(o.file);
  const name = o.name ?? defaultImageName(o.file);
  const disk = containerDiskPath(o.file, name);
  const fromEnv = Number(o.env.SOURCE_DATE_EPOCH);
  const epoch = Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : Math.floor(fs.statSync(o.file).mtimeMs / 1000);
  const labels = imageLabels(sidecar?.facts, { title: name, epoch, ...(sidecar ? { manifestSha256: sidecar.sha256 } : {}) });
  const arch = sidecar?.facts.build?.arch ?? hostArch();

  // The credentials and the registry first: a refusal (exit 2) or an unreachable registry costs no layer.
  await reachable(() => new RegistryClient(target, { insecure: o.insecure, env: o.env }).ping(), o.to);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-containerdisk-'));
  scope.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  const layout = path.join(dir, 'layout');
  await writeContainerDisk(o.file, layout, { name, labels, epoch, arch });
  const blobs = { uploaded: 0, present: 0 };
  const digest = await reachable(
    () =>
      pushOciLayout(layout, o.to, {
        insecure: o.insecure,
        env: o.env,
        onBlob: (_d, how) => {
          if (how === 'uploaded') blobs.uploaded += 1;
          else blobs.present += 1;
        },
      }),
    o.to,
  );
  const destination = `docker://${refText(target, target.reference)}`;
  const seconds = (Date.now() - t0) / 1000;
  o.say(`kiln: published ${o.file} to ${destination} as a containerDisk (${disk}, ${digest}, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${blobs.uploaded} blobs uploaded, ${blobs.present} already there) in ${seconds.toFixed(1)} s`);
  return { destination, digest, disk, bytes, seconds, blobs };
}

/** An unreachable registry is a failure (exit 1) naming the destination; nothing is tagged then. */
async function reachable<T>(fn: () => Promise<T>, to: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RegistryUnreachable) throw failed(`--to ${to}: ${e.message}`, { hint: 'nothing was tagged; publish again once the registry answers' });
    throw e;
  }
}
