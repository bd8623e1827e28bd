/**
 * `kiln pack --list` and `--help SPEC` over a spec path holding the Sahara plugins' specs and a broken
 * one (the real bin/ shim, a temporary KILN_SPEC_PATH).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';
import { SAHARA_FIXTURES } from './fakes.js';

const good = tempDir('pack-list-good');
const bad = tempDir('pack-list-bad');
const env = { KILN_SPEC_PATH: `${good}:${bad}` };
const broken = path.join(bad, 'broken', '1', 'image.yaml');

beforeAll(() => {
  fs.cpSync(SAHARA_FIXTURES, good, { recursive: true });
  fs.mkdirSync(path.dirname(broken), { recursive: true });
  fs.writeFileSync(broken, 'arguments:\n  a:\n    description: no default\nvalidators:\n  - pkg: curl\n');
});
afterAll(() => {
  fs.rmSync(good, { recursive: true, force: true });
  fs.rmSync(bad, { recursive: true, force: true });
});

const BROKEN_PROBLEMS = [
  `${broken}:2:3: arguments.a: argument "a" is not required, so it must have a default`,
  `${broken}:5:5: validators[0]: unknown validator type "pkg"`,
];

describe('kiln pack --list', () => {
  test('lists every spec that loads, names the one that does not with every problem, exit 1', () => {
    const r = runBin('kiln', ['pack', '--list'], { env });
    expect(r.code).toBe(1);
    for (const s of ['ambari 2.6', 'cdh 5.11.0', 'mapr 5.2.0', 'spark 2.3']) expect(r.stdout).toContain(`${s}  ${good}/`);
    expect(r.stdout).toContain(`broken 1  ${broken}  cannot be loaded (2 problems):`);
    for (const p of BROKEN_PROBLEMS) expect(r.stdout).toContain(`    ${p}`);
    expect(r.stderr).toBe('kiln: error: 1 of 5 specs on the spec path cannot be loaded: broken 1\n');
  });

  test('hidden arguments are counted, not shown; --all shows them, marked', () => {
    const plain = runBin('kiln', ['pack', '--list'], { env }).stdout;
    expect(plain).not.toContain('--plugin_version VALUE  The CDH release');
    expect(plain).toContain('    --java_distro VALUE  The Java to install. (default cloudera-jdk; one of openjdk, oracle-java, cloudera-jdk)\n    --hdfs_lib_dir');
    expect(plain).toContain('(1 hidden argument: --all shows it)');
    expect(plain).toContain('(2 hidden arguments: --all shows them)');
    const all = runBin('kiln', ['pack', '--list', '--all'], { env }).stdout;
    expect(all).toContain('    --plugin_version VALUE  The CDH release to install. (default 5.11.0; one of 5.11.0, 5.11.1; hidden)\n');
    expect(all).not.toContain('hidden argument');
  });

  test('notes are shown under their spec, with file:line:col', () => {
    const r = runBin('kiln', ['pack', '--list'], { env });
    expect(r.stdout).toContain(`    note: ${good}/spark/2.3/image.yaml:33:36: validators[2].script["common/install_spark"].env_vars[1]: argument "cdh_version" is neither declared`);
  });

  test('--json: a row per spec, loaded or not, exit 1', () => {
    const r = runBin('kiln', ['pack', '--list', '--json'], { env });
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout) as { plugin: string; ok: boolean; arguments?: { name: string; hidden: boolean }[]; hiddenArguments?: number; problems?: string[] }[];
    expect(rows.map((row) => [row.plugin, row.ok, row.hiddenArguments])).toEqual([
      ['ambari', true, 0],
      ['broken', false, undefined],
      ['cdh', true, 1],
      ['mapr', true, 2],
      ['spark', true, 0],
    ]);
    expect(rows[1]?.problems).toHaveLength(2);
    const cdh = JSON.parse(runBin('kiln', ['pack', '--list', '--json', '--all'], { env }).stdout)[2] as { arguments: { name: string; hidden: boolean }[] };
    expect(cdh.arguments.filter((a) => a.hidden).map((a) => a.name)).toEqual(['plugin_version']);
  });

  test('a spec path where every spec loads: exit 0', () => {
    const r = runBin('kiln', ['pack', '--list'], { env: { KILN_SPEC_PATH: good } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('--all without --list is refused', () => {
    const r = runBin('kiln', ['pack', '--all', '--root', good, path.join(good, 'cdh/5.11.0/image.yaml')], { env });
    expect(r.stderr).toContain('--all only applies to --list');
    expect(r.code).toBe(2);
  });
});

describe('kiln pack --help SPEC', () => {
  test('a spec that loads: every argument, hidden ones too (as Sahara\'s image-pack offers them), exit 0', () => {
    const r = runBin('kiln', ['pack', '--help', 'cdh', '5.11.0'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Arguments of ${good}/cdh/5.11.0/image.yaml:\n    --java_distro VALUE`);
    expect(r.stdout).toContain('    --plugin_version VALUE  The CDH release to install. (default 5.11.0; one of 5.11.0, 5.11.1; hidden)\n');
  });

  test('a spec with problems: exit 2, every problem printed', () => {
    const r = runBin('image-pack', ['--help', 'broken', '1'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`kiln: error: ${broken}: 2 problems\n`);
    for (const p of BROKEN_PROBLEMS) expect(r.stderr).toContain(p);
  });

  test('a spec that is not on the spec path: exit 2, named', () => {
    const r = runBin('kiln', ['pack', '--help', 'storm', '1.0'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('spec storm 1.0: no plugin "storm" on the spec path');
  });
});
