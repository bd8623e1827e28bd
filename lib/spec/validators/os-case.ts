/**
 * `os_case`: a list of `distro-or-family: [validators]`; the first entry naming the target's distro
 * or its family runs, the rest are skipped; no match passes.
 */
import { runChild, type RunContext } from '../context.js';
import { effectiveDistro } from '../distro.js';
import type { OsCase, OsCaseValidator } from '../types.js';
import { asSeq, childPath, singleEntry, type ParseContext, type YNode } from '../yaml-nodes.js';
import type { NodeAt, ValidatorModule } from './module.js';

function parse(value: YNode, at: NodeAt, ctx: ParseContext): OsCaseValidator | undefined {
  const seq = asSeq(ctx, value, at.path, 'os_case', at.keyNode);
  if (!seq) return undefined;
  if (seq.items.length === 0) ctx.note(seq, at.path, 'os_case has no cases: it does nothing');
  const before = ctx.issues.length;
  const cases: OsCase[] = [];
  seq.items.forEach((item, i) => {
    const e = singleEntry(ctx, item as YNode, `${at.path}[${i}]`, 'an os_case entry');
    if (!e) return;
    const path = childPath(`${at.path}[${i}]`, e.key);
    const children = ctx.parseList(e.value ?? e.keyNode, path, ctx);
    const pos = ctx.pos(e.keyNode);
    cases.push({ distro: e.key.toLowerCase(), pos, body: { kind: 'all', pos, path, children } });
  });
  return ctx.issues.length === before ? { kind: 'os_case', pos: at.pos, path: at.path, cases } : undefined;
}

async function run(v: OsCaseValidator, ctx: RunContext): Promise<void> {
  const distro = effectiveDistro(ctx);
  const names = new Set<string>([distro.id, ...(distro.family ? [distro.family] : [])]);
  const match = v.cases.find((c) => names.has(c.distro));
  if (match) await runChild(match.body, ctx);
}

export const osCaseValidator: ValidatorModule<'os_case'> = { kind: 'os_case', parse, run };
