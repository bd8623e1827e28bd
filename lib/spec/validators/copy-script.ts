/**
 * `copy_script`: a file name or `{name: {inline}}`; copies the script to `/tmp/<basename>` in the
 * target for later scripts to use. Sahara took the third path component as the name (crashing on
 * shorter paths) and wrote even in test-only mode; here the name is the basename, and test-only
 * changes nothing and passes (Sahara never checked the copy).
 */
import { isMap, isScalar } from 'yaml';
import type { RunContext } from '../context.js';
import { findScript, inlineScript } from '../script-source.js';
import type { CopyScriptValidator } from '../types.js';
import { asString, checkKeys, childPath, singleEntry, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): CopyScriptValidator | undefined {
  const base = { kind: 'copy_script' as const, pos: at.pos, path: at.path };
  if (isScalar(value) || value === null || value === undefined) {
    const name = asString(ctx, value, at.path, 'a script', at.keyNode);
    const text = name === undefined ? undefined : findScript(ctx, name, value ?? at.keyNode, at.path);
    return name === undefined || !text ? undefined : { ...base, name, ...text };
  }
  const e = singleEntry(ctx, value, at.path, 'a script with options');
  if (!e) return undefined;
  const path = childPath(at.path, e.key);
  if (e.value !== null && e.value !== undefined && !isMap(e.value)) {
    ctx.error(e.value, path, 'copy_script options must be a map (inline)');
    return undefined;
  }
  const keys = isMap(e.value) ? checkKeys(ctx, e.value, path, ['inline'], 'note') : new Map();
  const inlineEntry = keys.get('inline');
  const text = inlineEntry
    ? inlineScript(ctx, asString(ctx, inlineEntry.value, `${path}.inline`, 'inline', inlineEntry.keyNode), inlineEntry.value ?? undefined, `${path}.inline`)
    : findScript(ctx, e.key, e.keyNode, path);
  return text ? { ...base, name: e.key, ...text } : undefined;
}

export function copyDestination(v: CopyScriptValidator): string {
  return `/tmp/${v.name.split('/').pop() ?? v.name}`;
}

async function run(v: CopyScriptValidator, ctx: RunContext): Promise<void> {
  if (ctx.testOnly) return;
  await ctx.target.writeFile(copyDestination(v), v.contents, 0o755);
  ctx.journal.changes++;
}

export const copyScriptValidator: ValidatorModule<'copy_script'> = { kind: 'copy_script', parse, run };
