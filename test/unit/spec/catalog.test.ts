import fs from 'node:fs';
import path from 'node:path';
import { findSpec, listSpecs, specRoots, splitOperands } from '../../../lib/spec/catalog.js';
import { specHelp } from '../../../lib/cli/commands/pack-info.js';
import { tempDir } from '../../helpers/tmp.js';
import type { KilnError } from '../../../lib/errors/index.js';

const noFile = () => false;

describe('operands: SPEC or PLUGIN VERSION, then the spec arguments as options', () => {
  test('a spec file and --NAME VALUE / --NAME=VALUE arguments', () => {
    const r = splitOperands(['spec.yaml', '--java-distro', 'openjdk', '--hadoop=3.3'], noFile);
    expect(r.spec).toEqual({ file: 'spec.yaml' });
    expect([...r.args]).toEqual([['java-distro', 'openjdk'], ['hadoop', '3.3']]);
  });
  test('the seed\'s form: plugin and version', () => {
    expect(splitOperands(['spark', '2.3', '--java-distro', 'oracle-java'], noFile)).toEqual({ spec: { plugin: 'spark', version: '2.3' }, args: new Map([['java-distro', 'oracle-java']]) });
  });
  test('an existing file without a .yaml name is still a spec file', () => {
    expect(splitOperands(['my-spec'], () => true).spec).toEqual({ file: 'my-spec' });
  });
  test('mistakes are named', () => {
    expect(() => splitOperands([], noFile)).toThrow('no spec given');
    expect(() => splitOperands(['spark'], noFile)).toThrow('"spark" is neither a spec file nor a plugin followed by its version');
    expect(() => splitOperands(['spec.yaml', 'stray'], noFile)).toThrow('"stray": expected a spec argument as --NAME VALUE');
    expect(() => splitOperands(['spec.yaml', '--a'], noFile)).toThrow('--a needs a value');
    expect(() => splitOperands(['spec.yaml', '--a', '1', '--a=2'], noFile)).toThrow('argument a is given twice');
  });
});

describe('the spec path', () => {
  const dir = tempDir('unit-catalog');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const put = (root: string, plugin: string, version: string) => {
    fs.mkdirSync(path.join(root, plugin, version), { recursive: true });
    fs.writeFileSync(path.join(root, plugin, version, 'image.yaml'), 'validators: []\n');
  };
  beforeAll(() => {
    put(a, 'spark', '2.3');
    put(a, 'spark', '10.0');
    put(b, 'spark', '2.3');
    put(b, 'vanilla', '3.3.0');
    fs.mkdirSync(path.join(b, 'vanilla', 'empty'), { recursive: true });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('earlier entries win; versions sort numerically; directories without image.yaml are not specs', () => {
    expect(listSpecs([a, b]).map((s) => [s.plugin, s.version, path.relative(dir, s.file)])).toEqual([
      ['spark', '2.3', 'a/spark/2.3/image.yaml'],
      ['spark', '10.0', 'a/spark/10.0/image.yaml'],
      ['vanilla', '3.3.0', 'b/vanilla/3.3.0/image.yaml'],
    ]);
  });
  test('finding one; an unknown version lists the known ones; an unknown plugin lists the plugins', () => {
    expect(findSpec([a, b], 'vanilla', '3.3.0').file).toBe(path.join(b, 'vanilla/3.3.0/image.yaml'));
    expect(() => findSpec([a, b], 'spark', '9')).toThrow('spec spark 9: no such version (spark has 2.3, 10.0)');
    expect(() => findSpec([a, b], 'storm', '1')).toThrow('spec storm 1: no plugin "storm" on the spec path');
  });
  test('KILN_SPEC_PATH comes first and must name directories', () => {
    expect(specRoots({ KILN_SPEC_PATH: `${a}:${b}` }).slice(0, 2)).toEqual([a, b]);
    expect(() => specRoots({ KILN_SPEC_PATH: path.join(dir, 'none') })).toThrow(/KILN_SPEC_PATH entry ".*none" is not a directory/);
  });
});

describe('kiln pack --help SPEC', () => {
  const dir = tempDir('unit-spechelp');
  const file = path.join(dir, 'image.yaml');
  beforeAll(() => fs.writeFileSync(file, 'arguments:\n  java-distro:\n    description: which java\n    default: openjdk\n    choices: [openjdk, oracle-java]\n  cluster:\n    description: the name\n    required: true\nvalidators:\n  - script: {x: {inline: "true"}}\n'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  test('lists the spec\'s arguments as options; option values are not taken for the spec', () => {
    expect(specHelp(['--image', 'disk.qcow2', '--help', file])).toBe(
      `\nArguments of ${file}:\n    --java-distro VALUE  which java (default openjdk; one of openjdk, oracle-java)\n    --cluster VALUE  the name (required)\n`,
    );
    expect(specHelp(['--help'])).toBe('');
    expect(() => specHelp(['--help', 'nosuch', '1.0'])).toThrow(/spec nosuch 1\.0: no plugin "nosuch" on the spec path/);
  });
  test('a spec with problems throws them all (exit 2), and its notes are shown', () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'validators:\n  - pkg: x\n  - package: -x\n');
    let thrown: KilnError | undefined;
    try {
      specHelp(['--help', bad]);
    } catch (e) {
      thrown = e as KilnError;
    }
    expect(thrown?.exitCode).toBe(2);
    expect(thrown?.message).toBe(`${bad}: 2 problems`);
    expect(thrown?.detail?.split('\n')).toHaveLength(2);
    const noted = path.join(dir, 'noted.yaml');
    fs.writeFileSync(noted, 'name: x\nvalidators: []\n');
    expect(specHelp(['--help', noted])).toBe(`\nArguments of ${noted}:\n    (none)\n    note: ${noted}:1:1: unknown key "name" is ignored, as Sahara ignores it (expected "arguments", "validators")\n`);
  });
});
