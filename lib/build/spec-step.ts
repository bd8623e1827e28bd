/**
 * Flavours may ship an image spec (`image.yaml`, the image-pack language): the build reconciles it on the
 * tree after install.d (inside the entered chroot), and `--check` runs it test-only on the finished tree
 * (after cleanup.d), so a build proves its own promises. Specs are loaded (and their errors reported with
 * file:line, exit 2) before anything runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { BuildPlan } from '../plan/build-plan.js';
import { loadSpec } from '../spec/load.js';
import { formatResult } from '../spec/report.js';
import { runSpec } from '../spec/run.js';
import { TreeTarget } from '../spec/targets/tree.js';
import { formatIssue, type Spec } from '../spec/types.js';

export interface FlavourSpec {
  readonly flavour: string;
  readonly spec: Spec;
}

/** Every planned flavour's image.yaml, loaded (a bad spec is exit 2 here, before the build starts). */
export function loadFlavourSpecs(plan: BuildPlan): FlavourSpec[] {
  return plan.flavours.flatMap((f) => {
    const file = path.join(f.dir, 'image.yaml');
    return fs.existsSync(file) ? [{ flavour: f.name, spec: loadSpec(file, { resourceRoots: [] }) }] : [];
  });
}

/** Runs each spec on the tree; a spec that does not hold fails the build naming the flavour and validator. */
export async function applyFlavourSpecs(specs: readonly FlavourSpec[], root: string, testOnly: boolean, log: Logger): Promise<void> {
  for (const { flavour, spec } of specs) {
    const what = `${testOnly ? 'check' : 'reconcile'} [${flavour}] image.yaml`;
    await log.step(what, async () => {
      for (const n of spec.notes) log.warn(`[${flavour}] ${formatIssue(n)}`);
      const target = new TreeTarget(root, { testOnly });
      const report = await runSpec(spec, target, { testOnly });
      for (const r of report.results) log.info(`  ${formatResult(r).join('\n  ')}`);
      if (!report.ok) {
        const bad = report.results.filter((r) => r.status === 'failed');
        const first = bad[0]?.failure;
        throw failed(`[${flavour}] image.yaml: ${bad.length} of ${report.results.length} validators ${testOnly ? 'do not hold on the finished image' : 'failed'}${first ? ` (first: ${first.path}: ${first.message})` : ''}`);
      }
    });
  }
}
