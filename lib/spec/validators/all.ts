/** `all`: every child must hold; the first failure stops the list (Sahara). */
import { runChild, type RunContext } from '../context.js';
import type { AllValidator } from '../types.js';
import type { ParseContext, YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): AllValidator | undefined {
  const before = ctx.issues.length;
  const children = ctx.parseList(value ?? at.keyNode, at.path, ctx);
  return ctx.issues.length === before ? { kind: 'all', pos: at.pos, path: at.path, children } : undefined;
}

export async function runAll(v: AllValidator, ctx: RunContext): Promise<void> {
  for (const child of v.children) await runChild(child, ctx);
}

export const allValidator: ValidatorModule<'all'> = { kind: 'all', parse, run: runAll };
