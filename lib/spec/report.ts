/** The report of a spec run, as text for people and JSON for machines. */
import type { FailureReport, SpecReport, ValidatorReport, ValidatorStatus } from './run.js';
import { formatPos } from './types.js';

const LABEL: Readonly<Record<ValidatorStatus, string>> = { passed: 'ok', fixed: 'fixed', failed: 'FAILED', skipped: 'skipped' };

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

function formatFailure(f: FailureReport, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const lines = [`${pad}${formatPos(f.pos)}: ${f.path}: ${f.message}`];
  if (f.detail) lines.push(indent(f.detail, `${pad}  | `));
  for (const c of f.causes) lines.push(...formatFailure(c, depth + 1));
  return lines;
}

export function formatResult(r: ValidatorReport): string[] {
  const head = `${LABEL[r.status].padEnd(7)} ${formatPos(r.pos)}: ${r.path}`;
  if (!r.failure) return [r.status === 'skipped' ? `${head} (not run: an earlier validator failed)` : head];
  return [head, ...formatFailure(r.failure, 4)];
}

export function summarize(report: SpecReport): string {
  const count = (s: ValidatorStatus) => report.results.filter((r) => r.status === s).length;
  const parts = [`${count('passed')} passed`];
  if (count('fixed') > 0) parts.push(`${count('fixed')} fixed`);
  parts.push(`${count('failed')} failed`);
  if (count('skipped') > 0) parts.push(`${count('skipped')} skipped`);
  return `${report.mode} of ${report.spec} on ${report.target}: ${parts.join(', ')} (${(report.durationMs / 1000).toFixed(2)} s)`;
}

export function formatReport(report: SpecReport): string {
  const d = report.distro;
  const head = `${report.target}: ${d.id}${d.family ? ` (${d.family} family)` : ' (unknown family)'}`;
  return [head, ...report.results.flatMap(formatResult), summarize(report)].join('\n');
}

export function reportJson(report: SpecReport): string {
  return JSON.stringify(report, null, 2);
}
