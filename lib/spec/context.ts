/** The state a validator runs with: the target, the mode, and the arguments shared by the whole run. */
import type { Distro, Target } from './targets/target.js';
import type { Validator } from './types.js';

export interface RunJournal {
  /** Changes made to the target (package installs, copied scripts): a validator that made some was "fixed". */
  changes: number;
}

export interface RunContext {
  readonly target: Target;
  /** Only check; change nothing. */
  readonly testOnly: boolean;
  /** Argument values, shared and mutable as in Sahara (argument_set and script `output` write here). */
  readonly args: Map<string, string>;
  /** What the target says it is (os-release). */
  readonly detected: Distro;
  readonly journal: RunJournal;
  /** Runs one validator (the registry's dispatch; tests wrap it to count calls). */
  readonly dispatch: (v: Validator, ctx: RunContext) => Promise<void>;
  /** Unique names for temporary files. */
  readonly newId: () => string;
}

/** Runs a child validator, optionally in another mode (any's test-only first pass). */
export function runChild(v: Validator, ctx: RunContext, testOnly: boolean = ctx.testOnly): Promise<void> {
  return ctx.dispatch(v, testOnly === ctx.testOnly ? ctx : { ...ctx, testOnly });
}
