/** The hook phases, in the order a build runs them, and where each runs. */
export type Where = 'host' | 'chroot' | 'image';

/** Which kind of build a phase belongs to: every build, disk images only, or the booted image. */
export type Stage = 'tree' | 'finalise' | 'disk' | 'cleanup' | 'first-boot';

/** The step of the step cache whose entry holds what a phase did (none: it runs on every build). */
export type CacheStepName = 'root' | 'install' | 'finalise';

export interface PhaseDef {
  readonly name: string; // e.g. "install.d"
  readonly where: Where;
  readonly stage: Stage;
  readonly cacheStep: CacheStepName | undefined;
  readonly help: string;
}

export const PHASES: readonly PhaseDef[] = [
  { name: 'root.d', where: 'host', stage: 'tree', cacheStep: 'root', help: 'create the base tree in $TARGET_ROOT' },
  { name: 'extra-data.d', where: 'host', stage: 'tree', cacheStep: 'install', help: 'copy host data into $TMP_HOOKS_PATH' },
  { name: 'pre-install.d', where: 'chroot', stage: 'tree', cacheStep: 'install', help: 'prepare the tree for package installs' },
  { name: 'install.d', where: 'chroot', stage: 'tree', cacheStep: 'install', help: 'install software' },
  { name: 'post-install.d', where: 'chroot', stage: 'tree', cacheStep: 'finalise', help: 'configure what was installed' },
  { name: 'post-root.d', where: 'host', stage: 'tree', cacheStep: 'finalise', help: 'host-side changes after the chroot phases' },
  { name: 'block-device-size.d', where: 'host', stage: 'disk', cacheStep: 'finalise', help: 'may print IMAGE_SIZE=<GB>' },
  { name: 'block-device.d', where: 'host', stage: 'disk', cacheStep: 'finalise', help: 'may print IMAGE_BLOCK_DEVICE=<path>' },
  { name: 'pre-finalise.d', where: 'host', stage: 'finalise', cacheStep: 'finalise', help: 'host-side, tree complete' },
  { name: 'finalise.d', where: 'chroot', stage: 'finalise', cacheStep: 'finalise', help: 'last changes inside the tree' },
  { name: 'cleanup.d', where: 'host', stage: 'cleanup', cacheStep: undefined, help: 'clean up; $TARGET_ROOT still set' },
  { name: 'first-boot.d', where: 'image', stage: 'first-boot', cacheStep: 'finalise', help: 'run once on the first boot of the image' },
];

export const PHASE_NAMES: readonly string[] = PHASES.map((p) => p.name);

export function findPhase(name: string): PhaseDef | undefined {
  return PHASES.find((p) => p.name === name);
}

/** A hook name as run-parts accepts it: no dots, no spaces. */
export const HOOK_NAME = /^[0-9A-Za-z_-]+$/;

/**
 * Orders hook names like diskimage-builder's dib-run-parts (`LANG=C sort -n`): the leading number
 * numerically (no number counts as 0), then the whole name bytewise.
 * a-x < 02-c < 9-b < 10-A < 10-a
 */
export function compareHookNames(a: string, b: string): number {
  const na = leadingNumber(a);
  const nb = leadingNumber(b);
  if (na !== nb) return na < nb ? -1 : 1;
  return compareBytes(a, b);
}

/**
 * The same order in shell, for the scripts kiln puts where hooks run without it (dib-run-parts, the
 * first-boot runner): names on stdin, one per line, come out in compareHookNames' order.
 */
export const SHELL_HOOK_ORDER = 'LC_ALL=C sort -n';

function leadingNumber(name: string): bigint {
  const m = /^[0-9]+/.exec(name);
  return m ? BigInt(m[0]) : 0n;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** install.d/<prefix>-<type>-install/: hooks that run only when <prefix>'s install type is <type>. */
export const INSTALL_TYPE_DIR = /^(.+)-([^-]+)-install$/;
