/**
 * `script`: a file name, or `{name: {env_vars, output, inline}}`. The script is written to a temporary
 * file in the target, run, and removed. `test_only`, `distro` and the listed arguments that are defined
 * are exported (shell-quoted; `-` in a name becomes `_`). `output` stores stdout in the arguments.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { RunContext } from '../context.js';
import { ValidationFailure, outputTail } from '../failure.js';
import { findScript, inlineScript, type ScriptText } from '../script-source.js';
import { envName, isShellName, quoteShell } from '../shell.js';
import type { ScriptValidator } from '../types.js';
import { asSeq, asString, checkKeys, childPath, singleEntry, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

export const DEFAULT_ENV_VARS = ['test_only', 'distro'] as const;

function parse(value: YNode, at: NodeAt, ctx: ParseContext): ScriptValidator | undefined {
  const base = { kind: 'script' as const, pos: at.pos, path: at.path };
  if (isScalar(value) || value === null || value === undefined) {
    const name = asString(ctx, value, at.path, 'a script', at.keyNode);
    const text = name === undefined ? undefined : findScript(ctx, name, value ?? at.keyNode, at.path);
    if (name === undefined || !text) return undefined;
    return { ...base, name, ...text, envVars: [...DEFAULT_ENV_VARS], output: undefined };
  }
  const e = singleEntry(ctx, value, at.path, 'a script with options');
  if (!e) return undefined;
  const path = childPath(at.path, e.key);
  const props = e.value === null || e.value === undefined ? undefined : isMap(e.value) ? e.value : undefined;
  if (e.value !== null && e.value !== undefined && !props) {
    ctx.error(e.value, path, isSeq(e.value) ? 'script options must be a map (env_vars, output, inline), not a list' : 'script options must be a map (env_vars, output, inline)');
    return undefined;
  }
  const keys = props ? checkKeys(ctx, props, path, ['env_vars', 'output', 'inline'], 'note') : new Map();
  const envVars: string[] = [...DEFAULT_ENV_VARS];
  const envEntry = keys.get('env_vars');
  if (envEntry) {
    const seq = asSeq(ctx, envEntry.value, `${path}.env_vars`, 'env_vars', envEntry.keyNode);
    seq?.items.forEach((n, i) => {
      const name = asString(ctx, n as YNode, `${path}.env_vars[${i}]`, 'a variable name');
      if (name === undefined) return;
      if (!isShellName(envName(name))) ctx.note(n as YNode ?? undefined, `${path}.env_vars[${i}]`, `"${name}" cannot be a shell variable name: it is not exported`);
      else {
        envVars.push(name);
        if (n) ctx.argumentUses.push({ name, node: n as Node, path: `${path}.env_vars[${i}]`, by: 'env_vars' });
      }
    });
  }
  const outEntry = keys.get('output');
  const output = outEntry ? asString(ctx, outEntry.value, `${path}.output`, 'output', outEntry.keyNode) : undefined;
  if (output !== undefined) ctx.definedAtRun.add(output);
  const inlineEntry = keys.get('inline');
  let text: ScriptText | undefined;
  if (inlineEntry) {
    const inline = asString(ctx, inlineEntry.value, `${path}.inline`, 'inline', inlineEntry.keyNode);
    text = inlineScript(ctx, inline, inlineEntry.value ?? undefined, `${path}.inline`);
  } else {
    text = findScript(ctx, e.key, e.keyNode, path);
  }
  if (!text) return undefined;
  return { ...base, name: e.key, ...text, envVars, output };
}

/** The interpreter of a `#!` line, if it is a POSIX-style shell (which can take the export prelude). */
function shebangShell(firstLine: string): boolean {
  const words = firstLine.slice(2).trim().split(/\s+/);
  const prog = (words[0] ?? '').split('/').pop() === 'env' ? words[1] : words[0];
  return ['sh', 'bash', 'dash', 'ash', 'ksh', 'mksh', 'zsh'].includes((prog ?? '').split('/').pop() ?? '');
}

/** The exported variables, in argument order, `test_only` set for this run. */
export function scriptVariables(v: ScriptValidator, args: ReadonlyMap<string, string>, testOnly: boolean): [string, string][] {
  const values = new Map(args);
  values.set('test_only', testOnly ? '1' : '0');
  return [...values].filter(([k]) => v.envVars.includes(k)).map(([k, val]) => [envName(k), val]);
}

/** The file written to the target and how to run it. */
export function renderScript(v: ScriptValidator, vars: readonly [string, string][], file: string) {
  const prelude = vars.map(([k, val]) => `export ${k}=${quoteShell(val)}\n`).join('');
  const lines = v.contents.split('\n');
  const first = lines[0] ?? '';
  if (!first.startsWith('#!')) return { text: prelude + v.contents, argv: ['/bin/sh', file], env: {} };
  if (shebangShell(first)) return { text: `${first}\n${prelude}${lines.slice(1).join('\n')}`, argv: [file], env: {} };
  return { text: v.contents, argv: [file], env: Object.fromEntries(vars) };
}

async function run(v: ScriptValidator, ctx: RunContext): Promise<void> {
  const file = `/tmp/kiln-script-${ctx.newId()}.sh`;
  const { text, argv, env } = renderScript(v, scriptVariables(v, ctx.args, ctx.testOnly), file);
  await ctx.target.writeFile(file, text, 0o700);
  let r;
  try {
    r = await ctx.target.run(argv, { env });
  } finally {
    await ctx.target.removeFile(file);
  }
  if (r.exitCode !== 0) throw new ValidationFailure(v, `script ${v.name} exited ${r.exitCode}`, outputTail(r.stdout, r.stderr));
  if (v.output !== undefined) ctx.args.set(v.output, r.stdout.replace(/\n+$/, ''));
}

export const scriptValidator: ValidatorModule<'script'> = { kind: 'script', parse, run };
