import { invalid } from '../errors/index.js';
import { formatKind, type Format } from '../output/formats.js';
import { HOOK_NAME, INSTALL_TYPE_DIR, PHASES, compareHookNames, type PhaseDef } from './phases.js';
import type { FlavourIndex, PlannedHook, PlannedPhase, Resolved } from './types.js';

export interface SkippedHook {
  readonly path: string;
  readonly flavour: string;
  readonly why: 'not executable' | 'directory' | 'name has a dot or other character run-parts skips';
}

export interface PhasePlan {
  readonly phases: readonly PlannedPhase[];
  readonly skipped: readonly SkippedHook[];
  /** environment.d files of all flavours, in the order they are sourced. */
  readonly environment: readonly { flavour: string; path: string }[];
}

/** Whether a phase runs for a build with these outputs. */
export function phaseRuns(phase: PhaseDef, formats: readonly Format[]): boolean {
  switch (phase.stage) {
    case 'tree':
    case 'finalise':
    case 'cleanup':
    case 'first-boot':
      return true;
    case 'disk':
      return formats.some((f) => formatKind(f) === 'disk');
  }
}

/**
 * Merges every resolved flavour's hooks per phase, ordered like run-parts. Pure over the index.
 * Two flavours shipping one hook name in one phase is an error naming both.
 */
export function planPhases(index: FlavourIndex, resolved: Resolved, formats: readonly Format[], installType: (prefix: string) => string = () => 'source'): PhasePlan {
  const skipped: SkippedHook[] = [];
  const phases = PHASES.map((phase): PlannedPhase => {
    const byName = new Map<string, PlannedHook>();
    for (const { name: flavourName } of resolved.flavours) {
      const flavour = index.get(flavourName);
      const files = [...(flavour?.hooks[phase.name] ?? [])];
      // diskimage-builder's install types: install.d/<prefix>-<type>-install/ joins install.d when
      // <prefix>'s install type (DIB_INSTALLTYPE_<prefix>, else DIB_DEFAULT_INSTALLTYPE) is <type>.
      if (phase.name === 'install.d') {
        for (const [dir, entries] of Object.entries(flavour?.installTypeDirs ?? {})) {
          const m = INSTALL_TYPE_DIR.exec(dir);
          if (m && installType(m[1] as string) === m[2]) files.push(...entries);
        }
      }
      for (const file of files) {
        if (file.directory && INSTALL_TYPE_DIR.test(file.name) && phase.name === 'install.d') continue;
        const why = skipReason(file);
        if (why) {
          skipped.push({ path: file.path, flavour: flavourName, why });
          continue;
        }
        const clash = byName.get(file.name);
        if (clash) {
          throw invalid(
            `hook ${phase.name}/${file.name} is shipped by both flavour "${clash.flavour}" (${clash.path}) and flavour "${flavourName}" (${file.path})`,
            'rename one of them',
          );
        }
        byName.set(file.name, { name: file.name, flavour: flavourName, path: file.path, where: phase.where });
      }
    }
    const hooks = [...byName.values()].sort((a, b) => compareHookNames(a.name, b.name));
    return { name: phase.name, where: phase.where, runs: phaseRuns(phase, formats), hooks };
  });
  const environment = resolved.flavours
    .flatMap(({ name }) => (index.get(name)?.environment ?? []).map((p) => ({ flavour: name, path: p })))
    .sort((a, b) => compareHookNames(basename(a.path), basename(b.path)));
  // Staged into one environment.d, one file would silently replace the other: an error, like a hook clash.
  for (let i = 1; i < environment.length; i++) {
    const [a, b] = [environment[i - 1], environment[i]] as [{ flavour: string; path: string }, { flavour: string; path: string }];
    if (basename(a.path) === basename(b.path)) {
      throw invalid(`environment.d/${basename(a.path)} is shipped by both flavour "${a.flavour}" (${a.path}) and flavour "${b.flavour}" (${b.path})`, 'rename one of them (or use only one of the two flavours)');
    }
  }
  return { phases, skipped, environment };
}

function skipReason(file: { name: string; directory: boolean; executable: boolean }): SkippedHook['why'] | undefined {
  if (file.directory) return 'directory';
  if (!HOOK_NAME.test(file.name)) return 'name has a dot or other character run-parts skips';
  if (!file.executable) return 'not executable';
  return undefined;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
