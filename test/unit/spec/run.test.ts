/** runSpec: arguments against the spec (Sahara's test_sahara_image_validator), distro, per-validator report, modes. */
import { KilnError } from '../../../lib/errors/index.js';
import { distroFromOsRelease, parseOsRelease } from '../../../lib/spec/distro.js';
import { formatReport } from '../../../lib/spec/report.js';
import { runSpec } from '../../../lib/spec/run.js';
import { FakeTarget, specOf, yaml } from './fakes.js';

const ARGS = yaml(`
  arguments:
    java-distro:
      default: openjdk
      choices: [openjdk, oracle-java]
    cluster:
      description: the cluster name
      required: true
`);

function thrown(fn: () => Promise<unknown>): Promise<KilnError> {
  return fn().then(
    () => {
      throw new Error('expected an error');
    },
    (e: unknown) => e as KilnError,
  );
}

describe('arguments at run time', () => {
  const spec = specOf(`${ARGS}validators:\n  - argument_case:\n      argument_name: java-distro\n      cases:\n        openjdk: [{argument_set: {argument_name: x, value: y}}]\n`);

  test('defaults fill in, the distro comes from the target, declaration order is kept', async () => {
    const report = await runSpec(spec, new FakeTarget('centos'), { testOnly: true, args: new Map([['cluster', 'c1']]) });
    expect(report.arguments).toEqual({ 'java-distro': 'openjdk', cluster: 'c1', distro: 'centos' });
    expect(Object.keys(report.arguments)).toEqual(['java-distro', 'cluster', 'distro']);
    expect(report.ok).toBe(true);
  });

  test('every problem with the given values at once, exit 2, before touching the target', async () => {
    const t = new FakeTarget();
    const e = await thrown(() => runSpec(spec, t, { testOnly: true, args: new Map([['java-distro', 'ibm'], ['nope', '1'], ['distro', 'x']]) }));
    expect(e.exitCode).toBe(2);
    expect(e.detail?.split('\n')).toEqual([
      'unknown argument "nope" (spec.yaml declares: java-distro, cluster)',
      'argument "distro" is reserved and set by kiln',
      'argument "java-distro" must be one of openjdk, oracle-java, not "ibm"',
      'argument "cluster" is required (the cluster name)',
    ]);
    expect(t.calls).toEqual([]);
  });
});

describe('modes and the report', () => {
  const text = yaml(`
    validators:
      - package: curl
      - package: [jq, {vim: {version: "2:9.0"}}]
      - argument_set: {argument_name: a, value: b}
  `);
  const dpkg = (installed: Set<string>) => (argv: string[]) => {
    if (argv[0] === 'apt-get') {
      argv.slice(3).forEach((p) => installed.add(p.split('=')[0] ?? p));
      return undefined;
    }
    const names = argv.slice(3);
    const lines = names.filter((n) => installed.has(n)).map((n) => `${n}\t${n === 'vim' ? '2:9.0' : '1.0'}\tii \n`);
    return { exitCode: lines.length === names.length ? 0 : 1, stdout: lines.join('') };
  };

  test('test-only runs every top-level validator and lists each failure with its position', async () => {
    const t = new FakeTarget('debian', dpkg(new Set(['jq'])));
    const report = await runSpec(specOf(text), t, { testOnly: true });
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => [r.path, r.status, r.failure?.message])).toEqual([
      ['validators[0].package', 'failed', 'not installed: curl'],
      ['validators[1].package', 'failed', 'not installed: vim=2:9.0'],
      ['validators[2].argument_set', 'passed', undefined],
    ]);
    const out = formatReport(report);
    expect(out).toContain('FAILED  spec.yaml:2:5: validators[0].package');
    expect(out).toContain('spec.yaml:2:5: validators[0].package: not installed: curl');
    expect(out).toMatch(/test-only of spec\.yaml on fake target: 1 passed, 2 failed/);
    expect(t.runs.every((a) => a[0] === 'dpkg-query')).toBe(true);
  });

  test('reconcile installs (fixed), then a test-only run passes', async () => {
    const installed = new Set<string>();
    const report = await runSpec(specOf(text), new FakeTarget('debian', dpkg(installed)), { testOnly: false });
    expect(report.results.map((r) => r.status)).toEqual(['fixed', 'fixed', 'passed']);
    expect(report.ok).toBe(true);
    const again = await runSpec(specOf(text), new FakeTarget('debian', dpkg(installed)), { testOnly: true });
    expect(again.results.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
  });

  test('reconcile stops at the first failure and reports the rest as skipped', async () => {
    const t = new FakeTarget('debian', () => ({ exitCode: 100, stderr: 'E: Unable to locate package curl' }));
    const report = await runSpec(specOf(text), t, { testOnly: false });
    expect(report.results.map((r) => r.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(report.results[0]?.failure?.detail).toContain('Unable to locate package');
  });
});

describe('os-release', () => {
  test.each([
    ['ID=debian\nVERSION_ID="12"\n', 'debian', [], 'debian'],
    ['ID="ubuntu"\nID_LIKE=debian\n', 'ubuntu', ['debian'], 'debian'],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"\n', 'rocky', ['rhel', 'centos', 'fedora'], 'redhat'],
    ['ID=pop\nID_LIKE="ubuntu debian"\n', 'pop', ['ubuntu', 'debian'], 'debian'],
    ['ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', 'opensuse-leap', ['suse', 'opensuse'], 'suse'],
    ['ID=alpine\n', 'alpine', [], undefined],
  ])('%j', (text, id, like, family) => {
    expect(distroFromOsRelease(text)).toEqual({ id, like, family });
  });

  test('quotes, escapes and comments', () => {
    expect(parseOsRelease('# c\nNAME="A \\"b\\""\nX=\'y z\'\n')).toEqual({ NAME: 'A "b"', X: 'y z' });
  });
});
