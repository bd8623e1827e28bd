/** Registry references, the plain-HTTP rule, credentials files and authentication challenges: tables. */
import fs from 'node:fs';
import path from 'node:path';
import { authKeyHost, findCredentials, parseChallenge } from '../../../lib/registry/auth.js';
import { isLoopback, parseImageRef, parseRepoRef } from '../../../lib/registry/ref.js';
import { tempDir } from '../../helpers/tmp.js';

test.each([
  ['127.0.0.1:5000/kiln/cache', { host: '127.0.0.1:5000', repo: 'kiln/cache' }],
  ['docker://Registry.Example/a', { host: 'registry.example', repo: 'a' }],
  ['localhost/x-y_z.w', { host: 'localhost', repo: 'x-y_z.w' }],
  ['[::1]:5000/r', { host: '[::1]:5000', repo: 'r' }],
])('parseRepoRef(%s)', (raw, want) => expect(parseRepoRef(raw, '--cache-registry')).toEqual(want));

test.each([
  ['kiln/cache', 'does not start with a registry host'],
  ['127.0.0.1:5000/', 'is not a repository name'],
  ['127.0.0.1:5000/Upper', 'is not a repository name'],
  ['host.example/a//b', 'is not a repository name'],
])('parseRepoRef(%s) is bad input', (raw, msg) => {
  expect(() => parseRepoRef(raw, '--cache-registry')).toThrow(msg);
  expect(() => parseRepoRef(raw, '--cache-registry')).toThrow('--cache-registry');
});

test.each([
  ['docker://127.0.0.1:5000/vm/disk:v1', { host: '127.0.0.1:5000', repo: 'vm/disk', reference: 'v1' }],
  [`h.example/r@sha256:${'a'.repeat(64)}`, { host: 'h.example', repo: 'r', reference: `sha256:${'a'.repeat(64)}` }],
])('parseImageRef(%s)', (raw, want) => expect(parseImageRef(raw, '--to')).toEqual(want));

test.each([['h.example/r', 'has no tag'], ['h.example/r@sha256:12', 'is not a sha256 digest'], ['h.example/r:-bad', 'is not a tag']])('parseImageRef(%s) is bad input', (raw, msg) =>
  expect(() => parseImageRef(raw, '--to')).toThrow(msg),
);

test.each([
  ['127.0.0.1:5000', true],
  ['127.8.9.10', true],
  ['localhost:80', true],
  ['[::1]:5000', true],
  ['10.0.0.1:5000', false],
  ['registry.example', false],
  ['localhost.example', false],
])('isLoopback(%s) = %s', (host, want) => expect(isLoopback(host)).toBe(want));

test.each([
  ['Basic realm="kiln"', { scheme: 'basic', realm: 'kiln' }],
  [
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
    { scheme: 'bearer', realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  ],
  ['Bearer service="x"', undefined],
  [null, undefined],
])('parseChallenge(%s)', (header, want) => expect(parseChallenge(header)).toEqual(want));

test.each([
  ['https://index.example/v1/', 'index.example'],
  ['127.0.0.1:5000', '127.0.0.1:5000'],
  ['http://H.example:5000', 'h.example:5000'],
])('authKeyHost(%s)', (k, want) => expect(authKeyHost(k)).toBe(want));

test('credentials: REGISTRY_AUTH_FILE, then XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json', () => {
  const dir = tempDir('unit-registry-auth');
  const write = (file: string, auths: object) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ auths }));
  };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  write(path.join(dir, 'home/.docker/config.json'), { 'https://a.example/v1/': { auth: b64('docker:d') }, 'b.example': { username: 'u', password: 'p' } });
  write(path.join(dir, 'run/containers/auth.json'), { 'a.example': { auth: b64('podman:p:with:colons') } });
  write(path.join(dir, 'explicit.json'), { 'c.example': { identitytoken: 'tok' } });
  const env = { HOME: path.join(dir, 'home'), XDG_RUNTIME_DIR: path.join(dir, 'run'), REGISTRY_AUTH_FILE: path.join(dir, 'explicit.json') };
  expect(findCredentials('a.example', env)).toEqual({ username: 'podman', password: 'p:with:colons', file: path.join(dir, 'run/containers/auth.json') });
  expect(findCredentials('a.example', { HOME: env.HOME })).toMatchObject({ username: 'docker', password: 'd' });
  expect(findCredentials('b.example', env)).toMatchObject({ username: 'u', password: 'p' });
  expect(findCredentials('c.example', env)).toMatchObject({ identityToken: 'tok' });
  expect(findCredentials('d.example', env)).toBeUndefined();
  fs.writeFileSync(path.join(dir, 'explicit.json'), '{not json');
  expect(() => findCredentials('a.example', env)).toThrow(`${path.join(dir, 'explicit.json')}: not JSON`);
});
