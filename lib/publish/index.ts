/**
 * `kiln publish`: one image file into Glance, verified. The record is created (hidden while it replaces
 * another), the data streamed with a progress display and hashed on the way, Glance's os_hash_value
 * compared with the local sha512, and only then is the image made visible under its name; after that,
 * with --replace, the caller's project's older images of that name are renamed (or deleted with
 * --delete-old), never another project's. Any failure or interrupt before that deletes the half-made record; a
 * record left by a killed kiln on this host is found by its kiln_upload owner and deleted next time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { readDiskInfo } from '../boot/image.js';
import { failed, invalid } from '../errors/index.js';
import { cancelSignal } from '../exec/cancel.js';
import { currentOwner, ownerAlive } from '../namespace/owner.js';
import type { Scope } from '../scope/index.js';
import type { Connection } from './connection.js';
import { Glance, type GlanceImage } from './glance.js';
import { classifyRaw, buildProperties, glanceDiskFormat, imageRecord, readSidecar, type Visibility } from './image.js';
import { openSession } from './keystone.js';

export interface PublishOptions {
  readonly file: string;
  readonly name: string;
  /** The user's --property values (override the derived ones). */
  readonly properties: Readonly<Record<string, string>>;
  readonly visibility: Visibility;
  readonly replace: boolean;
  readonly deleteOld: boolean;
  /** Bytes per second; undefined: as fast as the link goes. */
  readonly limitRate?: number;
  /** How long to wait for the image to become active after the upload. */
  readonly waitSeconds: number;
  readonly connection: Connection;
  readonly say: (line: string) => void;
  /** Progress display: a TTY line rewritten in place, otherwise a line every 10 %. */
  readonly progress: (sent: number, total: number, final: boolean) => void;
}

export interface PublishResult {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  readonly diskFormat: string;
  readonly bytes: number;
  readonly sha512: string;
  readonly seconds: number;
  readonly properties: Readonly<Record<string, string>>;
  /** What --replace did with the images that had the name: renamed to, or deleted. */
  readonly replaced: readonly { id: string; renamedTo?: string; deleted?: boolean }[];
}

/** Everything about the local file, checked before any request is made. */
export async function inspectForPublish(file: string): Promise<{ diskFormat: string; virtualSize: number; bytes: number }> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw invalid(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw invalid(`${file}: not a regular file`);
  const info = await readDiskInfo(file, 'publish');
  let diskFormat = glanceDiskFormat(info.format);
  if (info.format === 'raw') {
    const head = Buffer.alloc(0x8006);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    const kind = classifyRaw(head);
    if (!kind) throw invalid(`${file} is not a disk image: qemu-img reads it as raw, but it has no partition table, filesystem or ISO 9660 header`, 'publish a disk output (qcow2, raw, vhd, vmdk), not a tar or squashfs tree');
    diskFormat = kind;
  }
  return { diskFormat, virtualSize: info.virtualSize, bytes: st.size };
}

/** The kiln_upload property: this host and process, so a later run can tell a dead upload from a live one. */
function uploadOwner(): string {
  const o = currentOwner();
  return `${os.hostname()}/${o.pid}/${o.start}`;
}

/** Deletes records that a killed kiln on this host left half-uploaded (never anything else). */
async function sweepAbandoned(glance: Glance, say: (l: string) => void): Promise<void> {
  const host = os.hostname();
  const mine = await glance.uploadsBy(host);
  for (const img of mine) {
    const [, pid, start] = String(img.kiln_upload).split('/');
    if (ownerAlive({ pid: Number(pid), start: start ?? '' })) continue;
    say(`kiln: deleting image ${img.id} (${img.name ?? 'unnamed'}): left half-uploaded by a kiln that is gone`);
    await glance.delete(img.id);
  }
}

export async function publish(scope: Scope, o: PublishOptions): Promise<PublishResult> {
  const t0 = Date.now();
  const local = await inspectForPublish(o.file);
  const sidecar = readSidecar(o.file);
  if (!sidecar) o.say(`kiln: no ${o.file.replace(/\.[a-z0-9]+$/, '')}.manifest.json beside the image: publishing without build properties`);
  const properties = { ...buildProperties(sidecar), ...o.properties };
  const session = await openSession(o.connection);
  const glance = new Glance(session);
  await sweepAbandoned(glance, o.say);

  const existing = (await glance.byName(o.name)).filter((i) => i.status !== 'deleted' && i.status !== 'killed');
  if (existing.length > 0 && !o.replace) {
    o.say(`kiln: warning: ${existing.length} image(s) named "${o.name}" already exist (${existing.map((i) => i.id).join(', ')}); publishing another (use --replace to swap it in)`);
  }
  const hidden = o.replace && existing.length > 0;
  const record = imageRecord({ name: o.name, diskFormat: local.diskFormat, virtualSize: local.virtualSize, visibility: o.visibility, properties, hidden, uploadOwner: uploadOwner() });
  const created = await glance.create(record);
  const id = created.id;
  o.say(`kiln: created image ${id} "${o.name}" (${local.diskFormat}, ${(local.bytes / 2 ** 20).toFixed(1)} MiB) at ${glance.endpoint}`);
  // From here on, any failure or interrupt deletes the record: no half-made image is left behind.
  scope.defer(`glance image ${id}`, async () => {
    o.say(`kiln: deleting the unfinished image ${id}`);
    await glance.delete(id);
  });

  const meter = new Meter(local.bytes, o.limitRate, o.progress);
  const stream = fs.createReadStream(o.file, { highWaterMark: 1 << 20 });
  await glance.upload(id, stream.pipe(meter), local.bytes);
  o.progress(meter.sent, local.bytes, true);
  const sha512 = meter.digest();
  if (meter.sent !== local.bytes) throw failed(`${o.file} changed while it was uploaded (${meter.sent} of ${local.bytes} bytes sent)`);

  const active = await waitActive(glance, id, o.waitSeconds);
  if (active.size !== undefined && active.size !== null && active.size !== local.bytes) {
    throw failed(`Glance stored ${active.size} bytes of image ${id}, but ${o.file} has ${local.bytes} (record deleted)`);
  }
  const algo = active.os_hash_algo ?? 'sha512';
  const localHash = algo === 'sha512' ? sha512 : await hashFile(o.file, algo);
  if (!active.os_hash_value) throw failed(`Glance reports no os_hash_value for image ${id}, so the upload cannot be verified (record deleted)`);
  if (active.os_hash_value !== localHash) {
    throw failed(`checksum mismatch for image ${id}: Glance has ${algo} ${active.os_hash_value.slice(0, 16)}…, ${o.file} has ${localHash.slice(0, 16)}… (record deleted)`);
  }

  // The new image is visible (and kept) before any old one is touched: whatever fails after this, an image
  // is published under the name.
  await glance.patch(id, [{ op: 'remove', path: '/kiln_upload' }, ...(hidden ? [{ op: 'replace' as const, path: '/os_hidden', value: false }] : [])]);
  scope.keep(`glance image ${id}`);
  const replaced: { id: string; renamedTo?: string; deleted?: boolean }[] = [];
  if (o.replace) {
    // Only the caller's project's images: one shared by another project under the same name is not ours to rename or delete.
    const owner = created.owner;
    const others = existing.filter((old) => old.owner !== owner);
    if (others.length > 0) o.say(`kiln: left alone ${others.length} image(s) named "${o.name}" owned by other projects (${others.map((i) => i.id).join(', ')})`);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (const old of existing.filter((i) => i.id !== id && i.owner === owner)) {
      const renamedTo = `${o.name}.replaced-${stamp}`;
      try {
        if (o.deleteOld) await glance.delete(old.id);
        else await glance.patch(old.id, [{ op: 'replace', path: '/name', value: renamedTo }]);
      } catch (e) {
        throw failed(`published image ${id} "${o.name}", but the old image ${old.id} could not be ${o.deleteOld ? 'deleted' : 'renamed'}: ${(e as Error).message}`, {
          hint: `both are named "${o.name}" now: ${o.deleteOld ? 'delete' : 'rename'} ${old.id} by hand`,
        });
      }
      replaced.push(o.deleteOld ? { id: old.id, deleted: true } : { id: old.id, renamedTo });
      o.say(o.deleteOld ? `kiln: deleted the old image ${old.id}` : `kiln: renamed the old image ${old.id} to "${renamedTo}"`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  return { id, name: o.name, endpoint: glance.endpoint, diskFormat: local.diskFormat, bytes: local.bytes, sha512, seconds, properties, replaced };
}

async function waitActive(glance: Glance, id: string, seconds: number): Promise<GlanceImage> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const img = await glance.get(id);
    if (!img) throw failed(`image ${id} disappeared from Glance during the upload`);
    if (img.status === 'active') return img;
    if (img.status === 'killed' || img.status === 'deleted' || img.status === 'pending_delete') {
      throw failed(`Glance put image ${id} in status "${img.status}" after the upload (the store failed to keep the data)`);
    }
    if (Date.now() > deadline) throw failed(`image ${id} is still "${img.status}" ${seconds} s after the upload (record deleted)`, { hint: 'raise --wait' });
    await sleep(1000);
  }
}

function sleep(ms: number): Promise<void> {
  const signal = cancelSignal();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

async function hashFile(file: string, algo: string): Promise<string> {
  let h: crypto.Hash;
  try {
    h = crypto.createHash(algo);
  } catch {
    throw failed(`Glance hashes with "${algo}", which this Node.js cannot compute, so the upload cannot be verified`);
  }
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Counts, hashes (sha512) and optionally paces the bytes on their way to Glance. */
class Meter extends Transform {
  sent = 0;
  private readonly hash = crypto.createHash('sha512');
  private readonly started = Date.now();
  private lastReport = 0;

  constructor(
    private readonly total: number,
    private readonly rate: number | undefined,
    private readonly report: (sent: number, total: number, final: boolean) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.sent += chunk.length;
    this.hash.update(chunk);
    const now = Date.now();
    if (now - this.lastReport >= 500) {
      this.lastReport = now;
      this.report(this.sent, this.total, false);
    }
    const wait = this.rate === undefined ? 0 : (this.sent / this.rate) * 1000 - (now - this.started);
    if (wait > 0) setTimeout(() => done(null, chunk), wait);
    else done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
