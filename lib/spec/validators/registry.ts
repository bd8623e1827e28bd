/** Every validator type by its spec name. Adding a type is adding a module here. */
import type { RunContext } from '../context.js';
import type { Validator, ValidatorKind } from '../types.js';
import { allValidator } from './all.js';
import { anyValidator } from './any.js';
import { argumentCaseValidator } from './argument-case.js';
import { argumentSetValidator } from './argument-set.js';
import { copyScriptValidator } from './copy-script.js';
import type { ValidatorModule } from './module.js';
import { osCaseValidator } from './os-case.js';
import { packageValidator } from './package.js';
import { scriptValidator } from './script.js';

export const VALIDATORS: { readonly [K in ValidatorKind]: ValidatorModule<K> } = {
  package: packageValidator,
  script: scriptValidator,
  copy_script: copyScriptValidator,
  all: allValidator,
  any: anyValidator,
  os_case: osCaseValidator,
  argument_case: argumentCaseValidator,
  argument_set: argumentSetValidator,
};

export function isValidatorKind(name: string): name is ValidatorKind {
  return Object.prototype.hasOwnProperty.call(VALIDATORS, name);
}

/** The registry's dispatch: runs a validator with its type's module. */
export function dispatch(v: Validator, ctx: RunContext): Promise<void> {
  const mod = VALIDATORS[v.kind] as ValidatorModule<ValidatorKind>;
  return mod.run(v as never, ctx);
}
