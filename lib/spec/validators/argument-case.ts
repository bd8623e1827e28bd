/**
 * `argument_case`: `{argument_name, cases: {value: [validators]}}`; the case equal to the argument's
 * value runs, no match passes; an argument that is not defined at run time fails.
 */
import { isMap } from 'yaml';
import { runChild, type RunContext } from '../context.js';
import { ValidationFailure } from '../failure.js';
import type { AllValidator, ArgumentCaseValidator } from '../types.js';
import { asMap, asString, checkKeys, childPath, entriesOf, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): ArgumentCaseValidator | undefined {
  const map = asMap(ctx, value, at.path, 'argument_case', at.keyNode);
  if (!map) return undefined;
  const before = ctx.issues.length;
  const keys = checkKeys(ctx, map, at.path, ['argument_name', 'cases']);
  const nameEntry = keys.get('argument_name');
  const casesEntry = keys.get('cases');
  if (!nameEntry) ctx.error(map, at.path, 'argument_case needs "argument_name"');
  if (!casesEntry) ctx.error(map, at.path, 'argument_case needs "cases"');
  const argument = nameEntry ? asString(ctx, nameEntry.value, `${at.path}.argument_name`, 'argument_name', nameEntry.keyNode) : undefined;
  if (argument !== undefined && nameEntry) ctx.argumentUses.push({ name: argument, node: nameEntry.value ?? nameEntry.keyNode, path: `${at.path}.argument_name`, by: 'argument_case' });
  const cases = new Map<string, AllValidator>();
  const casesPath = `${at.path}.cases`;
  const casesMap = casesEntry ? asMap(ctx, casesEntry.value, casesPath, 'cases', casesEntry.keyNode) : undefined;
  if (casesMap && casesMap.items.length === 0) ctx.error(casesMap, casesPath, 'cases is empty');
  if (casesMap && isMap(casesMap)) {
    for (const e of entriesOf(ctx, casesMap, casesPath)) {
      const path = childPath(casesPath, e.key);
      const children = ctx.parseList(e.value ?? e.keyNode, path, ctx);
      cases.set(e.key, { kind: 'all', pos: ctx.pos(e.keyNode), path, children });
    }
  }
  if (ctx.issues.length !== before || argument === undefined) return undefined;
  return { kind: 'argument_case', pos: at.pos, path: at.path, argument, cases };
}

async function run(v: ArgumentCaseValidator, ctx: RunContext): Promise<void> {
  const value = ctx.args.get(v.argument);
  if (value === undefined) throw new ValidationFailure(v, `argument "${v.argument}" is not defined`);
  const body = v.cases.get(value);
  if (body) await runChild(body, ctx);
}

export const argumentCaseValidator: ValidatorModule<'argument_case'> = { kind: 'argument_case', parse, run };
