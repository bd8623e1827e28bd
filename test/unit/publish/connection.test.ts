import { cloudsYamlPaths, resolveConnection, type Connection } from '../../../lib/publish/connection.js';
import { KilnError } from '../../../lib/errors/index.js';

const files = (m: Record<string, string>) => (f: string) => m[f];

function errorOf(fn: () => unknown): KilnError | undefined {
  try {
    fn();
  } catch (e) {
    return e as KilnError;
  }
  return undefined;
}

const code = (fn: () => unknown): number => errorOf(fn)?.exitCode ?? 0;

describe('resolveConnection', () => {
  test('--glance-endpoint talks to Glance directly, with an optional token; a trailing slash is dropped', () => {
    expect(resolveConnection({ glanceEndpoint: 'http://127.0.0.1:9292/', token: 't' }, {}, files({}))).toEqual({
      kind: 'direct',
      endpoint: 'http://127.0.0.1:9292',
      token: 't',
      tls: { verify: true },
      source: '--glance-endpoint',
    });
  });

  test('a bad endpoint URL is bad input (exit 2)', () => {
    expect(() => resolveConnection({ glanceEndpoint: 'glance:9292' }, {}, files({}))).toThrow('--glance-endpoint glance:9292: only http and https URLs are supported');
    expect(() => resolveConnection({ glanceEndpoint: 'not a url' }, {}, files({}))).toThrow('not a URL');
    expect(code(() => resolveConnection({ glanceEndpoint: 'ftp://x' }, {}, files({})))).toBe(2);
  });

  test('nothing given: one error that names the three ways', () => {
    expect(errorOf(() => resolveConnection({}, {}, files({})))).toMatchObject({
      message: 'no OpenStack cloud given',
      hint: 'use --os-cloud NAME (clouds.yaml), the OS_* variables of an openrc file, or --glance-endpoint URL',
    });
  });

  test('OS_* password credentials (openrc)', () => {
    const env = {
      OS_AUTH_URL: 'https://keystone.example:5000/v3',
      OS_USERNAME: 'demo',
      OS_PASSWORD: 'secret',
      OS_PROJECT_NAME: 'images',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_ID: 'default',
      OS_REGION_NAME: 'RegionTwo',
      OS_INTERFACE: 'internal',
      OS_CACERT: '/etc/ssl/ca.pem',
    };
    expect(resolveConnection({}, env, files({}))).toEqual({
      kind: 'keystone',
      authUrl: 'https://keystone.example:5000/v3',
      auth: { method: 'password', user: { name: 'demo', domain: { name: 'Default' } }, password: 'secret', scope: { name: 'images', domain: { id: 'default' } } },
      region: 'RegionTwo',
      interface: 'internal',
      tls: { verify: true, cacert: '/etc/ssl/ca.pem' },
      source: 'OS_* variables',
    } satisfies Connection);
  });

  test('OS_* application credential (no scope: it carries its own)', () => {
    const c = resolveConnection({}, { OS_AUTH_URL: 'http://k:5000', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: 'ac1', OS_APPLICATION_CREDENTIAL_SECRET: 's3' }, files({}));
    expect(c.kind === 'keystone' && c.auth).toEqual({ method: 'application_credential', id: 'ac1', secret: 's3' });
  });

  test('missing pieces name the source and what is missing', () => {
    const base = { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_USER_DOMAIN_NAME: 'Default' };
    expect(() => resolveConnection({}, base, files({}))).toThrow('OS_* variables: password authentication needs a password');
    expect(() => resolveConnection({}, { ...base, OS_PASSWORD: 'p', OS_USER_DOMAIN_NAME: undefined }, files({}))).toThrow('OS_* variables: user u needs a domain');
    expect(() => resolveConnection({}, { ...base, OS_PASSWORD: 'p', OS_PROJECT_NAME: 'x' }, files({}))).toThrow('project x needs a domain');
    expect(() => resolveConnection({}, { ...base, OS_PASSWORD: 'p', OS_IDENTITY_API_VERSION: '2' }, files({}))).toThrow('only Keystone v3 is supported');
    expect(() => resolveConnection({}, { ...base, OS_PASSWORD: 'p', OS_INTERFACE: 'private' }, files({}))).toThrow('interface "private" is not public, internal or admin');
    expect(() => resolveConnection({}, { ...base, OS_AUTH_TYPE: 'v3oidcpassword' }, files({}))).toThrow('auth type "v3oidcpassword" is not supported');
  });

  test('OS_DOMAIN_NAME stands in for both user and project domains', () => {
    const c = resolveConnection({}, { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_ID: 'pid', OS_DOMAIN_NAME: 'D' }, files({}));
    expect(c.kind === 'keystone' && c.auth).toEqual({ method: 'password', user: { name: 'u', domain: { name: 'D' } }, password: 'p', scope: { id: 'pid', domain: { name: 'D' } } });
  });

  test('--token with OS_AUTH_URL scopes a token through Keystone', () => {
    const c = resolveConnection({ token: 'tok' }, { OS_AUTH_URL: 'http://k/v3', OS_PROJECT_ID: 'p1' }, files({}));
    expect(c.kind === 'keystone' && c.auth).toEqual({ method: 'token', token: 'tok', scope: { id: 'p1' } });
    expect(() => resolveConnection({ token: 'tok' }, {}, files({}))).toThrow('--token needs --glance-endpoint');
  });
});

describe('clouds.yaml', () => {
  const clouds = `clouds:
  prod:
    auth:
      auth_url: https://keystone.prod:5000
      username: builder
      project_name: images
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    cacert: /etc/prod-ca.pem
  lab:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://lab:5000/v3
      application_credential_id: abc
      application_credential_secret: xyz
    image_endpoint_override: http://lab-glance:9292/v2
    verify: false
`;
  const secure = 'clouds:\n  prod:\n    auth:\n      password: from-secure\n';

  test('the search path: OS_CLIENT_CONFIG_FILE, then the current directory, ~/.config/openstack, /etc/openstack', () => {
    expect(cloudsYamlPaths({ HOME: '/home/u', OS_CLIENT_CONFIG_FILE: '/x/c.yaml' }, '/w')).toEqual(['/x/c.yaml', '/w/clouds.yaml', '/home/u/.config/openstack/clouds.yaml', '/etc/openstack/clouds.yaml']);
  });

  test('the first clouds.yaml found wins; secure.yaml beside it fills in the password', () => {
    const read = files({ '/home/u/.config/openstack/clouds.yaml': clouds, '/home/u/.config/openstack/secure.yaml': secure, '/etc/openstack/clouds.yaml': 'clouds: {}' });
    const c = resolveConnection({ osCloud: 'prod' }, { HOME: '/home/u' }, read, '/w');
    expect(c).toMatchObject({
      kind: 'keystone',
      authUrl: 'https://keystone.prod:5000',
      auth: { method: 'password', user: { name: 'builder', domain: { name: 'Default' } }, password: 'from-secure', scope: { name: 'images', domain: { name: 'Default' } } },
      region: 'RegionOne',
      interface: 'public',
      tls: { verify: true, cacert: '/etc/prod-ca.pem' },
      source: 'cloud prod (/home/u/.config/openstack/clouds.yaml)',
    });
  });

  test('OS_CLOUD selects the cloud; application credentials, an endpoint override and verify: false', () => {
    const c = resolveConnection({}, { HOME: '/h', OS_CLOUD: 'lab' }, files({ '/w/clouds.yaml': clouds }), '/w');
    expect(c).toMatchObject({ kind: 'keystone', auth: { method: 'application_credential', id: 'abc', secret: 'xyz' }, endpointOverride: 'http://lab-glance:9292/v2', tls: { verify: false } });
  });

  test('an unknown cloud lists the known ones; no file says where it looked; a YAML error has file:line:col', () => {
    expect(errorOf(() => resolveConnection({ osCloud: 'staging' }, { HOME: '/h' }, files({ '/w/clouds.yaml': clouds }), '/w'))).toMatchObject({ message: '--os-cloud staging: no cloud of that name in /w/clouds.yaml', hint: 'it has: prod, lab' });
    expect(errorOf(() => resolveConnection({ osCloud: 'x' }, { HOME: '/h' }, files({}), '/w'))).toMatchObject({
      message: '--os-cloud x: no clouds.yaml found',
      hint: 'looked in /w/clouds.yaml, /h/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml',
    });
    expect(() => resolveConnection({ osCloud: 'x' }, { HOME: '/h' }, files({ '/w/clouds.yaml': 'clouds:\n  x: [\n' }), '/w')).toThrow(/^\/w\/clouds\.yaml:\d+:\d+: /);
    expect(() => resolveConnection({ osCloud: 'x' }, { HOME: '/h' }, files({ '/w/clouds.yaml': 'clouds:\n  x:\n    auth: {}\n' }), '/w')).toThrow('cloud x (/w/clouds.yaml): auth.auth_url is missing');
  });
});
