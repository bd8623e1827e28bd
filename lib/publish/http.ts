/**
 * The one place kiln speaks HTTP (Keystone and Glance): JSON requests and streamed uploads over undici's
 * fetch, through the proxy the environment names (https_proxy/http_proxy, no_proxy: undici's
 * EnvHttpProxyAgent), cancelled by SIGINT/SIGTERM like every child process, given up when nothing moves for
 * the caller's idle time, with errors that name the service, the URL and what went wrong. undici is loaded
 * at the first request: a run that speaks no HTTP (most builds) does not pay for it.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { failed, interrupted, invalid, isKilnError, type KilnError } from '../errors/index.js';
import { cancelSignal } from '../exec/cancel.js';
import type { Tls } from './connection.js';

export interface HttpResponse {
  readonly status: number;
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
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

/** The proxy variables undici reads, in the form that keys the dispatchers below. */
const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'] as const;
const dispatchers = new Map<string, Dispatcher>();

const importUndici = () => import('undici');
type Undici = Awaited<ReturnType<typeof importUndici>>;
let undici: Promise<Undici> | undefined;

/** undici, imported once, at the first request. */
function loadUndici(): Promise<Undici> {
  return (undici ??= importUndici());
}

/**
 * One connection pool per TLS setting and proxy environment: direct, or through the proxy the environment
 * names for the URL's scheme unless no_proxy lists its host. Idle connections do not keep kiln running.
 */
function dispatcherFor(tls: Tls, { EnvHttpProxyAgent }: Undici): Dispatcher {
  const key = JSON.stringify([tls.verify, tls.cacert ?? '', ...PROXY_VARIABLES.map((v) => process.env[v] ?? '')]);
  let d = dispatchers.get(key);
  if (!d) {
    const ca = tls.cacert ? readCa(tls.cacert) : undefined;
    const origin = { rejectUnauthorized: tls.verify, ...(ca ? { ca } : {}) };
    // kiln's own idle timer (below) covers uploads that take longer than undici's header and body timeouts.
    // proxyTunnel false: an http endpoint goes to an http proxy as a plain proxied request (as curl sends it);
    // https is tunnelled with CONNECT either way.
    const options = { connect: origin, requestTls: origin, proxyTunnel: false, headersTimeout: 0, bodyTimeout: 0 };
    d = quietly(() => new EnvHttpProxyAgent(options));
    dispatchers.set(key, d);
  }
  return d;
}

/** undici 6 marks EnvHttpProxyAgent experimental with a process warning on first use, which kiln's output should not carry. */
function quietly<T>(make: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = (() => undefined) as typeof process.emitWarning;
  try {
    return make();
  } finally {
    process.emitWarning = emit;
  }
}

/** Sends one request and reads the whole response; only network failures throw (statuses are the caller's). */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  const http = await loadUndici();
  const url = new URL(req.url);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kiln', ...req.headers };
  let body: string | AsyncIterable<Buffer> | undefined;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['Content-Type'] ??= 'application/json';
  } else if (req.body !== undefined) {
    headers['Content-Type'] ??= 'application/octet-stream';
    if (req.length !== undefined) headers['Content-Length'] = String(req.length);
  }
  const signal = req.cancellable === false ? undefined : cancelSignal();
  if (signal?.aborted) throw interrupted(String(signal.reason ?? 'signal'));
  const dispatcher = dispatcherFor(req.tls, http);

  // One controller ends the request: a signal, the idle timer, or a failed read of the upload.
  const abort = new AbortController();
  let cause: KilnError | undefined;
  const stop = (e: KilnError): void => {
    cause ??= e;
    abort.abort(e);
  };
  const onSignal = (): void => stop(interrupted(String(signal?.reason ?? 'signal')));
  signal?.addEventListener('abort', onSignal, { once: true });
  const idle = req.idleTimeoutMs;
  const timer = idle
    ? setTimeout(() => stop(failed(`${req.service} at ${origin(req.url)} stopped answering: nothing moved for ${Math.round(idle / 1000)} s (${req.method} ${url.pathname})`)), idle)
    : undefined;
  const moved = (): void => void timer?.refresh();
  if (req.body !== undefined) body = counted(req.body, moved, (e) => stop(isKilnError(e) ? e : failed(`reading the upload for ${req.service} failed: ${e.message}`)));
  try {
    // redirect manual: a 3xx is the caller's to judge (as before fetch); following one would resend the token
    // (X-Auth-Token) or Keystone's credentials to wherever it points.
    const res = await http.fetch(url, { method: req.method, headers, body, dispatcher, signal: abort.signal, redirect: 'manual', ...(req.body ? { duplex: 'half' as const } : {}) });
    const chunks: Buffer[] = [];
    if (res.body) {
      for await (const c of res.body) {
        chunks.push(Buffer.from(c));
        moved();
      }
    }
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k.toLowerCase()] = v));
    return { status: res.status, headers: out, text: Buffer.concat(chunks).toString('utf8') };
  } catch (e) {
    throw cause ?? networkError(req, e as Error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onSignal);
    // A server may answer before the upload is complete (413, 403): stop reading the file.
    req.body?.destroy();
  }
}

/** The upload's chunks, each one noted as progress; a failed read ends the request with its own message. */
async function* counted(body: Readable, moved: () => void, fail: (e: Error) => void): AsyncIterable<Buffer> {
  try {
    for await (const c of body) {
      moved();
      yield c as Buffer;
    }
  } catch (e) {
    fail(e as Error);
    throw e;
  }
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

/** The innermost error of a chain of causes (duck-typed: errors may come from another realm). */
function rootCause(e: Error): Error {
  let at = e;
  for (let c = at.cause as Error | undefined; typeof c === 'object' && c !== null && typeof c.message === 'string'; c = c.cause as Error | undefined) at = c;
  return at;
}

/** fetch's "fetch failed" carries what went wrong as its cause (an errno, an undici code, a TLS error). */
function networkError(req: HttpRequest, thrown: Error): KilnError {
  const e = rootCause(thrown);
  const code = typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException).code! : e.message;
  const where = `${req.service} at ${origin(req.url)}`;
  if (/^Proxy response \((\d+)\)/.test(e.message)) {
    return failed(`${where}: the proxy refused the connection (${e.message.replace(/ !== 200.*$/, '')})`, { hint: 'check https_proxy/http_proxy, or list the host in no_proxy' });
  }
  if (code === 'bad port') {
    return invalid(`${where}: port ${new URL(req.url).port} is one that fetch never connects to (the Fetch standard's blocked ports)`, 'serve the endpoint on another port');
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
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
    case 'UND_ERR_SOCKET':
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
