/**
 * The Keystone v3 token and catalog flow, against a local HTTP server that speaks the token API
 * (POST /v3/auth/tokens → 201, X-Subject-Token, a catalog), as a real Keystone answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { findImageEndpoint, glanceBase, openSession, tokenRequest, tokensUrl, type CatalogService } from '../../../lib/publish/keystone.js';
import type { Connection } from '../../../lib/publish/connection.js';
import type { KilnError } from '../../../lib/errors/index.js';

const catalog: CatalogService[] = [
  { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://k:5000/v3' }] },
  {
    type: 'image',
    name: 'glance',
    endpoints: [
      { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: 'http://glance-one:9292' },
      { interface: 'internal', region_id: 'RegionOne', url: 'http://10.0.0.5:9292/v2/' },
      { interface: 'public', region_id: 'RegionTwo', url: 'https://glance-two/image/v2.1' },
    ],
  },
];

describe('catalog', () => {
  test('the image endpoint for an interface and region; version suffixes dropped', () => {
    expect(findImageEndpoint(catalog, 'public', undefined)).toBe('http://glance-one:9292');
    expect(findImageEndpoint(catalog, 'internal', 'RegionOne')).toBe('http://10.0.0.5:9292');
    expect(findImageEndpoint(catalog, 'public', 'RegionTwo')).toBe('https://glance-two/image');
  });
  test('no match names what the catalog has', () => {
    expect(() => findImageEndpoint(catalog, 'admin', undefined)).toThrow('the Keystone catalog has no admin image endpoint (it has: public@RegionOne, internal@RegionOne, public@RegionTwo)');
    expect(() => findImageEndpoint(catalog, 'public', 'RegionThree')).toThrow('no public image endpoint in region RegionThree');
    expect(() => findImageEndpoint(catalog.slice(0, 1), 'public', undefined)).toThrow('the Keystone catalog has no image service (types: identity)');
  });
  test('tokens URL with and without /v3; Glance base', () => {
    expect(tokensUrl('http://k:5000')).toBe('http://k:5000/v3/auth/tokens');
    expect(tokensUrl('http://k:5000/v3/')).toBe('http://k:5000/v3/auth/tokens');
    expect(tokensUrl('https://cloud/identity')).toBe('https://cloud/identity/v3/auth/tokens');
    expect(glanceBase('http://g:9292/v2')).toBe('http://g:9292');
  });
  test('request bodies: password with project scope, application credential by id, token', () => {
    expect(tokenRequest({ method: 'password', user: { name: 'u', domain: { name: 'Default' } }, password: 'p', scope: { id: 'pid' } })).toEqual({
      auth: { identity: { methods: ['password'], password: { user: { name: 'u', domain: { name: 'Default' }, password: 'p' } } }, scope: { project: { id: 'pid' } } },
    });
    expect(tokenRequest({ method: 'application_credential', id: 'a', secret: 's' })).toEqual({ auth: { identity: { methods: ['application_credential'], application_credential: { id: 'a', secret: 's' } } } });
    expect(tokenRequest({ method: 'token', token: 't' })).toEqual({ auth: { identity: { methods: ['token'], token: { id: 't' } } } });
  });
});

describe('openSession against a Keystone v3 token API', () => {
  let server: http.Server;
  let base = '';
  const seen: { url: string; body: unknown }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body || 'null') as { auth: { identity: { password?: { user: { password: string } } } } };
        seen.push({ url: req.url ?? '', body: parsed });
        if (req.method !== 'POST' || req.url !== '/v3/auth/tokens') {
          res.writeHead(404).end();
          return;
        }
        if (parsed.auth.identity.password?.user.password !== 'right') {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }));
          return;
        }
        res.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': 'gAAAAtoken' }).end(JSON.stringify({ token: { expires_at: '2099-01-01T00:00:00Z', catalog } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const conn = (password: string, extra: Partial<Extract<Connection, { kind: 'keystone' }>> = {}): Connection => ({
    kind: 'keystone',
    authUrl: `${base}/v3`,
    auth: { method: 'password', user: { name: 'u', domain: { name: 'Default' } }, password, scope: { name: 'p', domain: { name: 'Default' } } },
    interface: 'public',
    tls: { verify: true },
    source: 'OS_* variables',
    ...extra,
  });

  test('a token and the image endpoint from the catalog', async () => {
    await expect(openSession(conn('right'))).resolves.toEqual({ endpoint: 'http://glance-one:9292', token: 'gAAAAtoken', tls: { verify: true } });
    expect(seen.at(-1)).toEqual({ url: '/v3/auth/tokens', body: tokenRequest(conn('right').kind === 'keystone' ? (conn('right') as Extract<Connection, { kind: 'keystone' }>).auth : (undefined as never)) });
  });

  test('region and interface choose among endpoints; an override skips the catalog', async () => {
    await expect(openSession(conn('right', { region: 'RegionTwo' }))).resolves.toMatchObject({ endpoint: 'https://glance-two/image' });
    await expect(openSession(conn('right', { interface: 'internal' }))).resolves.toMatchObject({ endpoint: 'http://10.0.0.5:9292' });
    await expect(openSession(conn('right', { endpointOverride: 'http://elsewhere:9292/v2' }))).resolves.toMatchObject({ endpoint: 'http://elsewhere:9292' });
  });

  test('wrong credentials: exit 2 with Keystone\'s own message', async () => {
    const e = (await openSession(conn('wrong')).catch((x: unknown) => x)) as KilnError;
    expect(e.message).toBe(`Keystone at ${base} (OS_* variables) refused the credentials (401 Unauthorized): The request you have made requires authentication.`);
    expect(e.exitCode).toBe(2);
  });

  test('a URL without the token API (404) and an unreachable Keystone', async () => {
    const e404 = (await openSession(conn('right', { authUrl: `${base}/identity` })).catch((x: unknown) => x)) as KilnError;
    expect(e404.message).toContain('no Keystone v3 token API at');
    expect(e404.exitCode).toBe(2);
    const down = (await openSession(conn('right', { authUrl: 'http://127.0.0.1:47/v3' })).catch((x: unknown) => x)) as KilnError;
    expect(down.message).toBe('Keystone at http://127.0.0.1:47 is unreachable (ECONNREFUSED)');
    expect(down.exitCode).toBe(1);
  });
});
