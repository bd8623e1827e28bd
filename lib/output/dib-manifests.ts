/**
 * diskimage-builder's `manifests` element copies the image's manifest directory (DIB_MANIFEST_IMAGE_DIR,
 * /etc/dib-manifests) out to DIB_MANIFEST_SAVE_DIR (IMAGE_NAME.d/), so the manifests are also beside the
 * image as IMAGE_NAME.d/dib-manifests/. kiln does that copy with the outputs, not in a cleanup.d hook: it
 * appears whole or not at all (written under a partial name, renamed into place, removed if the build
 * fails), a link in the tree never leads the copy out of it, and it replaces an earlier build's copy.
 * Also diskimage-builder's DIB_ENV and DIB_ARGS, which the element records in the image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed } from '../errors/index.js';
import { hostPath, writeInTree } from '../rootfs/paths.js';
import type { Scope } from '../scope/index.js';
import { writeAtomically } from './atomic.js';

/**
 * What the manifests element does in the tree at cleanup: records DIB_ENV and DIB_ARGS there (dib_environment,
 * dib_arguments) and makes every manifest root's (owned by root, mode 0600). Every path is resolved inside the
 * tree, and links are never followed.
 */
export function recordDibManifests(tree: string, imageDir: string, env: Readonly<Record<string, string>>): void {
  const dir = hostPath(tree, imageDir);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw failed(`manifests: ${imageDir} (DIB_MANIFEST_IMAGE_DIR) is missing from the tree`);
  for (const [name, value] of [['dib_environment', env.DIB_ENV], ['dib_arguments', env.DIB_ARGS]] as const) {
    fs.rmSync(path.join(dir, name), { force: true, recursive: true });
    writeInTree(tree, path.posix.join(imageDir, name), `${value ?? ''}\n`, 0o600);
  }
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        fs.chownSync(p, 0, 0);
        fs.chmodSync(p, 0o600);
      }
    }
  };
  walk(dir);
}

/** Copies the tree's manifest directory into saveDir; returns the copy and every path it made (directories it created included). */
export async function saveDibManifests(scope: Scope, tree: string, imageDir: string, saveDir: string): Promise<{ dir: string; made: string[] }> {
  const src = hostPath(tree, imageDir);
  if (!fs.statSync(src, { throwIfNoEntry: false })?.isDirectory()) {
    throw failed(`manifests: ${imageDir} (DIB_MANIFEST_IMAGE_DIR) is not a directory in the tree, so there is nothing to copy to ${saveDir}`);
  }
  const dest = path.join(path.resolve(saveDir), path.basename(path.resolve('/', imageDir)));
  const first = fs.mkdirSync(path.dirname(dest), { recursive: true });
  const created = first === undefined ? [] : path.relative(first, path.dirname(dest)).split(path.sep).filter(Boolean).reduce((acc, c) => [...acc, path.join(acc[acc.length - 1] as string, c)], [first]);
  await writeAtomically(scope, dest, async (tmp) => {
    // Links are copied as links (never followed out of the tree); times as the tree has them (clamped).
    fs.cpSync(src, tmp, { recursive: true, verbatimSymlinks: true, dereference: false, preserveTimestamps: true });
    // A directory cannot be renamed onto a full one: an earlier build's copy goes just before.
    fs.rmSync(dest, { recursive: true, force: true });
  });
  return { dir: dest, made: [...created, dest, ...(fs.readdirSync(dest, { recursive: true }) as string[]).map((rel) => path.join(dest, rel))] };
}

/** Names of variables whose values are secrets: recorded by name only. */
const SECRET_NAME = /PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET|CREDENTIAL|PRIVATE/i;

/**
 * DIB_ENV as diskimage-builder makes it (`export | grep ' DIB_.*='`): the caller's DIB_* variables as
 * `declare -x NAME="value"` lines, sorted; a value whose name says it is a secret is replaced by a note.
 */
export function dibEnvText(env: Readonly<Record<string, string>>): string {
  return Object.keys(env)
    .filter((k) => /^DIB_[A-Za-z0-9_]*$/.test(k))
    .sort()
    .map((k) => `declare -x ${k}="${SECRET_NAME.test(k) ? '(set; not recorded by kiln)' : (env[k] as string).replace(/["\\$`]/g, '\\$&')}"`)
    .join('\n');
}
