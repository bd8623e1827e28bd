/** Loading specs: Sahara's test_*_spec and test_sahara_image_validator_spec, and a table of errors with positions. */
import { loadSpec, specError } from '../../../lib/spec/load.js';
import type { AnyValidator, ArgumentCaseValidator, OsCaseValidator, PackageValidator } from '../../../lib/spec/types.js';
import { issuesOf, notesOf, specDir, specOf, yaml } from './fakes.js';
import path from 'node:path';
import fs from 'node:fs';

const SAHARA_SPEC = yaml(`
  arguments:
    java-version:
      description: The version of java.
      default: openjdk
      required: false
      choices:
        - openjdk
        - oracle-java

  validators:
    - os_case:
        - redhat:
            - package: nfs-utils
        - debian:
            - package: nfs-common
    - any:
      - all:
        - package: java-1.8.0-openjdk-devel
        - argument_set:
            argument_name: java-version
            value: 1.8.0
      - all:
        - package: java-1.7.0-openjdk-devel
        - argument_set:
            argument_name: java-version
            value: 1.7.0
    - script: test_images.sh
    - package:
      - hadoop
      - hadoop-libhdfs
      - hadoop-native
      - hadoop-pipes
      - hadoop-sbin
      - hadoop-lzo
      - lzo
      - lzo-devel
      - hadoop-lzo-native
    - argument_case:
        argument_name: java-version
        cases:
          1.7.0:
            - script: test_images.sh
          1.8.0:
            - script: test_images.sh
`);

describe('the Sahara sample spec', () => {
  const spec = specOf(SAHARA_SPEC, { 'test_images.sh': 'true\n' });

  test('five top-level validators of the right kinds, with positions and paths', () => {
    expect(spec.validators.map((v) => v.kind)).toEqual(['os_case', 'any', 'script', 'package', 'argument_case']);
    expect(spec.validators.map((v) => `${v.pos.line}:${v.pos.col} ${v.path}`)).toEqual([
      '11:5 validators[0].os_case',
      '16:5 validators[1].any',
      '27:5 validators[2].script',
      '28:5 validators[3].package',
      '38:5 validators[4].argument_case',
    ]);
  });

  test('the argument', () => {
    expect([...spec.arguments.values()]).toEqual([
      { name: 'java-version', pos: { file: 'spec.yaml', line: 2, col: 3 }, description: 'The version of java.', default: 'openjdk', required: false, choices: ['openjdk', 'oracle-java'], hidden: false, extra: new Map() },
    ]);
  });

  test('os_case keeps order; any and all hold their children; argument_case keys stay strings', () => {
    const os = spec.validators[0] as OsCaseValidator;
    expect(os.cases.map((c) => [c.distro, (c.body.children[0] as PackageValidator).packages[0]?.name])).toEqual([
      ['redhat', 'nfs-utils'],
      ['debian', 'nfs-common'],
    ]);
    const any = spec.validators[1] as AnyValidator;
    expect(any.children.map((c) => c.kind)).toEqual(['all', 'all']);
    expect((spec.validators[3] as PackageValidator).packages).toHaveLength(9);
    const ac = spec.validators[4] as ArgumentCaseValidator;
    expect([...ac.cases.keys()]).toEqual(['1.7.0', '1.8.0']);
    expect(ac.cases.get('1.8.0')?.children[0]?.path).toBe('validators[4].argument_case.cases["1.8.0"][0].script');
  });

  test('arguments also as the list of one-key maps that the seed text shows', () => {
    const s = specOf('arguments:\n  - java-distro:\n      default: openjdk\n      choices: [openjdk, oracle-java]\nvalidators: []\n');
    expect(s.arguments.get('java-distro')?.default).toBe('openjdk');
  });
});

describe('load errors: file:line:col, path and message; all of them at once', () => {
  test.each([
    ['unknown type', 'validators:\n  - pkg: curl\n', ['2:5 validators[0]: unknown validator type "pkg" (known: package, script, copy_script, all, any, os_case, argument_case, argument_set)']],
    ['two keys in an item', 'validators:\n  - package: curl\n    script: x.sh\n', ['2:5 validators[0]: a validator must have exactly one key, found 2 (package, script)']],
    ['no key', 'validators:\n  - {}\n', ['2:5 validators[0]: a validator must have exactly one key, found 0']],
    ['nested, two at once', 'validators:\n  - any:\n      - pkg: x\n      - package: -oX\n', [
      '3:9 validators[0].any[0]: unknown validator type "pkg" (known: package, script, copy_script, all, any, os_case, argument_case, argument_set)',
      '4:18 validators[0].any[1].package: "-oX" is not a valid package name',
    ]],
    ['os_case entry with two keys', 'validators:\n  - os_case:\n      - redhat:\n          - package: nfs-utils\n        debian: []\n', ['3:9 validators[0].os_case[0]: an os_case entry must have exactly one key, found 2 (redhat, debian)']],
    ['argument_set without value', 'validators:\n  - argument_set: {argument_name: a}\n', ['2:19 validators[0].argument_set: argument_set needs "value"']],
    ['YAML syntax', 'validators: [\n', ['2:1 : Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['no validators', 'foo: 1\n', ['1:1 : a spec needs a "validators" list']],
    ['script options as a list (the seed text form)', 'validators:\n  - script:\n      x.sh:\n        - inline: echo\n', ['4:9 validators[0].script["x.sh"]: script options must be a map (env_vars, output, inline), not a list']],
    ['an option-like package name', 'validators:\n  - package: -oDebug=1\n', ['2:14 validators[0].package: "-oDebug=1" is not a valid package name']],
    ['an argument that is not a map', 'arguments:\n  a: [x]\nvalidators: []\n', ['2:6 arguments.a: an argument must be a map of description, default, required, choices']],
    ['an argument_case key that Sahara refuses', 'validators:\n  - argument_case: {argument_name: a, cases: {x: []}, default: []}\n', ['2:55 validators[0].argument_case: unknown key "default" (expected "argument_name", "cases")']],
    ['empty inline script', 'validators:\n  - script: {x: {inline: "  "}}\n', ['2:26 validators[0].script.x.inline: inline script is empty']],
  ])('%s', (_name, text, expected) => {
    expect(issuesOf(text)).toEqual(expected);
  });

  test('argument rules Sahara shares (default among choices, optional needs a default), booleans, names', () => {
    const text = yaml(`
      arguments:
        a:
          default: z
          choices: [x, y]
        b:
          description: B
        d:
          required: maybe
          default: q
        f:
          required: false
          default: ''
        distro:
          default: x
        bad.name:
          default: x
      validators: []
    `);
    expect(issuesOf(text)).toEqual([
      '3:14 arguments.a.default: default "z" is not one of the choices (x, y)',
      '5:3 arguments.b: argument "b" is not required, so it must have a default',
      '8:15 arguments.d.required: required must be true or false',
      '10:3 arguments.f: argument "f" is not required, so it must have a default',
      '13:3 arguments.distro: "distro" is reserved: distro and test_only are set by every run and cannot be declared',
      '15:3 arguments["bad.name"]: "bad.name" is not a valid argument name (letters, digits, _ and -)',
    ]);
  });

  test('keys beyond the four are kept as written; hidden and required read as PyYAML reads booleans', () => {
    const s = specOf(yaml(`
      arguments:
        plugin_version:
          default: 5.11.0
          description: The distribution of CDH to install.
          hidden: True
          required: False
          target_variable: CDH_VERSION
          since: {release: queens, notes: [a, b]}
        scala_version:
          default: 1
          description:
          hidden: yes
          required: off
        java_distro:
          required: YES
          hidden: false
      validators: []
    `));
    const pv = s.arguments.get('plugin_version');
    expect(pv).toMatchObject({ default: '5.11.0', required: false, hidden: true });
    expect([...(pv?.extra ?? [])]).toEqual([['target_variable', 'CDH_VERSION'], ['since', '{"release":"queens","notes":["a","b"]}']]);
    expect(s.arguments.get('scala_version')).toMatchObject({ default: '1', description: undefined, required: false, hidden: true, extra: new Map() });
    expect(s.arguments.get('java_distro')).toMatchObject({ required: true, hidden: false });
    expect(s.notes).toEqual([]);
  });

  test('missing and empty scripts are errors at their line, found relative to the spec or a resource root', () => {
    const files = { 'empty.sh': '\n', 'ok.sh': 'true\n' };
    const text = 'validators:\n  - script: missing.sh\n  - script: empty.sh\n  - script: ok.sh\n  - copy_script: {missing2.sh: {}}\n';
    const issues = issuesOf(text, files);
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^2:13 validators\[0\]\.script: script "missing\.sh" not found \(looked in \/.*\)$/);
    expect(issues[1]).toMatch(/^3:13 validators\[1\]\.script: script "empty\.sh" is empty/);
    expect(issues[2]).toMatch(/^5:19 validators\[3\]\.copy_script\["missing2\.sh"\]: script "missing2\.sh" not found/);

    const dir = specDir({ 'spec.yaml': 'validators:\n  - script: shared.sh\n' });
    const roots = specDir({ 'shared.sh': 'echo shared\n' });
    expect(() => loadSpec(path.join(dir, 'spec.yaml'))).toThrow(/spec\.yaml:2:13: validators\[0\]\.script: script "shared\.sh" not found/);
    const spec = loadSpec(path.join(dir, 'spec.yaml'), { resourceRoots: [roots] });
    expect(spec.validators[0]?.kind).toBe('script');
    fs.rmSync(dir, { recursive: true });
  });

  test('several problems make one exit-2 error with a line each', () => {
    const e = specError('spec.yaml', [
      { pos: { file: 'spec.yaml', line: 2, col: 5 }, path: 'validators[0]', message: 'one' },
      { pos: { file: 'spec.yaml', line: 7, col: 9 }, path: 'validators[3].any[0]', message: 'two' },
    ]);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('spec.yaml: 2 problems');
    expect(e.detail).toBe('spec.yaml:2:5: validators[0]: one\nspec.yaml:7:9: validators[3].any[0]: two');
  });
});

describe('what Sahara\'s loader accepts loads, with a note where kiln has something to say', () => {
  test.each([
    ['an unknown top-level key (Sahara ignores it)', 'name: cdh\nvalidators: []\n', ['1:1 : unknown key "name" is ignored, as Sahara ignores it (expected "arguments", "validators")']],
    ['an unknown script option', 'validators:\n  - script:\n      x:\n        inline: echo\n        arguments: [a]\n', ['5:9 validators[0].script.x: unknown key "arguments" is ignored, as Sahara ignores it (expected "env_vars", "output", "inline")']],
    ['an unknown copy_script option', 'validators:\n  - copy_script: {x.sh: {inline: echo, output: o}}\n', ['2:40 validators[0].copy_script["x.sh"]: unknown key "output" is ignored, as Sahara ignores it (expected "inline")']],
    ['an unknown package option', 'validators:\n  - package: {curl: {version: "7.0", arch: amd64}}\n', ['2:38 validators[0].package.curl: unknown key "arch" is ignored, as Sahara ignores it (expected "version")']],
    ['an env var that is not a shell name', 'validators:\n  - script:\n      x:\n        env_vars: [a.b]\n        inline: echo\n', ['4:20 validators[0].script.x.env_vars[0]: "a.b" cannot be a shell variable name: it is not exported']],
    ['an env var nothing defines (the spark plugin\'s cdh_version)', 'validators:\n  - script:\n      x:\n        env_vars: [cdh_version]\n        inline: echo\n', ['4:20 validators[0].script.x.env_vars[0]: argument "cdh_version" is neither declared in "arguments" nor set by argument_set or a script\'s output: it is never exported']],
    ['an argument_case on an argument nothing defines', 'validators:\n  - argument_case:\n      argument_name: nope\n      cases:\n        x: [ {package: y} ]\n', ['3:22 validators[0].argument_case.argument_name: argument "nope" is neither declared in "arguments" nor set by argument_set or a script\'s output: this argument_case fails whenever it runs']],
    ['an empty any', 'validators:\n  - any: []\n', ['2:10 validators[0].any: an empty "any" fails whenever it runs (as in Sahara)']],
    ['an empty package list', 'validators:\n  - package: []\n', ['2:14 validators[0].package: the package list is empty: this validator fails whenever it runs (as in Sahara)']],
    ['an empty os_case', 'validators:\n  - os_case: []\n', ['2:14 validators[0].os_case: os_case has no cases: it does nothing']],
    ['a required argument with a default', 'arguments:\n  c:\n    required: true\n    default: q\nvalidators: []\n', ['4:14 arguments.c.default: argument "c" is required, so its default "q" is never used']],
    ['a choice listed twice', 'arguments:\n  e:\n    default: x\n    choices: [x, x]\nvalidators: []\n', ['4:18 arguments.e.choices[1]: choice "x" is listed twice']],
    ['empty choices', 'arguments:\n  e:\n    default: x\n    choices: []\nvalidators: []\n', ['4:14 arguments.e.choices: choices is empty: any value is accepted (as in Sahara)']],
    ['hidden that is not a boolean', 'arguments:\n  e:\n    default: x\n    hidden: maybe\nvalidators: []\n', ['4:13 arguments.e.hidden: hidden is not true or false: the argument is shown']],
  ])('%s', (_name, text, expected) => {
    expect(issuesOf(text)).toEqual([]);
    expect(notesOf(text)).toEqual(expected);
  });
});
