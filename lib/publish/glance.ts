/**
 * The Glance v2 image API calls kiln makes: create a record, upload its data, read, list by name,
 * patch (rename, properties, visibility) and delete. Statuses become named errors: 401/403 are the
 * user's to fix (exit 2), 413 is a quota (exit 1), anything else unexpected names the call.
 */
import type { Readable } from 'node:stream';
import { failed, invalid, type KilnError } from '../errors/index.js';
import { origin, send, serviceMessage, type HttpResponse } from './http.js';
import type { Session } from './keystone.js';

export interface GlanceImage {
  readonly id: string;
  readonly name: string | null;
  readonly status: string;
  readonly disk_format?: string | null;
  readonly container_format?: string | null;
  readonly size?: number | null;
  readonly os_hash_algo?: string | null;
  readonly os_hash_value?: string | null;
  readonly os_hidden?: boolean;
  readonly visibility?: string;
  readonly [property: string]: unknown;
}

export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

export class Glance {
  constructor(private readonly session: Session) {}

  get endpoint(): string {
    return this.session.endpoint;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.session.token ? { 'X-Auth-Token': this.session.token } : {}), ...extra };
  }

  private url(p: string): string {
    return `${this.session.endpoint}/v2${p}`;
  }

  async create(record: Record<string, unknown>): Promise<GlanceImage> {
    const res = await send({ method: 'POST', url: this.url('/images'), json: record, headers: this.headers(), tls: this.session.tls, service: 'Glance', idleTimeoutMs: 60_000 });
    return json(check(res, 'create the image record', [201], this.endpoint));
  }

  /** Streams the data; `cancellable` uploads are cut by SIGINT/SIGTERM. */
  async upload(id: string, body: Readable, length: number): Promise<void> {
    const res = await send({
      method: 'PUT',
      url: this.url(`/images/${id}/file`),
      body,
      length,
      headers: this.headers({ 'Content-Type': 'application/octet-stream' }),
      tls: this.session.tls,
      service: 'Glance',
      idleTimeoutMs: 300_000,
    });
    check(res, `upload the data of image ${id}`, [204, 201, 200], this.endpoint);
  }

  async get(id: string, cancellable = true): Promise<GlanceImage | undefined> {
    const res = await send({ method: 'GET', url: this.url(`/images/${id}`), headers: this.headers(), tls: this.session.tls, service: 'Glance', cancellable, idleTimeoutMs: 60_000 });
    if (res.status === 404) return undefined;
    return json(check(res, `read image ${id}`, [200], this.endpoint));
  }

  /** Every image with this name that the caller can see (hidden ones included). */
  byName(name: string): Promise<GlanceImage[]> {
    return this.list(`name=${encodeURIComponent(name)}`, `list images named ${name}`);
  }

  /** Images not yet active (queued or saving) that carry a kiln_upload owner on this host. */
  async uploadsBy(host: string): Promise<GlanceImage[]> {
    const out: GlanceImage[] = [];
    for (const status of ['queued', 'saving']) out.push(...(await this.list(`status=${status}`, `list ${status} images`)));
    return out.filter((i) => typeof i.kiln_upload === 'string' && i.kiln_upload.startsWith(`${host}/`));
  }

  /** GET /v2/images with a filter, hidden images included, following pagination. */
  private async list(filter: string, what: string): Promise<GlanceImage[]> {
    const out: GlanceImage[] = [];
    for (const hidden of [false, true]) {
      let next: string | undefined = `/images?${filter}&limit=100${hidden ? '&os_hidden=true' : ''}`;
      while (next) {
        const res = await send({ method: 'GET', url: this.url(next.replace(/^\/v2/, '')), headers: this.headers(), tls: this.session.tls, service: 'Glance', idleTimeoutMs: 60_000 });
        const page = JSON.parse(check(res, what, [200], this.endpoint).text) as { images: GlanceImage[]; next?: string };
        out.push(...page.images);
        next = page.next;
      }
    }
    return out;
  }

  async patch(id: string, ops: readonly PatchOp[], cancellable = true): Promise<GlanceImage> {
    const res = await send({
      method: 'PATCH',
      url: this.url(`/images/${id}`),
      json: ops,
      headers: this.headers({ 'Content-Type': 'application/openstack-images-v2.1-json-patch' }),
      tls: this.session.tls,
      service: 'Glance',
      cancellable,
      idleTimeoutMs: 60_000,
    });
    return json(check(res, `update image ${id}`, [200], this.endpoint));
  }

  /** Deletes a record; never cancelled (it is how kiln cleans up). A record already gone is fine. */
  async delete(id: string): Promise<void> {
    const res = await send({ method: 'DELETE', url: this.url(`/images/${id}`), headers: this.headers(), tls: this.session.tls, service: 'Glance', cancellable: false, idleTimeoutMs: 60_000 });
    if (res.status === 404) return;
    check(res, `delete image ${id}`, [204, 200], this.endpoint);
  }
}

function json(res: HttpResponse): GlanceImage {
  try {
    return JSON.parse(res.text) as GlanceImage;
  } catch {
    throw failed(`Glance answered with a body that is not JSON (${res.status})`);
  }
}

/** Maps an unexpected status to a named error. */
export function statusError(status: number, what: string, text: string, endpoint: string): KilnError {
  const where = `Glance at ${origin(endpoint)}`;
  const msg = serviceMessage(text);
  switch (status) {
    case 401:
      return invalid(`${where} refused the token while trying to ${what} (401 Unauthorized)${msg ? `: ${msg}` : ''}`, 'check the credentials or --token');
    case 403:
      return invalid(`${where} forbids this: ${what} (403 Forbidden)${msg ? `: ${msg}` : ''}`, 'the project or role may not do this (public visibility usually needs an admin)');
    case 409:
      return failed(`${where}: conflict while trying to ${what} (409)${msg ? `: ${msg}` : ''}`);
    case 413:
      return failed(`${where} refused to ${what}: over the storage quota or size limit (413)${msg ? `: ${msg}` : ''}`, { hint: 'free quota (delete old images) or ask for a larger one' });
    case 400:
      return invalid(`${where} rejected the request to ${what} (400)${msg ? `: ${msg}` : ''}`);
    default:
      return failed(`${where} answered ${status} when asked to ${what}${msg ? `: ${msg}` : ''}`);
  }
}

function check(res: HttpResponse, what: string, ok: readonly number[], endpoint: string): HttpResponse {
  if (ok.includes(res.status)) return res;
  throw statusError(res.status, what, res.text, endpoint);
}
