/**
 * Keystone v3: a token from the credentials (POST /v3/auth/tokens, the token in X-Subject-Token) and the
 * image service's endpoint from the catalog that comes with it.
 */
import { failed, invalid } from '../errors/index.js';
import type { Connection, KeystoneAuth, NameOrId, Tls } from './connection.js';
import { origin, send, serviceMessage } from './http.js';

export interface CatalogEndpoint {
  readonly interface: string;
  readonly region?: string | null;
  readonly region_id?: string | null;
  readonly url: string;
}

export interface CatalogService {
  readonly type: string;
  readonly name?: string;
  readonly endpoints: readonly CatalogEndpoint[];
}

export interface Session {
  /** The Glance base URL (without /v2). */
  readonly endpoint: string;
  readonly token?: string;
  readonly tls: Tls;
}

/** The JSON body of POST /v3/auth/tokens for these credentials. */
export function tokenRequest(auth: KeystoneAuth): unknown {
  const scoped = (s: NameOrId | undefined): Record<string, unknown> => (s ? { scope: { project: s } } : {});
  switch (auth.method) {
    case 'password':
      return { auth: { identity: { methods: ['password'], password: { user: { ...auth.user, password: auth.password } } }, ...scoped(auth.scope) } };
    case 'application_credential': {
      const cred = auth.id ? { id: auth.id, secret: auth.secret } : { name: auth.name, user: auth.user, secret: auth.secret };
      return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
    }
    case 'token':
      return { auth: { identity: { methods: ['token'], token: { id: auth.token } }, ...scoped(auth.scope) } };
  }
}

/** The v3 tokens URL for an auth_url given with or without its version. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
}

/** Picks the image endpoint: type "image", the interface asked for, the region if one is given. */
export function findImageEndpoint(catalog: readonly CatalogService[], iface: string, region: string | undefined): string {
  const services = catalog.filter((s) => s.type === 'image');
  if (services.length === 0) throw failed(`the Keystone catalog has no image service (types: ${catalog.map((s) => s.type).join(', ') || 'none'})`, { hint: 'is Glance registered? or pass --glance-endpoint' });
  const all = services.flatMap((s) => s.endpoints);
  const matches = all.filter((e) => e.interface === iface && (region === undefined || e.region_id === region || e.region === region));
  const first = matches[0];
  if (!first) {
    const have = all.map((e) => `${e.interface}@${e.region_id ?? e.region ?? '-'}`).join(', ');
    throw failed(`the Keystone catalog has no ${iface} image endpoint${region ? ` in region ${region}` : ''} (it has: ${have})`, { hint: 'set OS_REGION_NAME / OS_INTERFACE (or region_name / interface in clouds.yaml)' });
  }
  return glanceBase(first.url);
}

/** Glance's base URL: catalog entries come with or without a /v2 suffix; kiln adds /v2 itself. */
export function glanceBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v2(\.\d+)?$/, '');
}

/** Resolves a connection to a Glance endpoint and a token (Keystone is asked only when needed). */
export async function openSession(c: Connection): Promise<Session> {
  if (c.kind === 'direct') return { endpoint: glanceBase(c.endpoint), ...(c.token ? { token: c.token } : {}), tls: c.tls };
  const url = tokensUrl(c.authUrl);
  const res = await send({ method: 'POST', url, json: tokenRequest(c.auth), tls: c.tls, service: 'Keystone', idleTimeoutMs: 60_000 });
  const where = `Keystone at ${origin(url)} (${c.source})`;
  if (res.status === 401) throw invalid(`${where} refused the credentials (401 Unauthorized): ${serviceMessage(res.text)}`);
  if (res.status === 403) throw invalid(`${where}: the credentials may not be used for this project (403 Forbidden): ${serviceMessage(res.text)}`);
  if (res.status === 404) throw invalid(`${where}: no Keystone v3 token API at ${url} (404)`, 'check auth_url');
  if (res.status !== 201 && res.status !== 200) throw failed(`${where} answered ${res.status}: ${serviceMessage(res.text)}`);
  const token = res.headers['x-subject-token'];
  if (typeof token !== 'string' || token === '') throw failed(`${where} issued no token (no X-Subject-Token header)`);
  let catalog: CatalogService[] = [];
  try {
    catalog = ((JSON.parse(res.text) as { token?: { catalog?: CatalogService[] } }).token?.catalog ?? []) as CatalogService[];
  } catch {
    throw failed(`${where} answered with a body that is not JSON`);
  }
  const endpoint = c.endpointOverride ? glanceBase(c.endpointOverride) : findImageEndpoint(catalog, c.interface, c.region);
  return { endpoint, token, tls: c.tls };
}
