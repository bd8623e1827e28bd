/** Fakes for spec tests: a Target that records every call, and probe validators that count their runs. */
import fs from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../../../lib/spec/context.js';
import { familyOf } from '../../../lib/spec/distro.js';
import { ValidationFailure } from '../../../lib/spec/failure.js';
import { parseSpec } from '../../../lib/spec/load.js';
import type { CommandResult, Distro, Target, TargetRunOptions } from '../../../lib/spec/targets/target.js';
import type { AllValidator, ArgumentSetValidator, Spec, Validator } from '../../../lib/spec/types.js';
import { dispatch } from '../../../lib/spec/validators/registry.js';
import { tempDir } from '../../helpers/tmp.js';

export type Call =
  | { op: 'run'; argv: string[]; env: Record<string, string> }
  | { op: 'write'; path: string; contents: string; mode: number }
  | { op: 'remove'; path: string };

export class FakeTarget implements Target {
  readonly description = 'fake target';
  readonly calls: Call[] = [];
  readonly files = new Map<string, string>();
  closed: string | undefined;

  constructor(
    private readonly distroId = 'ubuntu',
    /** Answers a command; undefined means exit 0 with no output. */
    private readonly answer: (argv: string[], env: Record<string, string>) => Partial<CommandResult> | undefined = () => undefined,
    private readonly present: readonly string[] = [],
  ) {}

  get runs(): string[][] {
    return this.calls.filter((c): c is Extract<Call, { op: 'run' }> => c.op === 'run').map((c) => c.argv);
  }

  async distro(): Promise<Distro> {
    return { id: this.distroId, like: [], family: familyOf(this.distroId) };
  }
  async run(argv: readonly string[], opts: TargetRunOptions = {}): Promise<CommandResult> {
    const env = { ...(opts.env ?? {}) };
    this.calls.push({ op: 'run', argv: [...argv], env });
    const a = this.answer([...argv], env) ?? {};
    return { exitCode: a.exitCode ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  }
  async writeFile(p: string, contents: string | Uint8Array, mode: number): Promise<void> {
    const text = typeof contents === 'string' ? contents : Buffer.from(contents).toString('utf8');
    this.calls.push({ op: 'write', path: p, contents: text, mode });
    this.files.set(p, text);
  }
  async removeFile(p: string): Promise<void> {
    this.calls.push({ op: 'remove', path: p });
    this.files.delete(p);
  }
  async exists(p: string): Promise<boolean> {
    return this.present.includes(p) || this.files.has(p);
  }
  async copyIn(hostPath: string, p: string, mode: number): Promise<void> {
    await this.writeFile(p, fs.readFileSync(hostPath), mode);
  }
  async close(outcome: 'commit' | 'discard'): Promise<void> {
    this.closed = outcome;
  }
}

const POS = { file: 'test.yaml', line: 1, col: 1 };

/** A stand-in validator: its runs are recorded by `probeDispatch`, and a "lie" probe always fails. */
export function probe(name: string): ArgumentSetValidator {
  return { kind: 'argument_set', pos: POS, path: `probe:${name}`, argument: name, value: name };
}

export function group(kind: 'all' | 'any', children: Validator[]): Validator {
  return { kind, pos: POS, path: kind, children } as Validator;
}

export function allOf(children: Validator[]): AllValidator {
  return { kind: 'all', pos: POS, path: 'all', children };
}

export interface ProbeLog {
  calls: { name: string; testOnly: boolean }[];
  count(name: string): number;
}

/** A dispatch that records probe runs (failing those whose name starts with "lie") and runs the rest for real. */
export function probeDispatch(): { log: ProbeLog; dispatch: (v: Validator, ctx: RunContext) => Promise<void> } {
  const calls: { name: string; testOnly: boolean }[] = [];
  const log = { calls, count: (name: string) => calls.filter((c) => c.name === name).length };
  return {
    log,
    dispatch: async (v, ctx) => {
      if (v.path.startsWith('probe:')) {
        const name = v.path.slice('probe:'.length);
        calls.push({ name, testOnly: ctx.testOnly });
        if (name.startsWith('lie')) throw new ValidationFailure(v, 'Oh no!');
        return;
      }
      await dispatch(v, ctx);
    },
  };
}

export function context(target: Target, opts: { testOnly: boolean; args?: Record<string, string>; distro?: string; dispatch?: RunContext['dispatch'] }): RunContext {
  const id = opts.distro ?? 'ubuntu';
  let n = 0;
  return {
    target,
    testOnly: opts.testOnly,
    args: new Map(Object.entries(opts.args ?? { distro: id })),
    detected: { id, like: [], family: familyOf(id) },
    journal: { changes: 0 },
    dispatch: opts.dispatch ?? dispatch,
    newId: () => `id${++n}`,
  };
}

/** Specs written in the constructs of the Sahara plugins' image.yaml, laid out as a spec path (see its README). */
export const SAHARA_FIXTURES = path.join(process.cwd(), 'test', 'unit', 'spec', 'fixtures', 'sahara');

/** A temporary directory holding a spec and its files; returns the parse result of the spec. */
export function specDir(files: Record<string, string>): string {
  const dir = tempDir('spec');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Parses YAML text as spec.yaml in a directory with the given script files; throws on problems. */
export function specOf(yaml: string, files: Record<string, string> = {}): Spec {
  const dir = specDir(files);
  const r = parseSpec(yaml, 'spec.yaml', dir);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.path}: ${i.message}`).join('\n'));
  return r.spec;
}

/** The problems of a spec, formatted `line:col path: message`. */
export function issuesOf(yaml: string, files: Record<string, string> = {}): string[] {
  const dir = specDir(files);
  const r = parseSpec(yaml, 'spec.yaml', dir);
  return r.ok ? [] : r.issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.path}: ${i.message}`);
}

/** The notes of a spec that loads, formatted `line:col path: message` (throws when it does not load). */
export function notesOf(yaml: string, files: Record<string, string> = {}): string[] {
  return specOf(yaml, files).notes.map((i) => `${i.pos.line}:${i.pos.col} ${i.path}: ${i.message}`);
}

/** Dedents a template literal (first line's indentation). */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}
