/** The base-tree step: the operating-system flavour's rootfs.yaml, cached and unpacked. */
import type { BuildConfig } from '../config/config.js';
import type { Logger } from '../log/index.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { ensureBase, extractBase, readRootfsDecl, type BaseSpec } from '../rootfs/base.js';
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

export async function makeBaseTree(config: BuildConfig, plan: BuildPlan, root: string, mirrors: Mirrors | undefined, log: Logger): Promise<void> {
  const spec = baseSpec(config, plan, mirrors);
  if (!spec) return;
  const s = config.settings;
  const { tarball } = await log.step(`base tree [${spec.flavour}] ${s.release}/${s.arch}`, async () => {
    const r = await ensureBase(spec, s.imageCache, s.offline, log);
    log.info(`  base tree cache ${r.hit ? 'hit' : 'miss (created)'}: ${r.tarball}`);
    return r;
  });
  await log.step('unpack base tree', () => extractBase(tarball, root));
}
