/**
 * Where to publish, resolved the way the OpenStack client does it, in this order:
 *   1. --glance-endpoint URL [--token T]: a Glance without Keystone (or a token you already have);
 *   2. --os-cloud NAME (or OS_CLOUD): an entry of clouds.yaml (+ secure.yaml) on the standard search path;
 *   3. OS_* environment variables: Keystone v3 password, application credential or token.
 * Pure: the environment and a file reader come in as arguments.
 */
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { invalid } from '../errors/index.js';

/** How to get a token from Keystone v3. */
export type KeystoneAuth =
  | { readonly method: 'password'; readonly user: NameOrId; readonly password: string; readonly scope?: ProjectScope }
  | { readonly method: 'application_credential'; readonly id?: string; readonly name?: string; readonly user?: NameOrId; readonly secret: string }
  | { readonly method: 'token'; readonly token: string; readonly scope?: ProjectScope };

export interface NameOrId {
  readonly id?: string;
  readonly name?: string;
  readonly domain?: { readonly id?: string; readonly name?: string };
}

export type ProjectScope = NameOrId;

export type Connection =
  | { readonly kind: 'direct'; readonly endpoint: string; readonly token?: string; readonly tls: Tls; readonly source: string }
  | {
      readonly kind: 'keystone';
      readonly authUrl: string;
      readonly auth: KeystoneAuth;
      readonly region?: string;
      readonly interface: 'public' | 'internal' | 'admin';
      /** clouds.yaml's image_endpoint_override: use this instead of the catalog's. */
      readonly endpointOverride?: string;
      readonly tls: Tls;
      /** Where the settings came from, for messages: "cloud mycloud (/etc/openstack/clouds.yaml)" or "OS_* variables". */
      readonly source: string;
    };

export interface Tls {
  /** false: don't verify the server's certificate (clouds.yaml `verify: false`, OS_INSECURE). */
  readonly verify: boolean;
  /** A CA bundle file (clouds.yaml `cacert`, OS_CACERT). */
  readonly cacert?: string;
}

export interface ConnectionOptions {
  readonly osCloud?: string;
  readonly glanceEndpoint?: string;
  readonly token?: string;
}

export type ReadFile = (file: string) => string | undefined;

/** The clouds.yaml files the OpenStack client reads, in order; the first that exists is used. */
export function cloudsYamlPaths(env: Readonly<Record<string, string | undefined>>, cwd: string): string[] {
  const home = env.HOME ?? os.homedir();
  const dirs = [cwd, path.join(home, '.config', 'openstack'), '/etc/openstack'];
  const files = dirs.map((d) => path.join(d, 'clouds.yaml'));
  return env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE, ...files] : files;
}

export function resolveConnection(
  opts: ConnectionOptions,
  env: Readonly<Record<string, string | undefined>>,
  read: ReadFile,
  cwd = process.cwd(),
): Connection {
  if (opts.glanceEndpoint !== undefined) {
    return { kind: 'direct', endpoint: checkUrl(opts.glanceEndpoint, '--glance-endpoint'), ...(opts.token ? { token: opts.token } : {}), tls: envTls(env), source: '--glance-endpoint' };
  }
  if (opts.token !== undefined && opts.osCloud === undefined && !env.OS_AUTH_URL) {
    throw invalid('--token needs --glance-endpoint (or OS_AUTH_URL to scope it through Keystone)');
  }
  const cloud = opts.osCloud ?? env.OS_CLOUD;
  if (cloud !== undefined && cloud !== '') return fromCloudsYaml(cloud, env, read, cwd);
  if (env.OS_AUTH_URL) return fromEnv(env, opts.token);
  throw invalid('no OpenStack cloud given', 'use --os-cloud NAME (clouds.yaml), the OS_* variables of an openrc file, or --glance-endpoint URL');
}

function checkUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(`${what} ${url}: not a URL`, 'e.g. http://glance.example:9292');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`${what} ${url}: only http and https URLs are supported`);
  return url.replace(/\/+$/, '');
}

function envTls(env: Readonly<Record<string, string | undefined>>): Tls {
  const insecure = /^(1|true|yes)$/i.test(env.OS_INSECURE ?? '');
  return { verify: !insecure, ...(env.OS_CACERT ? { cacert: env.OS_CACERT } : {}) };
}

function nameOrId(id: string | undefined, name: string | undefined, domain?: NameOrId['domain']): NameOrId | undefined {
  if (!id && !name) return undefined;
  const d = domain && (domain.id || domain.name) ? { domain } : {};
  return { ...(id ? { id } : {}), ...(name ? { name } : {}), ...d };
}

function domainOf(id: string | undefined, name: string | undefined, fallbackId?: string, fallbackName?: string): NameOrId['domain'] {
  if (id) return { id };
  if (name) return { name };
  if (fallbackId) return { id: fallbackId };
  if (fallbackName) return { name: fallbackName };
  return undefined;
}

/** The keys of clouds.yaml's `auth` (and their OS_* twins) that this resolver understands. */
interface AuthFields {
  auth_url?: string;
  username?: string;
  user_id?: string;
  password?: string;
  project_name?: string;
  project_id?: string;
  user_domain_name?: string;
  user_domain_id?: string;
  project_domain_name?: string;
  project_domain_id?: string;
  domain_name?: string;
  domain_id?: string;
  application_credential_id?: string;
  application_credential_name?: string;
  application_credential_secret?: string;
  token?: string;
}

/** Builds the Keystone request from clouds.yaml/OS_* fields; `where` names the source in errors. */
export function keystoneAuth(authType: string | undefined, a: AuthFields, where: string): KeystoneAuth {
  const type = (authType ?? (a.application_credential_secret ? 'v3applicationcredential' : a.token ? 'v3token' : 'password')).toLowerCase();
  const scope = nameOrId(a.project_id, a.project_name, domainOf(a.project_domain_id, a.project_domain_name, a.domain_id, a.domain_name));
  switch (type) {
    case 'password':
    case 'v3password': {
      const user = nameOrId(a.user_id, a.username, domainOf(a.user_domain_id, a.user_domain_name, a.domain_id, a.domain_name));
      if (!user) throw invalid(`${where}: password authentication needs a username or user id`);
      if (a.password === undefined || a.password === '') throw invalid(`${where}: password authentication needs a password`);
      if (user.id === undefined && user.domain === undefined) throw invalid(`${where}: user ${user.name} needs a domain (user_domain_name or user_domain_id)`);
      if (scope && scope.id === undefined && scope.domain === undefined) throw invalid(`${where}: project ${scope.name} needs a domain (project_domain_name or project_domain_id)`);
      return { method: 'password', user, password: a.password, ...(scope ? { scope } : {}) };
    }
    case 'v3applicationcredential': {
      if (!a.application_credential_secret) throw invalid(`${where}: an application credential needs its secret`);
      if (!a.application_credential_id && !a.application_credential_name) throw invalid(`${where}: an application credential needs its id (or its name and the user)`);
      const user = nameOrId(a.user_id, a.username, domainOf(a.user_domain_id, a.user_domain_name, a.domain_id, a.domain_name));
      if (!a.application_credential_id && !user) throw invalid(`${where}: application credential ${a.application_credential_name} is named, so the user must be given too`);
      return {
        method: 'application_credential',
        ...(a.application_credential_id ? { id: a.application_credential_id } : { name: a.application_credential_name as string }),
        ...(user && !a.application_credential_id ? { user } : {}),
        secret: a.application_credential_secret,
      };
    }
    case 'token':
    case 'v3token':
      if (!a.token) throw invalid(`${where}: token authentication needs a token`);
      return { method: 'token', token: a.token, ...(scope ? { scope } : {}) };
    default:
      throw invalid(`${where}: auth type "${type}" is not supported`, 'use password, v3applicationcredential or v3token');
  }
}

function iface(v: string | undefined, where: string): 'public' | 'internal' | 'admin' {
  const s = (v ?? 'public').replace(/URL$/, '');
  if (s === 'public' || s === 'internal' || s === 'admin') return s;
  throw invalid(`${where}: interface "${v}" is not public, internal or admin`);
}

function fromEnv(env: Readonly<Record<string, string | undefined>>, tokenOpt: string | undefined): Connection {
  const where = 'OS_* variables';
  const version = env.OS_IDENTITY_API_VERSION;
  if (version && !version.startsWith('3')) throw invalid(`OS_IDENTITY_API_VERSION=${version}: only Keystone v3 is supported`);
  const auth = keystoneAuth(tokenOpt ? 'v3token' : env.OS_AUTH_TYPE, {
    auth_url: env.OS_AUTH_URL,
    username: env.OS_USERNAME,
    user_id: env.OS_USER_ID,
    password: env.OS_PASSWORD,
    project_name: env.OS_PROJECT_NAME ?? env.OS_TENANT_NAME,
    project_id: env.OS_PROJECT_ID ?? env.OS_TENANT_ID,
    user_domain_name: env.OS_USER_DOMAIN_NAME,
    user_domain_id: env.OS_USER_DOMAIN_ID,
    project_domain_name: env.OS_PROJECT_DOMAIN_NAME,
    project_domain_id: env.OS_PROJECT_DOMAIN_ID,
    domain_name: env.OS_DOMAIN_NAME,
    domain_id: env.OS_DOMAIN_ID,
    application_credential_id: env.OS_APPLICATION_CREDENTIAL_ID,
    application_credential_name: env.OS_APPLICATION_CREDENTIAL_NAME,
    application_credential_secret: env.OS_APPLICATION_CREDENTIAL_SECRET,
    token: tokenOpt ?? env.OS_TOKEN,
  }, where);
  return {
    kind: 'keystone',
    authUrl: checkUrl(env.OS_AUTH_URL as string, 'OS_AUTH_URL'),
    auth,
    ...(env.OS_REGION_NAME ? { region: env.OS_REGION_NAME } : {}),
    interface: iface(env.OS_INTERFACE ?? env.OS_ENDPOINT_TYPE, where),
    ...(env.OS_IMAGE_URL ? { endpointOverride: checkUrl(env.OS_IMAGE_URL, 'OS_IMAGE_URL') } : {}),
    tls: envTls(env),
    source: where,
  };
}

type Yaml = Record<string, unknown>;

function parseYamlFile(file: string, text: string): Yaml {
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const e = doc.errors[0];
  if (e) {
    const pos = lines.linePos(e.pos[0]);
    throw invalid(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const v = doc.toJS() as unknown;
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${file}: expected a mapping with a "clouds" key`);
  return v as Yaml;
}

function isMap(v: unknown): v is Yaml {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** secure.yaml's values override clouds.yaml's, key by key (as openstacksdk merges them). */
function merge(a: Yaml, b: Yaml): Yaml {
  const out: Yaml = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(v) && isMap(out[k]) ? merge(out[k] as Yaml, v) : v;
  return out;
}

function fromCloudsYaml(name: string, env: Readonly<Record<string, string | undefined>>, read: ReadFile, cwd: string): Connection {
  const paths = cloudsYamlPaths(env, cwd);
  let file: string | undefined;
  let text: string | undefined;
  for (const p of paths) {
    text = read(p);
    if (text !== undefined) {
      file = p;
      break;
    }
  }
  if (file === undefined || text === undefined) {
    throw invalid(`--os-cloud ${name}: no clouds.yaml found`, `looked in ${paths.join(', ')}`);
  }
  const clouds = parseYamlFile(file, text).clouds;
  if (!isMap(clouds)) throw invalid(`${file}: no "clouds" mapping`);
  const found = clouds[name];
  if (!isMap(found)) {
    const known = Object.keys(clouds);
    throw invalid(`--os-cloud ${name}: no cloud of that name in ${file}`, known.length > 0 ? `it has: ${known.join(', ')}` : 'it lists no clouds');
  }
  let entry: Yaml = found;
  const secureFile = path.join(path.dirname(file), 'secure.yaml');
  const secureText = read(secureFile);
  if (secureText !== undefined) {
    const sc = parseYamlFile(secureFile, secureText).clouds;
    if (isMap(sc) && isMap(sc[name])) entry = merge(entry, sc[name] as Yaml);
  }
  const where = `cloud ${name} (${file})`;
  const authMap = isMap(entry.auth) ? (entry.auth as Yaml) : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  const a: AuthFields = {};
  for (const [k, v] of Object.entries(authMap)) (a as Record<string, string | undefined>)[k] = str(v);
  if (!a.auth_url) throw invalid(`${where}: auth.auth_url is missing`);
  const version = str(entry.identity_api_version);
  if (version && !version.startsWith('3')) throw invalid(`${where}: identity_api_version ${version}: only Keystone v3 is supported`);
  const verify = entry.verify === undefined ? true : entry.verify !== false && entry.verify !== 'false';
  const cacert = str(entry.cacert);
  const override = str(entry.image_endpoint_override);
  const region = str(entry.region_name);
  return {
    kind: 'keystone',
    authUrl: checkUrl(a.auth_url, `${where}: auth_url`),
    auth: keystoneAuth(str(entry.auth_type), a, where),
    ...(region ? { region } : {}),
    interface: iface(str(entry.interface), where),
    ...(override ? { endpointOverride: checkUrl(override, `${where}: image_endpoint_override`) } : {}),
    tls: { verify, ...(cacert ? { cacert } : {}) },
    source: where,
  };
}
