/**
 * The publish flow's failure paths that a healthy Glance never shows (a wrong os_hash_value, a 403 on
 * upload, an image that never turns active): a small local server answers like Glance v2 and records
 * the calls, so the test can assert that the half-made record was deleted each time. The happy path
 * and the real statuses run against a real Glance in test/e2e/publish.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { publish, type PublishOptions } from '../../../lib/publish/index.js';
import { withScope } from '../../../lib/scope/index.js';
import type { KilnError } from '../../../lib/errors/index.js';
import { tempDir } from '../../helpers/tmp.js';

type Mode = 'ok' | 'bad-hash' | 'forbidden-upload' | 'stuck' | 'unauthorized' | 'replace';

let mode: Mode = 'ok';
const images = new Map<string, Record<string, unknown>>();
const calls: string[] = [];
let server: http.Server;
let url = '';
const dir = tempDir('unit-flow');
const file = path.join(dir, 'disk.raw');

beforeAll(async () => {
  const disk = Buffer.alloc(2 ** 20);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  fs.writeFileSync(file, disk);
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      const send = (status: number, body?: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
      if (mode === 'unauthorized') return send(401, { message: 'This server could not verify that you are authorized' });
      if (req.method === 'GET' && req.url?.startsWith('/v2/images?')) {
        // In 'replace' mode the name is taken twice: by the caller's project (p1) and by another (p2).
        const taken = mode === 'replace' && req.url.includes('name=disk') && !req.url.includes('os_hidden');
        return send(200, { images: taken ? [images.get('old-mine'), images.get('old-theirs')] : [] });
      }
      if (req.method === 'POST' && req.url === '/v2/images') {
        const rec = { ...(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>), id: `id-${images.size + 1}`, status: 'queued', owner: 'p1' };
        images.set(rec.id as string, rec);
        return send(201, rec);
      }
      const m = /^\/v2\/images\/([^/]+)(\/file)?$/.exec(req.url ?? '');
      const img = m ? images.get(m[1] as string) : undefined;
      if (!m || !img) return send(404, { message: 'not found' });
      if (req.method === 'PUT' && m[2]) {
        if (mode === 'forbidden-upload') return send(403, { message: 'You are not authorized to complete upload action.' });
        const data = Buffer.concat(chunks);
        const hash = mode === 'bad-hash' ? 'f'.repeat(128) : crypto.createHash('sha512').update(data).digest('hex');
        Object.assign(img, { status: mode === 'stuck' ? 'saving' : 'active', size: data.length, os_hash_algo: 'sha512', os_hash_value: hash });
        return send(204);
      }
      if (req.method === 'GET') return send(200, img);
      if (req.method === 'PATCH') return send(200, img);
      if (req.method === 'DELETE') {
        images.delete(m[1] as string);
        return send(204);
      }
      return send(405);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});


afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  calls.length = 0;
});

function options(extra: Partial<PublishOptions> = {}): PublishOptions {
  return {
    file,
    name: 'disk',
    properties: {},
    visibility: 'private',
    replace: false,
    deleteOld: false,
    waitSeconds: 2,
    connection: { kind: 'direct', endpoint: url, tls: { verify: true }, source: '--glance-endpoint' },
    say: () => undefined,
    progress: () => undefined,
    ...extra,
  };
}

const run = (o: PublishOptions) => withScope((scope) => publish(scope, o)).catch((e: unknown) => e as KilnError);

test('a healthy upload: create, upload, read back, clear the upload marker; nothing deleted', async () => {
  mode = 'ok';
  const r = await run(options());
  expect(r).toMatchObject({ id: 'id-1', diskFormat: 'raw', bytes: 2 ** 20 });
  expect(calls.filter((c) => !c.startsWith('GET /v2/images?'))).toEqual(['POST /v2/images', 'PUT /v2/images/id-1/file', 'GET /v2/images/id-1', 'PATCH /v2/images/id-1']);
});

test('--replace --delete-old: the new image is visible before the old one goes; another project\'s image of the name is left alone', async () => {
  mode = 'replace';
  for (const [id, owner] of [['old-mine', 'p1'], ['old-theirs', 'p2']] as const) images.set(id, { id, name: 'disk', status: 'active', owner });
  const said: string[] = [];
  const r = await run(options({ replace: true, deleteOld: true, say: (l) => said.push(l) }));
  expect(r).toMatchObject({ replaced: [{ id: 'old-mine', deleted: true }] });
  const writes = calls.filter((c) => !c.startsWith('GET '));
  expect(writes).toEqual(['POST /v2/images', `PUT /v2/images/${(r as { id: string }).id}/file`, `PATCH /v2/images/${(r as { id: string }).id}`, 'DELETE /v2/images/old-mine']);
  expect(said.join('\n')).toContain('left alone 1 image(s) named "disk" owned by other projects (old-theirs)');
  images.delete('old-theirs');
});

test('Glance\'s sha512 differs from the file\'s: exit 1, the record is deleted', async () => {
  mode = 'bad-hash';
  const e = (await run(options())) as KilnError;
  expect(e.message).toMatch(/^checksum mismatch for image id-\d+: Glance has sha512 ffffffffffffffff…, .*disk\.raw has [0-9a-f]{16}… \(record deleted\)$/);
  expect(e.exitCode).toBe(1);
  expect(calls.at(-1)).toMatch(/^DELETE \/v2\/images\/id-\d+$/);
});

test('403 on upload: exit 2 naming the action, the record is deleted', async () => {
  mode = 'forbidden-upload';
  const e = (await run(options())) as KilnError;
  expect(e.message).toMatch(/^Glance at http:\/\/127\.0\.0\.1:\d+ forbids this: upload the data of image id-\d+ \(403 Forbidden\): You are not authorized to complete upload action\.$/);
  expect(e.exitCode).toBe(2);
  expect(calls.at(-1)).toMatch(/^DELETE /);
});

test('an image that never turns active: exit 1 after --wait, the record is deleted', async () => {
  mode = 'stuck';
  const e = (await run(options({ waitSeconds: 1 }))) as KilnError;
  expect(e.message).toMatch(/is still "saving" 1 s after the upload \(record deleted\)/);
  expect(e.exitCode).toBe(1);
  expect(calls.at(-1)).toMatch(/^DELETE /);
});

test('401 from Glance: exit 2 before any record exists', async () => {
  mode = 'unauthorized';
  const e = (await run(options())) as KilnError;
  expect(e.message).toMatch(/refused the token while trying to list .* \(401 Unauthorized\)/);
  expect(e.exitCode).toBe(2);
  expect(calls.some((c) => c.startsWith('POST'))).toBe(false);
});
