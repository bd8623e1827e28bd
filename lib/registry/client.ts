/**
 * A client of the OCI distribution API on Node's fetch: ping, blobs (exists, cross-repository mount,
 * monolithic upload with a chunked PATCH fallback, streamed digest-verified download), manifests and tags.
 * Authentication follows the registry's WWW-Authenticate challenge (basic, or bearer tokens from its realm)
 * with the credentials of lib/registry/auth.ts. HTTPS, except plain HTTP for loopback hosts or `insecure`.
 * Network errors and 5xx answers are retried with backoff; then RegistryUnreachable is thrown. Refused or
 * missing credentials are bad input (KilnError 'invalid', exit 2).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../errors/index.js';
import { authFiles, basicHeader, findCredentials, parseChallenge, type Challenge, type Credentials } from './auth.js';
import { isLoopback, refText, type RepoRef } from './ref.js';
import { MEDIA_TYPES, sha256Digest, type Descriptor } from '../oci/media.js';

export interface ClientOptions {
  /** Plain HTTP for a host that is not loopback (--insecure-registry). */
  readonly insecure?: boolean;
  /** Where credentials are looked up (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, HOME, DOCKER_CONFIG). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Attempts after the first on a network error or a 5xx answer (default 3), with backoffMs doubling (default 250). */
  readonly retries?: number;
  readonly backoffMs?: number;
  /** Upload blobs larger than this in PATCH chunks of this size (default: monolithic, chunked only as a fallback). */
  readonly chunkSize?: number;
  /** Per-request time limit until the answer's headers (default 60 s). */
  readonly timeoutMs?: number;
}

/** The registry could not be reached, or kept failing (5xx), after the retries. */
export class RegistryUnreachable extends Error {
  override readonly name = 'RegistryUnreachable';
}

export type BlobSource = { readonly file: string } | { readonly bytes: Buffer };

type Body = () => Buffer | ReadableStream<Uint8Array> | undefined;

/** The OCI names are lib/oci/media.ts's; these are the ones the registry side uses, by their old names. */
export type { Descriptor };
export const sha256 = sha256Digest;

export class RegistryClient {
  private readonly base: string;
  private auth: string | undefined;
  private creds: Credentials | undefined | null = null;

  constructor(
    readonly repo: RepoRef,
    private readonly opts: ClientOptions = {},
  ) {
    const http = opts.insecure === true || isLoopback(repo.host);
    this.base = `${http ? 'http' : 'https'}://${repo.host}`;
  }

  private get name(): string {
    return `registry ${this.repo.host}`;
  }

  /** Checks that the repository can be read (and written, with push): bad credentials throw (exit 2). */
  async ping(): Promise<void> {
    const res = await this.request('GET', `/v2/${this.repo.repo}/tags/list`, { ok: [200, 404] });
    await res.body?.cancel();
  }

  async blobExists(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${this.repo.repo}/blobs/${digest}`, { ok: [200, 404] });
    return res.status === 200;
  }

  /**
   * Makes the blob exist in the repository: already there, mounted from another repository of the same
   * registry (`mountFrom`), or uploaded. Returns which.
   */
  async pushBlob(digest: string, size: number, src: BlobSource, mountFrom?: string): Promise<'exists' | 'mounted' | 'uploaded'> {
    if (await this.blobExists(digest)) return 'exists';
    const query = mountFrom && mountFrom !== this.repo.repo ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    let start = await this.request('POST', `/v2/${this.repo.repo}/blobs/uploads/${query}`, { ok: [201, 202], body: () => Buffer.alloc(0) });
    if (start.status === 201) return 'mounted';
    const chunk = this.opts.chunkSize;
    if (chunk === undefined || size <= chunk) {
      const put = await this.request('PUT', withDigest(this.location(start), digest), { ok: [201, 400, 413], body: () => bodyOf(src), length: size });
      if (put.status === 201) return 'uploaded';
      // A proxy or registry that refuses one large body: a fresh upload session, in chunks.
      const why = await put.text();
      if (put.status === 400 && /DIGEST_INVALID|BLOB_UPLOAD_INVALID/.test(why)) throw new Error(`${this.name}: upload of ${digest} refused: ${why.slice(0, 200)}`);
      start = await this.request('POST', `/v2/${this.repo.repo}/blobs/uploads/`, { ok: [202], body: () => Buffer.alloc(0) });
    }
    await this.uploadChunks(this.location(start), digest, size, src, chunk ?? 16 * 2 ** 20);
    return 'uploaded';
  }

  private async uploadChunks(location: string, digest: string, size: number, src: BlobSource, chunk: number): Promise<void> {
    let at = location;
    for (let offset = 0; offset < size; offset += chunk) {
      const end = Math.min(size, offset + chunk) - 1;
      const res = await this.request('PATCH', at, {
        ok: [202],
        body: () => bodyOf(src, offset, end),
        length: end - offset + 1,
        headers: { 'content-range': `${offset}-${end}` },
      });
      at = this.location(res);
    }
    await this.request('PUT', withDigest(at, digest), { ok: [201], body: () => Buffer.alloc(0) });
  }

  /**
   * Streams a blob into `dest` (a partial name the caller renames into place), checking its digest; a download that
   * breaks off or arrives wrong leaves no file. Returns its size.
   */
  async pullBlob(digest: string, dest: string, tap?: (chunk: Buffer) => void): Promise<number> {
    const res = await this.request('GET', `/v2/${this.repo.repo}/blobs/${digest}`, { ok: [200] });
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    try {
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (d: Buffer) => {
        hash.update(d);
        tap?.(d);
        bytes += d.length;
      });
      await pipeline(body, fs.createWriteStream(dest));
    } catch (e) {
      fs.rmSync(dest, { force: true });
      throw new RegistryUnreachable(`${this.name}: download of ${digest} broke off: ${(e as Error).message}`);
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest) {
      fs.rmSync(dest, { force: true });
      throw new Error(`${this.name}: blob ${digest} arrived as ${got} (${bytes} bytes): not kept`);
    }
    return bytes;
  }

  /** The sha256 digest of a file, streamed. */
  async fileDigest(file: string): Promise<string> {
    const hash = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    return `sha256:${hash.digest('hex')}`;
  }

  /** A small blob into memory, digest-checked. */
  async blobBytes(digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/v2/${this.repo.repo}/blobs/${digest}`, { ok: [200] });
    const b = Buffer.from(await res.arrayBuffer());
    if (sha256(b) !== digest) throw new Error(`${this.name}: blob ${digest} arrived as ${sha256(b)}`);
    return b;
  }

  /** Stores a manifest under a tag (or its digest); returns its digest. */
  async putManifest(reference: string, manifest: string, mediaType: string): Promise<string> {
    const digest = sha256(manifest);
    const res = await this.request('PUT', `/v2/${this.repo.repo}/manifests/${reference}`, { ok: [201], body: () => Buffer.from(manifest), headers: { 'content-type': mediaType } });
    const said = res.headers.get('docker-content-digest');
    if (said && said !== digest) throw new Error(`${this.name}: the manifest was stored as ${said}, not ${digest}`);
    return digest;
  }

  /** A manifest by tag or digest, digest-checked; undefined when there is none. */
  async getManifest(reference: string, accept: readonly string[] = [OCI_MANIFEST]): Promise<{ body: Buffer; mediaType: string; digest: string } | undefined> {
    const res = await this.request('GET', `/v2/${this.repo.repo}/manifests/${reference}`, { ok: [200, 404], headers: { accept: accept.join(', ') } });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const body = Buffer.from(await res.arrayBuffer());
    const digest = sha256(body);
    if (reference.startsWith('sha256:') && reference !== digest) throw new Error(`${this.name}: manifest ${reference} arrived as ${digest}`);
    return { body, mediaType: res.headers.get('content-type') ?? '', digest };
  }

  /** Every tag of the repository (none when it does not exist yet). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.repo.repo}/tags/list?n=1000`;
    while (next) {
      const res: Response = await this.request('GET', next, { ok: [200, 404] });
      if (res.status === 404) {
        await res.body?.cancel();
        return out;
      }
      out.push(...(((await res.json()) as { tags?: string[] | null }).tags ?? []));
      next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return out;
  }

  private location(res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`${this.name}: upload answer ${res.status} without a Location`);
    return new URL(loc, this.base).toString();
  }

  /** One request, authenticated on a challenge, retried on network errors and 5xx; other statuses than `ok` throw. */
  private async request(method: string, pathOrUrl: string, o: { ok: readonly number[]; body?: Body; length?: number; headers?: Record<string, string> }): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const retries = this.opts.retries ?? 3;
    let authTried = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...o.headers };
      if (this.auth) headers.authorization = this.auth;
      if (o.body) {
        headers['content-type'] ??= 'application/octet-stream';
        if (o.length !== undefined) headers['content-length'] = String(o.length);
      }
      let res: Response;
      try {
        const body = o.body?.();
        res = await fetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body, duplex: 'half' }),
          redirect: 'follow',
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
        } as RequestInit);
      } catch (e) {
        if (attempt < retries) {
          await backoff(this.opts.backoffMs ?? 250, attempt);
          continue;
        }
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new RegistryUnreachable(`${this.name}: ${method} ${new URL(url).pathname} failed: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
      }
      if (res.status >= 500) {
        await res.body?.cancel();
        if (attempt < retries) {
          await backoff(this.opts.backoffMs ?? 250, attempt);
          continue;
        }
        throw new RegistryUnreachable(`${this.name}: ${method} ${new URL(url).pathname} answered ${res.status} ${retries + 1} times`);
      }
      if (res.status === 401 && !authTried) {
        const challenge = parseChallenge(res.headers.get('www-authenticate'));
        await res.body?.cancel();
        this.auth = await this.authenticate(challenge, method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push');
        authTried = true;
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw this.refused(res.status);
      }
      if (!o.ok.includes(res.status)) {
        const text = (await res.text()).slice(0, 300);
        throw new Error(`${this.name}: ${method} ${new URL(url).pathname} answered ${res.status}${text ? `: ${text.trim()}` : ''}`);
      }
      return res;
    }
  }

  private credentials(): Credentials | undefined {
    if (this.creds === null) this.creds = findCredentials(this.repo.host, this.opts.env ?? process.env);
    return this.creds;
  }

  private refused(status: number): Error {
    const c = this.credentials();
    if (!c) return invalid(`${this.name} asks for credentials (HTTP ${status}) and none are set for ${this.repo.host} in ${authFiles(this.opts.env ?? process.env).join(', ')}`, 'log in with podman login / docker login, or point REGISTRY_AUTH_FILE at an auth.json');
    return invalid(`${this.name} refused the credentials for ${this.repo.host} from ${c.file} (HTTP ${status}) for ${refText(this.repo)}`, 'check the user name and password there');
  }

  private async authenticate(challenge: Challenge | undefined, actions: string): Promise<string> {
    const c = this.credentials();
    if (!challenge || challenge.scheme === 'basic') {
      if (!c || c.username === undefined) throw this.refused(401);
      return basicHeader(c);
    }
    const scope = `repository:${this.repo.repo}:${actions}`;
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', scope);
    let res: Response;
    try {
      res = c?.identityToken
        ? await fetch(url.origin + url.pathname, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, service: challenge.service ?? '', scope, client_id: 'kiln' }),
            signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
          })
        : await fetch(url, { headers: c?.username !== undefined ? { authorization: basicHeader(c) } : {}, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000) });
    } catch (e) {
      throw new RegistryUnreachable(`${this.name}: its token service ${url.origin} failed: ${(e as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    if (!res.ok) throw new RegistryUnreachable(`${this.name}: its token service ${url.origin} answered ${res.status}`);
    const t = (await res.json()) as { token?: string; access_token?: string };
    const token = t.token ?? t.access_token;
    if (!token) throw new Error(`${this.name}: its token service gave no token`);
    return `Bearer ${token}`;
  }
}

export const OCI_MANIFEST = MEDIA_TYPES.manifest;
export const OCI_INDEX = MEDIA_TYPES.index;
export const OCI_EMPTY = MEDIA_TYPES.empty;
export const EMPTY_JSON = Buffer.from('{}');

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

function bodyOf(src: BlobSource, start?: number, end?: number): Buffer | ReadableStream<Uint8Array> {
  if ('bytes' in src) return start === undefined ? src.bytes : src.bytes.subarray(start, (end as number) + 1);
  const stream = fs.createReadStream(src.file, start === undefined ? {} : { start, end });
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}

function backoff(baseMs: number, attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, baseMs * 2 ** attempt));
}
