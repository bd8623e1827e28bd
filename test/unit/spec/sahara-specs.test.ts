/**
 * The field's specs: fixtures written in the constructs of the Sahara plugins' image.yaml (see
 * fixtures/sahara/README.md) load, with their hidden arguments, their scripts found beside them, and
 * the notes their real counterparts deserve; what loads with a note runs as Sahara runs it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveArguments } from '../../../lib/spec/arguments.js';
import { loadSpec } from '../../../lib/spec/load.js';
import { runSpec } from '../../../lib/spec/run.js';
import type { Spec, Validator } from '../../../lib/spec/types.js';
import { FakeTarget, SAHARA_FIXTURES, specOf } from './fakes.js';

function walk(vs: readonly Validator[]): Validator[] {
  return vs.flatMap((v) => {
    switch (v.kind) {
      case 'all':
      case 'any':
        return [v, ...walk(v.children)];
      case 'os_case':
        return [v, ...walk(v.cases.map((c) => c.body))];
      case 'argument_case':
        return [v, ...walk([...v.cases.values()])];
      case 'package':
      case 'script':
      case 'copy_script':
      case 'argument_set':
        return [v];
    }
  });
}

const load = (rel: string): Spec => loadSpec(path.join(SAHARA_FIXTURES, rel, 'image.yaml'));
const hiddenOf = (s: Spec) => [...s.arguments.values()].filter((a) => a.hidden).map((a) => a.name);
const notesOf = (s: Spec) => s.notes.map((n) => `${n.pos.line}:${n.pos.col} ${n.message.replace(/ is neither .*: /, ': ')}`);

describe('the Sahara plugins\' specs load', () => {
  test.each([
    ['cdh/5.11.0', ['plugin_version'], []],
    ['mapr/5.2.0', ['plugin_version', 'scala_version'], []],
    ['ambari/2.6', [], ['45:28 argument "unlimited_security_location": it is never exported']],
    ['spark/2.3', [], ['33:36 argument "cdh_version": it is never exported']],
  ])('%s: hidden %j, notes %j', (rel, hidden, notes) => {
    const spec = load(rel);
    expect(hiddenOf(spec)).toEqual(hidden);
    expect(notesOf(spec)).toEqual(notes);
  });

  test('every script and copy_script is found beside the spec, in its common/, centos/ or ubuntu/ directory', () => {
    for (const rel of ['cdh/5.11.0', 'mapr/5.2.0', 'ambari/2.6', 'spark/2.3']) {
      const dir = path.join(SAHARA_FIXTURES, rel);
      const scripts = walk(load(rel).validators).flatMap((v) => (v.kind === 'script' || v.kind === 'copy_script' ? [v] : []));
      for (const s of scripts) {
        if (s.source === 'inline') continue;
        expect(s.source).toBe(path.join(dir, s.name));
        expect(s.contents).toBe(fs.readFileSync(s.source, 'utf8'));
      }
      expect(scripts.length).toBeGreaterThan(2);
    }
  });

  test('cdh: the hidden argument keeps its choices; the argument_case leaves oracle-java without a case', () => {
    const spec = load('cdh/5.11.0');
    expect(spec.arguments.get('plugin_version')).toMatchObject({ default: '5.11.0', required: false, hidden: true, choices: ['5.11.0', '5.11.1'], extra: new Map() });
    const ac = spec.validators.find((v) => v.kind === 'argument_case');
    expect(ac?.kind === 'argument_case' && [...ac.cases.keys()]).toEqual(['openjdk', 'cloudera-jdk']);
  });

  test('mapr: `default: 1` is the text "1"; a folded description is one line', () => {
    const a = load('mapr/5.2.0').arguments.get('scala_version');
    expect(a?.default).toBe('1');
    expect(a?.description).toBe('The Scala version to install; 1 means find out which one fits, or fall back to one that is known to work.');
  });

  test('ambari: comments after choices are not part of them; version-like case keys stay strings', () => {
    const spec = load('ambari/2.6');
    expect(spec.arguments.get('ambari_version')?.choices).toEqual(['2.6.2.0', '2.4.3.0']);
    const inner = walk(spec.validators).filter((v) => v.kind === 'argument_case').map((v) => (v.kind === 'argument_case' ? [v.argument, ...v.cases.keys()] : []));
    expect(inner).toEqual([['java_distro', 'openjdk', 'oracle-java'], ['ambari_version', '2.6.2.0', '2.4.3.0']]);
  });
});

describe('hidden arguments are still arguments', () => {
  const spec = load('cdh/5.11.0');
  test('given on the command line, checked against their choices, else their default', () => {
    expect(resolveArguments(spec.arguments, new Map([['plugin_version', '5.11.1']]), spec.file).get('plugin_version')).toBe('5.11.1');
    expect(resolveArguments(spec.arguments, new Map(), spec.file).get('plugin_version')).toBe('5.11.0');
    expect(() => resolveArguments(spec.arguments, new Map([['plugin_version', '6.0']]), spec.file)).toThrow('argument "plugin_version" must be one of 5.11.0, 5.11.1, not "6.0"');
  });
});

describe('what loads with a note runs as Sahara runs it', () => {
  const run = (text: string, args: Record<string, string> = {}) => {
    const t = new FakeTarget('ubuntu');
    return runSpec(specOf(text), t, { testOnly: true, args: new Map(Object.entries(args)) }).then((r) => ({ r, t }));
  };

  test('an empty any fails; an empty package list fails without touching the target; an empty os_case passes', async () => {
    const { r, t } = await run('validators:\n  - any: []\n  - package: []\n  - os_case: []\n');
    expect(r.results.map((x) => [x.status, x.failure?.message])).toEqual([
      ['failed', 'an empty "any" never holds'],
      ['failed', 'the package list is empty'],
      ['passed', undefined],
    ]);
    expect(t.calls).toEqual([]);
  });

  test('an argument_case on an argument nothing defines fails when it runs', async () => {
    const { r } = await run('validators:\n  - argument_case: {argument_name: nope, cases: {x: [{package: y}]}}\n');
    expect(r.results[0]?.failure?.message).toBe('argument "nope" is not defined');
  });

  test('a required argument with a default must still be given', () => {
    const spec = specOf('arguments:\n  c: {required: true, default: q}\nvalidators: []\n');
    expect(() => resolveArguments(spec.arguments, new Map(), spec.file)).toThrow('argument "c" is required');
    expect(resolveArguments(spec.arguments, new Map([['c', 'v']]), spec.file).get('c')).toBe('v');
  });

  test("an argument with empty choices takes its default or any value (Sahara: `if choices and value not in choices`)", () => {
    const spec = specOf('arguments:\n  e: {default: x, choices: []}\nvalidators: []\n');
    expect(resolveArguments(spec.arguments, new Map(), spec.file).get('e')).toBe('x');
    expect(resolveArguments(spec.arguments, new Map([['e', 'anything']]), spec.file).get('e')).toBe('anything');
  });

  test('an env var nothing defines is not exported; the declared ones are', async () => {
    const { t } = await run('arguments:\n  v: {default: "2.3"}\nvalidators:\n  - script: {s: {env_vars: [v, cdh_version], inline: "true"}}\n');
    const written = t.calls.find((c) => c.op === 'write');
    expect(written?.op === 'write' && written.contents).toContain('export v=2.3\n');
    expect(written?.op === 'write' && written.contents).not.toContain('cdh_version');
  });
});
