/**
 * extra-data.d run apart from the build, to key the install step. Those hooks run on the host and read
 * whatever they like there (the user's ~/.ssh keys, a file a variable names, a proxy setting): no list of
 * inputs can name it all, but what they produce can be hashed. So on every build with the cache on, the
 * phase runs against an empty tree and a copy of the staged hooks directory; the files it wrote or changed
 * there, and everything it put in the tree, become inputs of the install step
 * (`extra-data.d output: local-config/authorized_keys`, `extra-data.d output: /etc/apt/apt.conf`).
 * A hook that fails apart from the real tree (it needs the tree's files) makes install and finalise
 * uncacheable for that build: slower, never stale. The real phase still runs, on the real tree, whenever
 * the install step is built. Nothing of the probe outlives it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EXTRA_DATA_OUTPUT, entryDigest, walkAll, type ExtraDataProbe } from '../cache/inputs.js';
import type { PlannedPhase } from '../flavours/types.js';
import { runPhase, type HookContext } from '../hooks/run.js';
import { Logger } from '../log/index.js';
import { unmountAllUnder } from '../mount/index.js';

/** Runs the phase in `scratch` (created and removed here) and digests what it produced. */
export async function probeExtraData(ctx: HookContext, phase: PlannedPhase, scratch: string): Promise<ExtraDataProbe> {
  const hooks = path.join(scratch, 'hooks');
  const root = path.join(scratch, 'mnt');
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(ctx.hooksDir, hooks, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const env = {
    ...ctx.env,
    TARGET_ROOT: root,
    TMP_MOUNT_PATH: root,
    TMP_HOOKS_PATH: hooks,
    _LIB: path.join(hooks, 'lib'),
    TMP_BUILD_DIR: scratch,
    TMP_IMAGE_DIR: path.join(scratch, 'image'),
  };
  // The hooks' own lines appear when the phase runs for real; a failure here is summed up by the caller.
  const quiet = new Logger({ json: false, quiet: true });
  try {
    await runPhase({ ...ctx, root, hooksDir: hooks, env, log: quiet }, phase);
    return { outputs: { ...changedFiles(ctx.hooksDir, hooks, ''), ...changedFiles(undefined, root, '/') } };
  } catch (e) {
    const err = e as { message?: string; kind?: string };
    if (err.kind === 'interrupted') throw e;
    return { failed: err.message ?? String(e) };
  } finally {
    await unmountAllUnder(scratch);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Digests of the entries of `after` that are new or differ from `before` (every entry when before is undefined). */
export function changedFiles(before: string | undefined, after: string, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of walkAll(after, '')) {
    const now = entryDigest(path.join(after, rel));
    if (now === undefined) continue;
    if (before !== undefined && entryDigest(path.join(before, rel)) === now) continue;
    out[`${EXTRA_DATA_OUTPUT}${prefix}${rel}`] = now;
  }
  return out;
}
