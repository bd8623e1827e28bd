/**
 * The one place kiln speaks HTTP (Keystone and Glance): JSON requests and streamed uploads over
 * node:http/https, cancelled by SIGINT/SIGTERM like every child process, with errors that name the
 * service, the URL and what went wrong.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { failed, interrupted, invalid, isKilnError, type KilnError } from '../errors/index.js';
import { cancelSignal } from '../exec/cancel.js';
import type { Tls } from './connection.js';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (sent with Content-Type application/json unless headers say otherwise). */
  readonly json?: unknown;
  /** A streamed body (an upload). */
  readonly body?: Readable;
  /** Content-Length of a streamed body. */
  readonly length?: number;
  readonly tls: Tls;
  /** false: not aborted by SIGINT/SIGTERM (cleanup requests must still run while kiln unwinds). */
  readonly cancellable?: boolean;
  /** Gives up when no byte moves for this long. */
  readonly idleTimeoutMs?: number;
  /** The service's name in messages: "Glance", "Keystone". */
  readonly service: string;
}

/** Sends one request and reads the whole response; only network failures throw (statuses are the caller's). */
export function send(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  const lib = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kiln', ...req.headers };
  let payload: Buffer | undefined;
  if (req.json !== undefined) {
    payload = Buffer.from(JSON.stringify(req.json));
    headers['Content-Type'] ??= 'application/json';
    headers['Content-Length'] = String(payload.length);
  } else if (req.body !== undefined) {
    headers['Content-Type'] ??= 'application/octet-stream';
    if (req.length !== undefined) headers['Content-Length'] = String(req.length);
  }
  const signal = req.cancellable === false ? undefined : cancelSignal();
  if (signal?.aborted) return Promise.reject(interrupted(String(signal.reason ?? 'signal')));
  const tlsOpts = url.protocol === 'https:' ? { rejectUnauthorized: req.tls.verify, ...(req.tls.cacert ? { ca: readCa(req.tls.cacert) } : {}) } : {};
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (e: KilnError | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // A server may answer before the upload is complete (413, 403): stop sending and let go of the socket.
      if (req.body && !r.writableFinished) {
        req.body.unpipe(r);
        req.body.destroy();
        r.destroy();
      }
      if (e) reject(e);
      else resolve(response as HttpResponse);
    };
    const r = lib.request(url, { method: req.method, headers, ...tlsOpts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish(networkError(req, e)));
    });
    const onAbort = (): void => {
      finish(interrupted(String(signal?.reason ?? 'signal')));
      req.body?.destroy();
      r.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (req.idleTimeoutMs) {
      r.setTimeout(req.idleTimeoutMs, () => {
        finish(failed(`${req.service} at ${origin(req.url)} stopped answering: nothing moved for ${Math.round(req.idleTimeoutMs! / 1000)} s (${req.method} ${url.pathname})`));
        req.body?.destroy();
        r.destroy();
      });
    }
    r.on('error', (e) => finish(networkError(req, e)));
    if (payload) r.end(payload);
    else if (req.body) {
      req.body.on('error', (e) => {
        finish(isKilnError(e) ? e : failed(`reading the upload for ${req.service} failed: ${e.message}`));
        r.destroy();
      });
      req.body.pipe(r);
    } else r.end();
  });
}

function readCa(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw invalid(`CA bundle ${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

export function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

function networkError(req: HttpRequest, e: Error): KilnError {
  const code = (e as NodeJS.ErrnoException).code ?? e.message;
  const where = `${req.service} at ${origin(req.url)}`;
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return failed(`${where} is unreachable (${code})`, { hint: 'check the endpoint URL and that the service is running' });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return failed(`${where}: the host name does not resolve (${code})`);
    case 'ECONNRESET':
    case 'EPIPE':
      return failed(`${where} closed the connection during ${req.method} ${new URL(req.url).pathname} (${code})`);
    default:
      if (/certificate|CERT|SSL|self.signed/i.test(code)) {
        return failed(`${where}: TLS certificate not trusted (${code})`, { hint: 'give the CA with OS_CACERT or clouds.yaml cacert' });
      }
      return failed(`${where}: ${req.method} ${new URL(req.url).pathname} failed (${code})`);
  }
}

/** The message an OpenStack service puts in an error body (several shapes exist), or the body's first line. */
export function serviceMessage(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const e = (j.error ?? j) as Record<string, unknown>;
    const m = e.message ?? e.title ?? Object.values(j).map((v) => (v as { message?: string })?.message).find(Boolean);
    if (typeof m === 'string') return oneLine(m);
  } catch {
    /* not JSON */
  }
  return oneLine(text);
}

function oneLine(s: string): string {
  const t = s.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
