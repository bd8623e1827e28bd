/**
 * `any`: the first child that holds wins. Every run first tries the children test-only (stopping at
 * the first that passes); only in reconcile mode, when none passed, it tries them again reconciling,
 * stopping at the first that succeeds. The failure carries why each child failed in the last pass.
 */
import { runChild, type RunContext } from '../context.js';
import { ValidationFailure, isValidationFailure } from '../failure.js';
import type { AnyValidator } from '../types.js';
import type { ParseContext, YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): AnyValidator | undefined {
  const before = ctx.issues.length;
  const children = ctx.parseList(value ?? at.keyNode, at.path, ctx);
  if (ctx.issues.length !== before) return undefined;
  if (children.length === 0) ctx.note(value ?? at.keyNode, at.path, 'an empty "any" fails whenever it runs (as in Sahara)');
  return { kind: 'any', pos: at.pos, path: at.path, children };
}

/** Tries the children in order; returns undefined when one held, else the failures. */
async function tryEach(v: AnyValidator, ctx: RunContext, testOnly: boolean): Promise<ValidationFailure[] | undefined> {
  const failures: ValidationFailure[] = [];
  for (const child of v.children) {
    try {
      await runChild(child, ctx, testOnly);
      return undefined;
    } catch (e) {
      if (!isValidationFailure(e)) throw e;
      failures.push(e);
    }
  }
  return failures;
}

async function run(v: AnyValidator, ctx: RunContext): Promise<void> {
  let failures = await tryEach(v, ctx, true);
  if (failures && !ctx.testOnly) failures = await tryEach(v, ctx, false);
  if (failures) throw new ValidationFailure(v, v.children.length === 0 ? 'an empty "any" never holds' : `none of ${v.children.length} alternatives holds`, undefined, failures);
}

export const anyValidator: ValidatorModule<'any'> = { kind: 'any', parse, run };
