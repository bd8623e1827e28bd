/**
 * What a tree says about running it as a container: `/etc/kiln/oci-config.json`, written by a flavour, holds
 * the image config's runtime fields (image-spec's config.md) — `User`, `Entrypoint`, `Cmd`, `WorkingDir`, `Env`
 * (added after PATH) and `Labels` (added to the build's; the build's win) — which `-t oci` puts into the
 * image's config. The file stays in the image, where it documents how the image runs. Without it the image
 * runs `/bin/sh` as root, as before.
 */
import fs from 'node:fs';
import { failed } from '../errors/index.js';
import { hostPath } from '../rootfs/paths.js';

export const RUNTIME_FILE = '/etc/kiln/oci-config.json';

export interface RuntimeConfig {
  readonly user?: string;
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly workingDir?: string;
  readonly env?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

const KEYS = ['User', 'Entrypoint', 'Cmd', 'WorkingDir', 'Env', 'Labels'] as const;

/** Parses the file's text; every problem is named (the file and the key). */
export function parseRuntimeConfig(text: string): RuntimeConfig {
  const bad = (what: string) => failed(`${RUNTIME_FILE} in the tree: ${what}`, { hint: `keys: ${KEYS.join(', ')} (image-spec config.md)` });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) throw bad(`unknown key "${k}"`);
  const str = (k: string) => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') throw bad(`${k}: a non-empty string expected`);
    return o[k];
  };
  const list = (k: string) => {
    const x = o[k];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || !x.every((e) => typeof e === 'string')) throw bad(`${k}: an array of strings expected`);
    return x as string[];
  };
  const labels = o.Labels;
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((e) => typeof e === 'string'))) {
    throw bad('Labels: an object of strings expected');
  }
  const user = str('User');
  const workingDir = str('WorkingDir');
  const entrypoint = list('Entrypoint');
  const cmd = list('Cmd');
  const env = list('Env');
  return {
    ...(user === undefined ? {} : { user }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(cmd === undefined ? {} : { cmd }),
    ...(workingDir === undefined ? {} : { workingDir }),
    ...(env === undefined ? {} : { env }),
    ...(labels === undefined ? {} : { labels: labels as Record<string, string> }),
  };
}

/** The tree's runtime config, or undefined when it has none. */
export function readRuntimeConfig(tree: string): RuntimeConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(hostPath(tree, RUNTIME_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return parseRuntimeConfig(text);
}
