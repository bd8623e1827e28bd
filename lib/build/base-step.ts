/** The base-tree step: the operating-system flavour's rootfs.yaml, cached and unpacked. */
import type { BuildConfig } from '../config/config.js';
import type { Logger } from '../log/index.js';
import type { BuildPlan } from '../plan/build-plan.js';
import fs from 'node:fs';
import path from 'node:path';
import type { RemoteCache } from '../cache/remote.js';
import { currentOwner } from '../namespace/owner.js';
import { baseKey, basePath, ensureBase, extractBase, readRootfsDecl, type BaseSpec } from '../rootfs/base.js';
import { resolveMirrors, type Mirrors } from '../rootfs/mirror.js';

/** The mirrors, when some flavour declares a base tree (or the user set one). */
export function baseMirror(config: BuildConfig, plan: BuildPlan): Mirrors | undefined {
  const needs = plan.flavours.some((f) => f.files.rootfs) || config.settings.mirror !== undefined;
  return needs ? resolveMirrors(config.settings.mirror, config.env) : undefined;
}

/** What shapes the base tree: the flavour's rootfs.yaml, the release, the architecture and the mirrors. */
export function baseSpec(config: BuildConfig, plan: BuildPlan, mirrors: Mirrors | undefined): (BaseSpec & { flavour: string }) | undefined {
  const decl = plan.flavours.find((f) => f.files.rootfs);
  if (!decl?.files.rootfs || !mirrors) return undefined;
  const d = readRootfsDecl(decl.files.rootfs, decl.name);
  const s = config.settings;
  return { ...d, release: s.release, arch: s.arch, mirror: mirrors.mirror, security: mirrors.security, flavour: decl.name };
}

export async function makeBaseTree(config: BuildConfig, plan: BuildPlan, root: string, mirrors: Mirrors | undefined, log: Logger, remote?: RemoteCache): Promise<void> {
  const spec = baseSpec(config, plan, mirrors);
  if (!spec) return;
  const s = config.settings;
  const { tarball } = await log.step(`base tree [${spec.flavour}] ${s.release}/${s.arch}`, async () => {
    const pulled = remote ? await pullBase(remote, spec, basePath(s.imageCache, spec), log) : false;
    const r = await ensureBase(spec, s.imageCache, s.offline, log);
    log.info(`  base tree cache ${pulled ? 'hit (registry)' : r.hit ? 'hit' : 'miss (created)'}: ${r.tarball}`);
    // Made here, or found here but not there: the registry gets it, for builders that miss a later step.
    if (remote && !pulled && (!r.hit || (await remote.holds('base', [baseKey(spec)])).size === 0)) pushBase(remote, spec, r.tarball);
    return r;
  });
  await log.step('unpack base tree', () => extractBase(tarball, root));
}

/** A base tree missing here but held by the cache registry: pulled (digest-checked) to where ensureBase finds it. */
async function pullBase(remote: RemoteCache, spec: BaseSpec, tarball: string, log: Logger): Promise<boolean> {
  if (fs.existsSync(tarball)) return false;
  fs.mkdirSync(path.dirname(tarball), { recursive: true });
  const o = currentOwner();
  const part = tarball.replace(/\.tar\.zst$/, `.kiln-part-${o.pid}-${o.start}.tar.zst`);
  try {
    const meta = await remote.pull('base', baseKey(spec), part, (e) => log.event(e));
    if (!meta) return false;
    fs.renameSync(part, tarball);
    fs.writeFileSync(`${tarball}.json`, `${JSON.stringify(meta, null, 2)}\n`);
    return true;
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/**
 * Pushes a base tree in the background, from a hard link (named as a partial file of this process, so the sweep
 * of a later build removes it if this one dies).
 */
function pushBase(remote: RemoteCache, spec: BaseSpec, tarball: string): void {
  const o = currentOwner();
  const pin = tarball.replace(/\.tar\.zst$/, `.push.kiln-part-${o.pid}-${o.start}.tar.zst`);
  try {
    fs.linkSync(tarball, pin);
  } catch {
    return;
  }
  remote.push('base', baseKey(spec), pin, { ...spec, key: baseKey(spec) }, () => fs.rmSync(pin, { force: true }));
}
