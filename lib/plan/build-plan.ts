import type { BuildConfig } from '../config/config.js';
import { discoverFlavours, searchPaths } from '../flavours/discover.js';
import { findUpstreamLibrary } from '../hooks/shell-library.js';
import { planPhases, type SkippedHook } from '../flavours/plan.js';
import { describeReason, resolveFlavours } from '../flavours/resolve.js';
import type { Flavour, FlavourIndex, PlannedPhase, Reason } from '../flavours/types.js';
import { formatKind, outputPaths, type Format } from '../output/formats.js';
import { installTypeOf } from '../packages/installs.js';
import { OPERATING_SYSTEM } from '../flavours/resolve.js';
import { packageSources, ramdiskNeeds, unmetNeedsError, type MetNeed } from './ramdisk-needs.js';

export type BuildKind = 'disk' | 'ramdisk';

export interface PlannedFlavour {
  readonly name: string;
  readonly dir: string;
  readonly reason: Reason;
  readonly why: string;
  readonly summary: string | undefined;
  readonly files: Flavour['files'];
  /** Flavours of the same name this one wins over (further down the search path, or diskimage-builder's own). */
  readonly overrides: readonly string[];
}

export interface BuildPlan {
  readonly kind: BuildKind;
  readonly flavours: readonly PlannedFlavour[];
  readonly defaultOsAdded: string | undefined;
  readonly provided: Readonly<Record<string, string>>;
  readonly phases: readonly PlannedPhase[];
  readonly skipped: readonly SkippedHook[];
  readonly environment: readonly { flavour: string; path: string }[];
  readonly outputs: readonly { format: Format | 'kernel' | 'initramfs'; path: string }[];
  readonly searchPaths: readonly string[];
  /** diskimage-builder's lib/ staged as $_LIB (when its elements directory is on the search path); else kiln's own. */
  readonly shellLibrary?: string;
  /** Ramdisk builds: the ramdisk element, and where the tree's busybox and kernel come from. */
  readonly ramdisk?: { readonly element: string; readonly needs: readonly MetNeed[] };
}

/** Discovers flavours on the configured search path and plans the build. Reads the disk, writes nothing. */
export function makeBuildPlan(config: BuildConfig, named: readonly string[], kind: BuildKind): BuildPlan {
  const paths = searchPaths(config.settings.elementsPath);
  const index = discoverFlavours(paths);
  const library = findUpstreamLibrary(paths);
  const plan = { ...planFromIndex(index, paths, config, named, kind), ...(library ? { shellLibrary: library } : {}) };
  return kind === 'ramdisk' ? withRamdiskNeeds(plan, config) : plan;
}

/**
 * A ramdisk plan with where its needs come from (read from the flavours' package-installs.yaml and
 * rootfs.yaml); a plan that cannot make a ramdisk is refused here, before any step runs.
 */
export function withRamdiskNeeds(plan: BuildPlan, config: BuildConfig): BuildPlan {
  const s = config.settings;
  const { met, unmet } = ramdiskNeeds(packageSources(plan.flavours, s.arch, s.packages));
  if (unmet.length > 0) throw unmetNeedsError(unmet, { ramdiskElement: s.ramdiskElement, operatingSystem: plan.provided[OPERATING_SYSTEM], arch: s.arch });
  return { ...plan, ramdisk: { element: s.ramdiskElement, needs: met } };
}

/** The plan's image outputs: every output but a ramdisk's kernel and initramfs. */
export function imageOutputs(plan: Pick<BuildPlan, 'outputs'>): { format: Format; path: string }[] {
  return plan.outputs.flatMap((o) => (o.format === 'kernel' || o.format === 'initramfs' ? [] : [{ format: o.format, path: o.path }]));
}

/** The plan's disk-image outputs (qcow2, raw, vhd, vmdk): those need a partitioned, bootable disk. */
export function diskOutputs(plan: Pick<BuildPlan, 'outputs'>): { format: Format; path: string }[] {
  return imageOutputs(plan).filter((o) => formatKind(o.format) === 'disk');
}

/**
 * The operating-system flavour kiln adds when none named provides one: the cloud image `debian`; a ramdisk,
 * which keeps only busybox and the kernel's modules from its tree, gets `debian-nocloud` (cloud-init would only
 * cost build time).
 */
export function defaultOperatingSystem(kind: BuildKind): string {
  return kind === 'ramdisk' ? 'debian-nocloud' : 'debian';
}

/** The pure part: plans a build over an index of flavours. */
export function planFromIndex(
  index: FlavourIndex,
  paths: readonly string[],
  config: BuildConfig,
  named: readonly string[],
  kind: BuildKind,
): BuildPlan {
  const s = config.settings;
  const resolved = resolveFlavours(index, named, { defaultOs: s.defaultOs === undefined ? defaultOperatingSystem(kind) : s.defaultOs, searchPaths: paths, ...(kind === 'ramdisk' ? { ramdiskElement: s.ramdiskElement } : {}) });
  const formats: Format[] = kind === 'ramdisk' ? ['tar'] : s.types;
  const phasePlan = planPhases(index, resolved, kind === 'ramdisk' ? [] : formats, (prefix) => installTypeOf(prefix, config.env));
  const outputs =
    kind === 'ramdisk'
      ? [
          { format: 'kernel' as const, path: `${s.output}.kernel` },
          { format: 'initramfs' as const, path: `${s.output}.initramfs` },
        ]
      : outputPaths(s.output, s.types);
  return {
    kind,
    flavours: resolved.flavours.map(({ name, reason }) => {
      const f = index.get(name);
      return { name, dir: f?.dir ?? '', reason, why: describeReason(reason), summary: f?.summary, files: f?.files ?? {}, overrides: f?.overrides ?? [] };
    }),
    defaultOsAdded: resolved.defaultOsAdded,
    provided: resolved.provided,
    phases: phasePlan.phases,
    skipped: phasePlan.skipped,
    environment: phasePlan.environment,
    outputs,
    searchPaths: paths,
  };
}
