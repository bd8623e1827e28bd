/**
 * Declarative image specs (Sahara's language): load a YAML spec into a typed validator tree, run it
 * test-only or reconciling on a Target, report per validator.
 *
 *   const spec = loadSpec('image.yaml', { resourceRoots });           // KilnError exit 2 listing every problem
 *   const target = new TreeTarget('/srv/root', { testOnly, enter });  // enter: the mount seam (lib/chroot)
 *   const report = await runSpec(spec, target, { testOnly, args });    // report.ok, report.results
 *   await target.close(report.ok && !testOnly ? 'commit' : 'discard');
 */
export { loadSpec, parseSpec, specError, type LoadOptions, type ParseResult } from './load.js';
export { resolveArguments } from './arguments.js';
export { runSpec, type RunSpecOptions, type SpecReport, type ValidatorReport, type ValidatorStatus, type FailureReport, type RunMode } from './run.js';
export { formatReport, formatResult, reportJson, summarize } from './report.js';
export { ValidationFailure, isValidationFailure } from './failure.js';
export { distroFromOsRelease, familyOf } from './distro.js';
export { TreeTarget, type EnterTree, type Entered, type TreeTargetOptions } from './targets/tree.js';
export type { Target, TargetOutcome, CommandResult, Distro, DistroFamily, TargetRunOptions } from './targets/target.js';
export type { RunContext } from './context.js';
export * from './types.js';
