import type { BuildConfig } from '../config/config.js';
import { discoverFlavours, searchPaths } from '../flavours/discover.js';
import { planPhases, type SkippedHook } from '../flavours/plan.js';
import { describeReason, resolveFlavours } from '../flavours/resolve.js';
import type { Flavour, FlavourIndex, PlannedPhase, Reason } from '../flavours/types.js';
import { outputPaths, type Format } from '../output/formats.js';
import { installTypeOf } from '../packages/installs.js';

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
}

/** Discovers flavours on the configured search path and plans the build. Reads the disk, writes nothing. */
export function makeBuildPlan(config: BuildConfig, named: readonly string[], kind: BuildKind): BuildPlan {
  const paths = searchPaths(config.settings.elementsPath);
  const index = discoverFlavours(paths);
  return planFromIndex(index, paths, config, named, kind);
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
  const resolved = resolveFlavours(index, named, { defaultOs: s.defaultOs, searchPaths: paths });
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
