/**
 * Finds a script's text at load time: inline text, or a file looked up relative to the spec's
 * directory and then each resource root (the first that has it wins). Missing or empty is an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from 'yaml';
import type { ParseContext } from './yaml-nodes.js';

export interface ScriptText {
  readonly contents: string;
  /** The host file it came from, or `inline`. */
  readonly source: string;
}

export function findScript(ctx: ParseContext, name: string, node: Node, at: string): ScriptText | undefined {
  const roots = [ctx.specDir, ...ctx.resourceRoots];
  const candidates = path.isAbsolute(name) ? [name] : roots.map((r) => path.resolve(r, name));
  for (const file of candidates) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    if (!stat.isFile()) continue;
    const contents = fs.readFileSync(file, 'utf8');
    if (contents.trim() === '') {
      ctx.error(node, at, `script "${name}" is empty (${file})`);
      return undefined;
    }
    return { contents, source: file };
  }
  const where = path.isAbsolute(name) ? '' : ` (looked in ${roots.join(', ')})`;
  ctx.error(node, at, `script "${name}" not found${where}`);
  return undefined;
}

export function inlineScript(ctx: ParseContext, text: string | undefined, node: Node | undefined, at: string): ScriptText | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') {
    ctx.error(node, at, 'inline script is empty');
    return undefined;
  }
  return { contents: text.endsWith('\n') ? text : `${text}\n`, source: 'inline' };
}
