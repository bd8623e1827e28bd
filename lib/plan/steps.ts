/**
 * What a build will do, in order, as `kiln plan` shows it: the base tree, every phase's hooks with the
 * package installs and removals placed among them as the build places them (after pkg-map, build-only and
 * uninstall rules: lib/packages/installs.ts), the -p packages, the disk and the outputs. Pure: the build
 * runs the same phaseSteps, so what the plan says is what runs.
 */
import type { PlannedPhase } from '../flavours/types.js';
import { PACKAGE_PHASES, phaseSteps, type PackagePhase, type PhasePackages } from '../packages/installs.js';
import type { BuildPlan } from './build-plan.js';

export type PlanStep =
  | { readonly step: 'base tree'; readonly flavour: string; readonly release: string; readonly arch: string }
  | { readonly step: 'hook'; readonly phase: string; readonly name: string; readonly flavour: string; readonly where: string }
  | { readonly step: 'install' | 'remove'; readonly phase: string; readonly packages: readonly string[] }
  | { readonly step: 'disk'; readonly layout: string; readonly bootloader: string | undefined; readonly from: readonly string[] }
  | { readonly step: 'output'; readonly format: string; readonly path: string };

export interface StepSources {
  readonly packages: Readonly<Record<PackagePhase, PhasePackages>>;
  /** -p packages, installed after install.d. */
  readonly extraPackages: readonly string[];
  readonly base?: { readonly flavour: string; readonly release: string; readonly arch: string };
  /** The disk, when the build writes a disk format. */
  readonly disk?: { readonly layout: string; readonly bootloader: string | undefined; readonly from: readonly string[] };
}

export function planSteps(plan: BuildPlan, src: StepSources): PlanStep[] {
  const out: PlanStep[] = [];
  if (src.base) out.push({ step: 'base tree', ...src.base });
  for (const phase of plan.phases) {
    if (!phase.runs) continue;
    if (isPackagePhase(phase.name)) {
      for (const s of phaseSteps(phase.name, phase.hooks, src.packages[phase.name])) {
        if (s.kind === 'hooks') out.push(...hookSteps(phase, s.hooks));
        else out.push({ step: s.kind === 'install' ? 'install' : 'remove', phase: phase.name, packages: s.packages });
      }
      if (phase.name === 'install.d' && src.extraPackages.length > 0) out.push({ step: 'install', phase: '-p', packages: src.extraPackages });
    } else out.push(...hookSteps(phase, phase.hooks));
  }
  if (src.disk) out.push({ step: 'disk', ...src.disk });
  for (const o of plan.outputs) out.push({ step: 'output', format: o.format, path: o.path });
  return out;
}

/** One line per step, for the plan as a person reads it. */
export function renderSteps(steps: readonly PlanStep[]): string[] {
  return steps.map((s) => {
    switch (s.step) {
      case 'base tree':
        return `  base tree  [${s.flavour}] ${s.release}/${s.arch}`;
      case 'hook':
        return `  ${s.phase}/${s.name}  [${s.flavour}] (${s.where})`;
      case 'install':
      case 'remove':
        return `  ${s.phase} ${s.step} ${s.packages.join(' ')}`;
      case 'disk':
        return `  disk  ${s.layout}${s.bootloader ? `, ${s.bootloader}` : ''} (${s.from.join(', ')})`;
      case 'output':
        return `  output  ${s.path} (${s.format})`;
    }
  });
}

const isPackagePhase = (name: string): name is PackagePhase => (PACKAGE_PHASES as readonly string[]).includes(name);

const hookSteps = (phase: PlannedPhase, hooks: PlannedPhase['hooks']): PlanStep[] =>
  hooks.map((h) => ({ step: 'hook', phase: phase.name, name: h.name, flavour: h.flavour, where: h.where }));
