/**
 * Runs a loaded spec on a target. The top-level validators are reported one by one: in test-only
 * mode every one runs (so the report lists every failure); in reconcile mode the first failure
 * stops the run (what follows may depend on it) and the rest are reported as skipped. Below the top
 * level, Sahara's semantics hold unchanged (all stops at its first failure, any as in validators/any).
 */
import { randomUUID } from 'node:crypto';
import { resolveArguments } from './arguments.js';
import { runChild, type RunContext } from './context.js';
import { ValidationFailure, isValidationFailure } from './failure.js';
import type { Distro, Target } from './targets/target.js';
import type { SourcePos, Spec, Validator, ValidatorKind } from './types.js';
import { dispatch as registryDispatch } from './validators/registry.js';

export type ValidatorStatus = 'passed' | 'fixed' | 'failed' | 'skipped';
export type RunMode = 'test-only' | 'reconcile';

export interface FailureReport {
  readonly pos: SourcePos;
  readonly path: string;
  readonly message: string;
  readonly detail: string | undefined;
  readonly causes: readonly FailureReport[];
}

export interface ValidatorReport {
  readonly kind: ValidatorKind;
  readonly pos: SourcePos;
  readonly path: string;
  readonly status: ValidatorStatus;
  readonly durationMs: number;
  readonly failure: FailureReport | undefined;
}

export interface SpecReport {
  readonly spec: string;
  readonly target: string;
  readonly mode: RunMode;
  readonly distro: Distro;
  readonly arguments: Readonly<Record<string, string>>;
  readonly results: readonly ValidatorReport[];
  /** True when the target conforms (or was brought to conform). */
  readonly ok: boolean;
  readonly durationMs: number;
}

export interface RunSpecOptions {
  readonly testOnly: boolean;
  /** Values from the command line (`--arg NAME=VALUE`). */
  readonly args?: ReadonlyMap<string, string>;
  /** Replaces the registry's dispatch (tests count calls with it). */
  readonly dispatch?: (v: Validator, ctx: RunContext) => Promise<void>;
  readonly newId?: () => string;
  /** Called after each top-level validator (progress output). */
  readonly onResult?: (r: ValidatorReport) => void;
}

export function reportFailure(f: ValidationFailure): FailureReport {
  return { pos: f.node.pos, path: f.node.path, message: f.message, detail: f.detail, causes: f.causes.map(reportFailure) };
}

export async function runSpec(spec: Spec, target: Target, opts: RunSpecOptions): Promise<SpecReport> {
  const started = Date.now();
  const args = resolveArguments(spec.arguments, opts.args ?? new Map(), spec.file);
  const distro = await target.distro();
  args.set('distro', distro.id);
  const initial = Object.fromEntries(args);
  const ctx: RunContext = {
    target,
    testOnly: opts.testOnly,
    args,
    detected: distro,
    journal: { changes: 0 },
    dispatch: opts.dispatch ?? registryDispatch,
    newId: opts.newId ?? (() => randomUUID()),
  };
  const results: ValidatorReport[] = [];
  let stopped = false;
  for (const v of spec.validators) {
    const t0 = Date.now();
    const changesBefore = ctx.journal.changes;
    let status: ValidatorStatus = 'skipped';
    let failure: FailureReport | undefined;
    if (!stopped) {
      try {
        await runChild(v, ctx);
        status = ctx.journal.changes > changesBefore ? 'fixed' : 'passed';
      } catch (e) {
        if (!isValidationFailure(e)) throw e;
        status = 'failed';
        failure = reportFailure(e);
        stopped = !opts.testOnly;
      }
    }
    const r: ValidatorReport = { kind: v.kind, pos: v.pos, path: v.path, status, durationMs: Date.now() - t0, failure };
    results.push(r);
    opts.onResult?.(r);
  }
  return {
    spec: spec.file,
    target: target.description,
    mode: opts.testOnly ? 'test-only' : 'reconcile',
    distro,
    arguments: initial,
    results,
    ok: results.every((r) => r.status === 'passed' || r.status === 'fixed'),
    durationMs: Date.now() - started,
  };
}
