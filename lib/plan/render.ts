import type { BuildPlan } from './build-plan.js';

/** The plan as a person reads it. */
export function renderPlan(plan: BuildPlan): string {
  const out: string[] = [];
  out.push(`Flavours (${plan.flavours.length}):`);
  const width = Math.max(...plan.flavours.map((f) => f.name.length));
  for (const f of plan.flavours) out.push(`  ${f.name.padEnd(width)}  ${f.why}${f.overrides.length > 0 ? `  (overrides ${f.overrides.join(', ')})` : ''}`);
  if (plan.defaultOsAdded) out.push(`  (kiln added "${plan.defaultOsAdded}": no named flavour provides operating-system)`);
  if (plan.ramdisk) {
    const needs = plan.ramdisk.needs.map((n) => `${n.pkg} from ${n.from}`).join(', ');
    out.push(`Ramdisk element: ${plan.ramdisk.element}${needs ? ` (the tree's busybox and kernel: ${needs})` : ''}`);
  }
  const virtuals = Object.entries(plan.provided);
  if (virtuals.length > 0) out.push(`Provided: ${virtuals.map(([v, by]) => `${v} by ${by}`).join(', ')}`);
  out.push(`Shell library ($_LIB): ${plan.shellLibrary ? `diskimage-builder's, from ${plan.shellLibrary}` : "kiln's"}`);
  if (plan.environment.length > 0) {
    out.push('Environment (sourced before every phase):');
    for (const e of plan.environment) out.push(`  ${e.path}  [${e.flavour}]`);
  }
  out.push('Phases:');
  for (const phase of plan.phases) {
    const state = phase.runs ? '' : ' (skipped for these outputs)';
    out.push(`  ${phase.name} (${phase.where})${state}${phase.hooks.length === 0 ? ': no hooks' : ''}`);
    for (const h of phase.hooks) out.push(`    ${h.name}  [${h.flavour}]  ${h.path}`);
  }
  if (plan.skipped.length > 0) {
    out.push('Ignored files in hook directories:');
    for (const s of plan.skipped) out.push(`  ${s.path}  [${s.flavour}]: ${s.why}`);
  }
  out.push('Outputs:');
  for (const o of plan.outputs) out.push(`  ${o.path}  (${o.format})`);
  return out.join('\n');
}
