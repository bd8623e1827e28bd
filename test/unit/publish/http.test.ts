/**
 * kiln's HTTP client (lib/publish/http.ts) against real local servers: an OpenStack-like service and an
 * HTTP proxy that forwards plain http requests and tunnels https with CONNECT, as squid does. The proxy the
 * environment names is used unless no_proxy lists the host; a refusing proxy, a closed port and a silent
 * server each give their own message; a redirect is the caller's, never followed.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { send } from '../../../lib/publish/http.js';

let service: http.Server;
let proxy: http.Server;
let serviceUrl = '';
let proxyUrl = '';
/** What reached the proxy: "CONNECT host:port" or "GET http://…". */
const tunnels: string[] = [];
let proxyAnswer = 200;
const uploads: { length: string | undefined; bytes: number }[] = [];

const listen = (s: http.Server): Promise<string> =>
  new Promise((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

beforeAll(async () => {
  service = http.createServer((req, res) => {
    if (req.url === '/silent') return; // never answers
    if (req.url === '/moved') return res.writeHead(307, { Location: 'http://example.invalid/elsewhere' }).end();
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.method === 'PUT') uploads.push({ length: req.headers['content-length'], bytes });
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Subject-Token': 'tok' });
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
  });
  // A plain proxied request (absolute-form URL) is forwarded as it is.
  proxy = http.createServer((req, res) => {
    tunnels.push(`${req.method} ${req.url}`);
    if (proxyAnswer !== 200) return res.writeHead(proxyAnswer).end();
    const up = http.request(req.url ?? '', { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(`CONNECT ${req.url ?? ''}`);
    if (proxyAnswer !== 200) {
      client.end(`HTTP/1.1 ${proxyAnswer} Forbidden\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  serviceUrl = await listen(service);
  proxyUrl = await listen(proxy);
});
afterAll(async () => {
  for (const s of [service, proxy]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const saved = { ...process.env };
afterEach(() => {
  for (const v of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
  tunnels.length = 0;
  proxyAnswer = 200;
});

const get = (path: string, idleTimeoutMs?: number) =>
  send({ method: 'GET', url: `${serviceUrl}${path}`, tls: { verify: true }, service: 'Glance', ...(idleTimeoutMs ? { idleTimeoutMs } : {}) });

test('direct: JSON answer, status, headers in lower case', async () => {
  const r = await get('/v2/images');
  expect([r.status, JSON.parse(r.text), r.headers['x-subject-token']]).toEqual([200, { path: '/v2/images', method: 'GET' }, 'tok']);
  expect(tunnels).toEqual([]);
});

test('http_proxy names a proxy: an http request goes through it as a plain proxied request (as curl sends it)', async () => {
  process.env.http_proxy = proxyUrl;
  const r = await get('/v2/images?via=proxy');
  expect([r.status, JSON.parse(r.text).path]).toEqual([200, '/v2/images?via=proxy']);
  expect(tunnels).toEqual([`GET ${serviceUrl}/v2/images?via=proxy`]);
});

test('no_proxy lists the host: the request goes direct', async () => {
  process.env.HTTP_PROXY = proxyUrl;
  process.env.no_proxy = 'localhost,127.0.0.1';
  expect((await get('/v2/images?via=direct')).status).toBe(200);
  expect(tunnels).toEqual([]);
});

test('https_proxy names a proxy that refuses the CONNECT tunnel: named as such', async () => {
  process.env.https_proxy = proxyUrl;
  proxyAnswer = 403;
  const url = serviceUrl.replace('http:', 'https:');
  await expect(send({ method: 'GET', url: `${url}/v3`, tls: { verify: true }, service: 'Keystone' })).rejects.toThrow(
    /^Keystone at https:\/\/127\.0\.0\.1:\d+: the proxy refused the connection \(Proxy response \(403\)\)$/,
  );
  expect(tunnels).toEqual([`CONNECT ${new URL(serviceUrl).host}`]);
});

test('a redirect is answered to the caller, not followed (the token would go along)', async () => {
  const r = await send({ method: 'GET', url: `${serviceUrl}/moved`, headers: { 'X-Auth-Token': 'secret' }, tls: { verify: true }, service: 'Glance' });
  expect([r.status, r.headers.location]).toEqual([307, 'http://example.invalid/elsewhere']);
});

test('a closed port: unreachable, with the service and the address', async () => {
  const closed = http.createServer();
  const url = await listen(closed);
  await new Promise<void>((r) => closed.close(() => r()));
  await expect(send({ method: 'GET', url: `${url}/v3`, tls: { verify: true }, service: 'Keystone' })).rejects.toThrow(`Keystone at ${url} is unreachable (ECONNREFUSED)`);
});

test("a port fetch never uses (the Fetch standard's blocked ports) is named, exit 2", async () => {
  await expect(send({ method: 'GET', url: 'http://127.0.0.1:6000/v2', tls: { verify: true }, service: 'Glance' })).rejects.toMatchObject({
    message: "Glance at http://127.0.0.1:6000: port 6000 is one that fetch never connects to (the Fetch standard's blocked ports)",
    exitCode: 2,
  });
});

test('a server that stops answering is given up after the idle time', async () => {
  await expect(get('/silent', 300)).rejects.toThrow(/^Glance at http:\/\/127\.0\.0\.1:\d+ stopped answering: nothing moved for 0 s \(GET \/silent\)$/);
});

test('a streamed upload arrives whole with its length', async () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 7, 1);
  const r = await send({ method: 'PUT', url: `${serviceUrl}/v2/images/x/file`, body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), length: data.length, tls: { verify: true }, service: 'Glance', idleTimeoutMs: 5000 });
  expect(r.status).toBe(200);
  expect(uploads.at(-1)).toEqual({ length: String(data.length), bytes: data.length });
});

test('a failing upload source ends the request with its own message', async () => {
  const body = new Readable({
    read() {
      this.destroy(new Error('disk read error'));
    },
  });
  await expect(send({ method: 'PUT', url: `${serviceUrl}/v2/images/y/file`, body, length: 10, tls: { verify: true }, service: 'Glance' })).rejects.toThrow('reading the upload for Glance failed: disk read error');
});
