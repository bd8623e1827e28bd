/** `argument_set`: `{argument_name, value}`; sets the argument for the validators that follow (both modes). */
import type { RunContext } from '../context.js';
import type { ArgumentSetValidator } from '../types.js';
import { asMap, asString, checkKeys, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): ArgumentSetValidator | undefined {
  const map = asMap(ctx, value, at.path, 'argument_set', at.keyNode);
  if (!map) return undefined;
  const keys = checkKeys(ctx, map, at.path, ['argument_name', 'value']);
  const nameEntry = keys.get('argument_name');
  const valueEntry = keys.get('value');
  if (!nameEntry) ctx.error(map, at.path, 'argument_set needs "argument_name"');
  if (!valueEntry) ctx.error(map, at.path, 'argument_set needs "value"');
  const argument = nameEntry ? asString(ctx, nameEntry.value, `${at.path}.argument_name`, 'argument_name', nameEntry.keyNode) : undefined;
  const val = valueEntry ? asString(ctx, valueEntry.value, `${at.path}.value`, 'value', valueEntry.keyNode) : undefined;
  if (argument === undefined || val === undefined) return undefined;
  ctx.definedAtRun.add(argument);
  return { kind: 'argument_set', pos: at.pos, path: at.path, argument, value: val };
}

async function run(v: ArgumentSetValidator, ctx: RunContext): Promise<void> {
  ctx.args.set(v.argument, v.value);
}

export const argumentSetValidator: ValidatorModule<'argument_set'> = { kind: 'argument_set', parse, run };
