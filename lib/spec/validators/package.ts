/**
 * `package`: a name, `name: {version: X}`, or a list of either. One check call for the whole list;
 * in reconcile mode, when it fails, one install call and the check again (Sahara's order).
 */
import { isMap, isSeq } from 'yaml';
import type { RunContext } from '../context.js';
import { effectiveDistro } from '../distro.js';
import { ValidationFailure, outputTail } from '../failure.js';
import { checkCommand, cleanCommand, installCommand, missingPackages, toolFor, updateCommand, type CommandSpec, type PackageTool } from '../../distro/packages.js';
import type { PackageRef, PackageValidator } from '../types.js';
import { asString, checkKeys, singleEntry, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

/** Package names and versions go into argv: no whitespace, and nothing that reads as an option. */
const SAFE = /^[A-Za-z0-9_.+~:@][^\s]*$/;

function parseOne(node: YNode, path: string, ctx: ParseContext): PackageRef | undefined {
  if (isMap(node)) {
    const e = singleEntry(ctx, node, path, 'a package with a version');
    if (!e) return undefined;
    let version: string | undefined;
    const props = ctx.resolve(e.value);
    if (props !== null && props !== undefined) {
      if (!isMap(props)) {
        ctx.error(props, `${path}.${e.key}`, `expected {version: X}`);
        return undefined;
      }
      const keys = checkKeys(ctx, props, `${path}.${e.key}`, ['version'], 'note');
      const v = keys.get('version');
      if (v) version = asString(ctx, v.value, `${path}.${e.key}.version`, 'version', v.keyNode);
      if (v && version === undefined) return undefined;
      if (version !== undefined && !SAFE.test(version)) ctx.error(v?.value ?? undefined, `${path}.${e.key}.version`, `"${version}" is not a valid version`);
    }
    if (!SAFE.test(e.key)) ctx.error(e.keyNode, path, `"${e.key}" is not a valid package name`);
    return { name: e.key, version };
  }
  const name = asString(ctx, node, path, 'a package');
  if (name === undefined) return undefined;
  if (!SAFE.test(name)) {
    ctx.error(node ?? undefined, path, `"${name}" is not a valid package name`);
    return undefined;
  }
  return { name, version: undefined };
}

function parse(value: YNode, at: NodeAt, ctx: ParseContext): PackageValidator | undefined {
  const items = isSeq(value) ? value.items.map((n, i) => ({ node: ctx.resolve(n as YNode), path: `${at.path}[${i}]` })) : [{ node: value, path: at.path }];
  if (isSeq(value) && items.length === 0) {
    ctx.note(value, at.path, 'the package list is empty: this validator fails whenever it runs (as in Sahara)');
    return { kind: 'package', pos: at.pos, path: at.path, packages: [] };
  }
  const packages = items.map((it) => parseOne(it.node, it.path, ctx));
  const ok = packages.filter((p): p is PackageRef => p !== undefined);
  return ok.length === packages.length ? { kind: 'package', pos: at.pos, path: at.path, packages: ok } : undefined;
}

async function runTool(ctx: RunContext, spec: CommandSpec) {
  return ctx.target.run(spec.argv, { env: spec.env });
}

async function check(v: PackageValidator, tool: PackageTool, ctx: RunContext): Promise<ValidationFailure | undefined> {
  const r = await runTool(ctx, checkCommand(tool, v.packages));
  const missing = missingPackages(tool, v.packages, r);
  if (r.exitCode === 0 && missing.length === 0) return undefined;
  const what = missing.length > 0 ? `not installed: ${missing.join(', ')}` : `the package check exited ${r.exitCode}`;
  return new ValidationFailure(v, what, outputTail(r.stdout, r.stderr));
}

async function run(v: PackageValidator, ctx: RunContext): Promise<void> {
  if (v.packages.length === 0) throw new ValidationFailure(v, 'the package list is empty');
  const distro = effectiveDistro(ctx);
  if (distro.family === undefined) throw new ValidationFailure(v, `unknown distro "${distro.id}": cannot check or install packages`);
  const tool = toolFor(distro.family, distro.family === 'redhat' && (await ctx.target.exists('/usr/bin/dnf')));
  const first = await check(v, tool, ctx);
  if (!first) return;
  if (ctx.testOnly) throw first;
  const install = installCommand(tool, v.packages, 'defaults');
  let r = await runTool(ctx, install);
  ctx.journal.changes++;
  // Images ship without apt's package lists (builders clean them): fetch them once, then try again.
  if (r.exitCode !== 0 && tool === 'apt' && /Unable to locate package|has no installation candidate/.test(`${r.stdout}\n${r.stderr}`)) {
    const update = await runTool(ctx, updateCommand(tool)!);
    if (update.exitCode === 0) r = await runTool(ctx, install);
    // Leave the image as lean as it came: the lists were only needed for this install.
    await runTool(ctx, cleanCommand(tool));
  }
  if (r.exitCode !== 0) throw new ValidationFailure(v, `${install.argv.slice(0, 3).join(' ')} … exited ${r.exitCode} (${first.message})`, outputTail(r.stdout, r.stderr));
  const again = await check(v, tool, ctx);
  if (again) throw again;
}

export const packageValidator: ValidatorModule<'package'> = { kind: 'package', parse, run };
