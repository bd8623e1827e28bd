/**
 * The Debian mirror comes from the host's apt configuration (deb822 .sources files or one-line
 * sources.list); DIB_DISTRIBUTION_MIRROR overrides it. kiln never hard-codes a mirror host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import { parseStanzas } from '../distro/deb822.js';

export interface AptSource {
  readonly types: readonly string[];
  readonly uris: readonly string[];
  readonly suites: readonly string[];
  readonly components: readonly string[];
}

export interface Mirrors {
  readonly mirror: string;
  /** The security archive, if the host has one configured. */
  readonly security: string | undefined;
}

/** Parses a deb822 .sources file. */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of parseStanzas(text)) {
    // Field names are case-insensitive in .sources files.
    const fields = new Map([...stanza].map(([k, v]) => [k.toLowerCase(), v]));
    if (!fields.has('uris')) continue;
    if ((fields.get('enabled') ?? 'yes').trim().toLowerCase() === 'no') continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '');
    out.push({ types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') });
  }
  return out;
}

/** Parses one-line sources.list entries ("deb [opts] URI SUITE COMPONENT…"). */
export function parseSourcesList(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').replace(/\[[^\]]*\]/, ' ').trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if ((type === 'deb' || type === 'deb-src') && uri && suite) out.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return out;
}

/** Picks the main archive and the security archive from the host's sources. */
export function pickMirrors(sources: readonly AptSource[]): { mirror?: string; security?: string } {
  const binary = sources.filter((s) => s.types.includes('deb'));
  const isSecurity = (s: AptSource) => s.suites.some((x) => /-security$|\/updates$/.test(x));
  const main = binary.find((s) => !isSecurity(s));
  const sec = binary.find(isSecurity);
  const result: { mirror?: string; security?: string } = {};
  if (main?.uris[0]) result.mirror = main.uris[0];
  if (sec?.uris[0]) result.security = sec.uris[0];
  return result;
}

export function readHostSources(root = '/'): AptSource[] {
  const out: AptSource[] = [];
  const list = path.join(root, 'etc/apt/sources.list');
  if (fs.existsSync(list)) out.push(...parseSourcesList(fs.readFileSync(list, 'utf8')));
  const dir = path.join(root, 'etc/apt/sources.list.d');
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir).sort()) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.sources')) out.push(...parseDeb822(text));
      else if (f.endsWith('.list')) out.push(...parseSourcesList(text));
    }
  }
  return out;
}

/** The mirrors to build from: the override, else the host's apt sources; a clear error if neither. */
export function resolveMirrors(override: string | undefined, env: Readonly<Record<string, string>>, root = '/'): Mirrors {
  const host = pickMirrors(readHostSources(root));
  const mirror = override ?? host.mirror;
  if (!mirror) {
    throw invalid('no Debian mirror: the host has no apt sources', 'set DIB_DISTRIBUTION_MIRROR or --mirror');
  }
  const security = env.DIB_DEBIAN_SECURITY_MIRROR ?? host.security;
  return { mirror: mirror.replace(/\/+$/, ''), security: security?.replace(/\/+$/, '') };
}
