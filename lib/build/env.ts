/** The environment every hook sees (GUIDE §3; documented in the README). */
import path from 'node:path';
import type { BuildConfig } from '../config/config.js';
import { builtinFlavoursDir } from '../flavours/discover.js';
import { baseElementDir } from '../hooks/shell-library.js';
import { dibEnvText } from '../output/dib-manifests.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { hostArch } from '../config/parse.js';

export interface BuildDirs {
  readonly work: string;
  readonly root: string;
  readonly hooks: string;
  readonly image: string;
}

/**
 * The caller's variables hooks and package scripts do not get: they decide whether and where Python writes
 * bytecode, so with them a package's maintainer script (python3's own py3compile run) writes different files
 * into the tree, while no hook names them (so they are no step-cache input) and they come from the caller's
 * shell, not the build's inputs: a root build from a shell with PYTHONDONTWRITEBYTECODE=1 and a rootless
 * build from a login shell gave different .pyc files, hence a different tree fingerprint, root filesystem
 * UUID, disk and tar.
 */
export const CALLER_ONLY = ['PYTHONDONTWRITEBYTECODE', 'PYTHONPYCACHEPREFIX'] as const;

/** The caller's environment as hooks see it: without CALLER_ONLY. */
export function callerEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...env };
  for (const k of CALLER_ONLY) delete out[k];
  return out;
}

export function hookEnv(config: BuildConfig, plan: BuildPlan, dirs: BuildDirs, mirror: string | undefined): Record<string, string> {
  const s = config.settings;
  const env = callerEnv(config.env);
  Object.assign(env, {
    TARGET_ROOT: dirs.root,
    TMP_MOUNT_PATH: dirs.root,
    TMP_HOOKS_PATH: dirs.hooks,
    TMP_BUILD_DIR: dirs.work,
    TMP_IMAGE_DIR: dirs.image,
    _LIB: path.join(dirs.hooks, 'lib'),
    _BASE_ELEMENT_DIR: baseElementDir(plan.shellLibrary, builtinFlavoursDir()),
    IMAGE_NAME: path.resolve(s.output),
    IMAGE_ELEMENT: plan.flavours.map((f) => f.name).join(' '),
    IMAGE_ELEMENT_YAML: JSON.stringify(Object.fromEntries(plan.flavours.map((f) => [f.name, f.dir]))),
    ELEMENTS_PATH: plan.searchPaths.join(':'),
    ARCH: s.arch,
    // The host's architecture: a hook can tell a tree whose programs run under emulation (qemu-user).
    KILN_HOST_ARCH: hostArch(),
    DIB_RELEASE: s.release,
    DIB_IMAGE_CACHE: s.imageCache,
    DIB_OFFLINE: s.offline ? '1' : '',
    DIB_DEBUG_TRACE: s.trace ? '1' : '0',
    DIB_ROOT_LABEL: env.DIB_ROOT_LABEL ?? 'cloudimg-rootfs',
    DIB_INIT_SYSTEM: env.DIB_INIT_SYSTEM ?? 'systemd',
    DIB_PYTHON_EXEC: env.DIB_PYTHON_EXEC ?? '/usr/bin/python3',
    DIB_PYTHON_VERSION: env.DIB_PYTHON_VERSION ?? '3',
    DIB_DEFAULT_INSTALLTYPE: env.DIB_DEFAULT_INSTALLTYPE ?? 'source',
    DIB_BLOCK_DEVICE: s.blockDevice,
    // diskimage-builder's record of how it was called (the manifests element writes both into the image).
    DIB_ARGS: (config.args ?? []).join(' '),
    DIB_ENV: dibEnvText(config.env),
    KILN_IMAGE_TYPES: s.types.join(','),
    KILN_BUILD_KIND: plan.kind,
    LC_ALL: 'C.UTF-8',
  });
  if (mirror) env.DIB_DISTRIBUTION_MIRROR = mirror;
  if (s.imageSize !== undefined) env.DIB_IMAGE_SIZE = String(s.imageSize / 2 ** 30);
  return env;
}
