/**
 * Registry credentials the ecosystem's way, and the distribution spec's authentication challenge.
 * Credentials are looked up, first file first, in REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json
 * and ~/.docker/config.json (DOCKER_CONFIG/config.json when set): `auths.HOST[:PORT].auth` = base64(user:password),
 * or `username`/`password`, or `identitytoken` (a refresh token for bearer auth).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalid } from '../errors/index.js';

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly identityToken?: string;
  /** The file they came from (named in errors). */
  readonly file: string;
}

export type Challenge = { readonly scheme: 'basic'; readonly realm: string } | { readonly scheme: 'bearer'; readonly realm: string; readonly service?: string; readonly scope?: string };

/** The auth files, in the order they are read. */
export function authFiles(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  out.push(path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json'));
  return out;
}

/** The key of an `auths` entry as a host[:port]: `https://host:5000/v1/` → `host:5000`. */
export function authKeyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

/** The credentials for host (host[:port]), or undefined. A file that is not JSON is bad input naming the file. */
export function findCredentials(host: string, env: Readonly<Record<string, string | undefined>>): Credentials | undefined {
  for (const file of authFiles(env)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      // Not the parser's message: it quotes the file's first bytes, and the file may not be an auth file at all.
      throw invalid(`${file}: not JSON`);
    }
    const entry = Object.entries(doc.auths ?? {}).find(([k]) => authKeyHost(k) === host.toLowerCase())?.[1];
    if (!entry) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken, file };
    if (entry.auth) {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i < 0) throw invalid(`${file}: auths["${host}"].auth is not base64 of user:password`);
      return { username: plain.slice(0, i), password: plain.slice(i + 1), file };
    }
    if (entry.username !== undefined) return { username: entry.username, password: entry.password ?? '', file };
  }
  return undefined;
}

/** Parses a WWW-Authenticate header: `Basic realm="x"` or `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? '';
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic', realm: params.realm ?? '' };
  if (scheme === 'bearer' && params.realm) {
    return { scheme: 'bearer', realm: params.realm, ...(params.service ? { service: params.service } : {}), ...(params.scope ? { scope: params.scope } : {}) };
  }
  return undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}
