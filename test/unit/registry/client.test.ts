/**
 * The registry client against the real registry (Debian's docker-registry on 127.0.0.1 with htpasswd auth):
 * blobs (exists, mount, monolithic and chunked upload, digest-checked download), manifests, tags, refused and
 * missing credentials (exit 2), an unreachable registry; pushOciLayout checked by skopeo.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { EXIT, isKilnError } from '../../../lib/errors/index.js';
import { OCI_EMPTY, OCI_MANIFEST, RegistryClient, RegistryUnreachable, sha256, EMPTY_JSON } from '../../../lib/registry/client.js';
import { pushOciLayout } from '../../../lib/registry/layout.js';
import { command, describeIf, file } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';
import { freePort, REGISTRY_BIN, skopeo, startRegistry, type TestRegistry } from '../../e2e/helpers/registry.js';

const T = 60_000;

describeIf(file(REGISTRY_BIN, 'docker-registry (Debian package docker-registry)'), command('htpasswd', 'apache2-utils'), command('skopeo'))('registry client', () => {
  let reg: TestRegistry;
  let env: Record<string, string>;
  const dir = tempDir('unit-registry');
  const client = (repo: string, o: object = {}) => new RegistryClient({ host: reg.host, repo }, { env, ...o });
  beforeAll(async () => {
    reg = await startRegistry();
    env = { REGISTRY_AUTH_FILE: reg.authFile(), HOME: dir };
  }, T);
  afterAll(() => reg.stop());

  test('blobs: upload, exists, download with its digest checked, mount into another repository', async () => {
    const data = crypto.randomBytes(300_000);
    const digest = sha256(data);
    const c = client('unit/blobs');
    await c.ping();
    expect(await c.blobExists(digest)).toBe(false);
    expect(await c.pushBlob(digest, data.length, { bytes: data })).toBe('uploaded');
    expect(await c.blobExists(digest)).toBe(true);
    expect(await c.pushBlob(digest, data.length, { bytes: data })).toBe('exists');
    const out = path.join(dir, 'blob');
    expect(await c.pullBlob(digest, out)).toBe(data.length);
    expect(fs.readFileSync(out).equals(data)).toBe(true);
    expect(await client('unit/other').pushBlob(digest, data.length, { bytes: data }, 'unit/blobs')).toBe('mounted');
    // Asked for under a digest it does not have: nothing is kept.
    const wrong = path.join(dir, 'wrong');
    await expect(c.pullBlob(sha256('nothing'), wrong)).rejects.toThrow('answered 404');
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('wrong'))).toEqual([]);
  }, T);

  test('chunked upload (PATCH) of a file, in pieces of 64 KiB', async () => {
    const f = path.join(dir, 'big');
    fs.writeFileSync(f, crypto.randomBytes(200_000));
    const digest = sha256(fs.readFileSync(f));
    const c = client('unit/chunked', { chunkSize: 65_536 });
    expect(await c.pushBlob(digest, 200_000, { file: f })).toBe('uploaded');
    expect((await c.blobBytes(digest)).equals(fs.readFileSync(f))).toBe(true);
  }, T);

  test('manifests and tags', async () => {
    const c = client('unit/manifests');
    await c.pushBlob(sha256(EMPTY_JSON), 2, { bytes: EMPTY_JSON });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.kiln.test.v1', config: { mediaType: OCI_EMPTY, digest: sha256(EMPTY_JSON), size: 2 }, layers: [{ mediaType: OCI_EMPTY, digest: sha256(EMPTY_JSON), size: 2 }] });
    expect(await c.getManifest('t1')).toBeUndefined();
    expect(await c.tags()).toEqual([]);
    const digest = await c.putManifest('t1', manifest, OCI_MANIFEST);
    await c.putManifest('t2', manifest, OCI_MANIFEST);
    expect(digest).toBe(sha256(manifest));
    const got = await c.getManifest('t1');
    expect(got?.body.toString()).toBe(manifest);
    expect(got?.digest).toBe(digest);
    expect((await c.tags()).sort()).toEqual(['t1', 't2']);
  }, T);

  test('a wrong password, or none: bad input (exit 2) naming the host and the file', async () => {
    const bad = new RegistryClient({ host: reg.host, repo: 'unit/x' }, { env: { REGISTRY_AUTH_FILE: reg.authFile('kiln', 'wrong'), HOME: dir } });
    const e = await bad.ping().catch((x: unknown) => x);
    expect(isKilnError(e) && e.exitCode).toBe(EXIT.invalid);
    expect((e as Error).message).toMatch(new RegExp(`refused the credentials for ${reg.host} from .*auth-kiln-`));
    const none = new RegistryClient({ host: reg.host, repo: 'unit/x' }, { env: { HOME: dir } });
    await expect(none.ping()).rejects.toThrow(`asks for credentials (HTTP 401) and none are set for ${reg.host}`);
  }, T);

  test('nothing listening: RegistryUnreachable after the retries', async () => {
    const port = await freePort();
    const c = new RegistryClient({ host: `127.0.0.1:${port}`, repo: 'x' }, { env, retries: 2, backoffMs: 10 });
    await expect(c.ping()).rejects.toBeInstanceOf(RegistryUnreachable);
  }, T);

  test('5xx answers are retried with backoff (a proxy in front of the registry fails the first ones), then give up', async () => {
    let failures = 0;
    const port = await freePort();
    const [rhost, rport] = reg.host.split(':');
    const proxy = http.createServer((req, res) => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        req.resume();
        return;
      }
      const up = http.request({ host: rhost, port: Number(rport), path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
    try {
      // The proxy's host has no credentials of its own: give it the registry's.
      fs.writeFileSync(path.join(dir, 'proxy-auth.json'), JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from(`${reg.user}:${reg.password}`).toString('base64') } } }));
      const viaProxy = new RegistryClient({ host: `127.0.0.1:${port}`, repo: 'unit/retry' }, { env: { REGISTRY_AUTH_FILE: path.join(dir, 'proxy-auth.json'), HOME: dir }, retries: 3, backoffMs: 10 });
      failures = 3;
      const data = crypto.randomBytes(1000);
      expect(await viaProxy.pushBlob(sha256(data), data.length, { bytes: data })).toBe('uploaded');
      expect(failures).toBe(0);
      failures = 10;
      await expect(viaProxy.ping()).rejects.toThrow(new RegExp(`registry 127\\.0\\.0\\.1:${port}: GET /v2/unit/retry/tags/list answered 503 4 times`));
      expect(failures).toBe(6);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  }, T);

  test('pushOciLayout: a one-layer image layout; skopeo reads it back byte for byte', async () => {
    const layout = path.join(dir, 'layout');
    fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    const blob = (b: Buffer) => {
      const d = sha256(b);
      fs.writeFileSync(path.join(layout, 'blobs', 'sha256', d.slice(7)), b);
      return { digest: d, size: b.length };
    };
    const src = path.join(dir, 'layer-src');
    fs.mkdirSync(path.join(src, 'disk'), { recursive: true });
    fs.writeFileSync(path.join(src, 'disk', 'hello.txt'), 'hello from kiln\n');
    const tar = spawnSync('tar', ['-c', '-z', '--owner=107', '--group=107', '--numeric-owner', '--mtime=@0', '-C', src, 'disk'], { maxBuffer: 1 << 24, env: { ...process.env, GZIP: '-n' } });
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(tar.stdout) };
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(zlib.gunzipSync(tar.stdout))] } }))) };
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
    const m = { mediaType: OCI_MANIFEST, ...blob(manifest) };
    fs.writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [m] }));
    const seen: string[] = [];
    const digest = await pushOciLayout(layout, `docker://${reg.host}/unit/layout:v1`, { env, onBlob: (_d, how) => seen.push(how) });
    expect(digest).toBe(m.digest);
    expect(seen).toEqual(['uploaded', 'uploaded']);
    const info = JSON.parse(skopeo(reg, ['inspect', '--tls-verify=false', `docker://${reg.host}/unit/layout:v1`])) as { Digest: string; Layers: string[] };
    expect(info).toMatchObject({ Digest: m.digest, Layers: [layer.digest] });
    const back = path.join(dir, 'back');
    skopeo(reg, ['copy', '--src-tls-verify=false', `docker://${reg.host}/unit/layout:v1`, `oci:${back}:v1`]);
    expect(fs.readFileSync(path.join(back, 'blobs', 'sha256', layer.digest.slice(7))).equals(tar.stdout)).toBe(true);
    // Again, into another repository: the blobs are mounted, not sent.
    seen.length = 0;
    await pushOciLayout(layout, `${reg.host}/unit/layout2:v1`, { env, mountFrom: 'unit/layout' });
    expect(await pushOciLayout(layout, `${reg.host}/unit/layout2:v2`, { env, onBlob: (_d, how) => seen.push(how) })).toBe(m.digest);
    expect(seen).toEqual(['exists', 'exists']);
  }, T);

  test('pushOciLayout: a directory that is not a layout is bad input', async () => {
    await expect(pushOciLayout(dir, `${reg.host}/unit/x:v1`, { env })).rejects.toThrow(`${dir}: not an OCI image layout`);
  }, T);
});
