/** The package validator: Sahara's test_package_spec / test_package_validator_{redhat,debian}, plus apt/dnf/zypper pinning. */
import { runChild } from '../../../lib/spec/context.js';
import { ValidationFailure } from '../../../lib/spec/failure.js';
import { checkCommand, installCommand, renderPin } from '../../../lib/distro/packages.js';
import type { PackageValidator } from '../../../lib/spec/types.js';
import { FakeTarget, context, group, specOf, yaml } from './fakes.js';

const POS = { file: 'spec.yaml', line: 1, col: 1 };
function pkgs(...list: [string, string?][]): PackageValidator {
  return { kind: 'package', pos: POS, path: 'validators[0].package', packages: list.map(([name, version]) => ({ name, version })) };
}
async function attempt(p: Promise<void>): Promise<ValidationFailure | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof ValidationFailure) return e;
    throw e;
  }
}
const rpmMissing = (argv: string[]) =>
  argv[0] === 'rpm' ? { exitCode: 1, stdout: argv.slice(2).map((p) => `package ${p} is not installed`).join('\n') } : { exitCode: 1, stderr: 'So bad!' };

describe('package spec', () => {
  test.each([
    ['package: java', [{ name: 'java', version: undefined }]],
    ['package: {java: {version: "8"}}', [{ name: 'java', version: '8' }]],
    ['package: [{java: {version: 8}}, hadoop]', [{ name: 'java', version: '8' }, { name: 'hadoop', version: undefined }]],
    ['package:\n      - nfs-utils:\n          version: 1.3.3-8', [{ name: 'nfs-utils', version: '1.3.3-8' }]],
    ['package: {java: {version: 1.10}}', [{ name: 'java', version: '1.10' }]],
  ])('%s', (text, expected) => {
    const spec = specOf(`validators:\n  - ${text}\n`);
    const v = spec.validators[0] as PackageValidator;
    expect(v.kind).toBe('package');
    expect(v.packages).toEqual(expected);
  });

  test('version pins are rendered for each family', () => {
    const java = { name: 'java', version: '8' };
    expect(renderPin('apt', java)).toBe('java=8');
    expect(renderPin('dnf', java)).toBe('java-8');
    expect(renderPin('yum', java)).toBe('java-8');
    expect(renderPin('zypper', java)).toBe('java=8');
    expect(installCommand('zypper', [java], 'defaults').argv).toEqual(['zypper', '--non-interactive', 'install', 'java=8']);
    expect(checkCommand('zypper', [java]).argv).toEqual(['rpm', '-q', 'java-8']);
  });
});

describe('package validator, redhat family', () => {
  test('centos, test-only, installed: one check call', async () => {
    const t = new FakeTarget('centos');
    await runChild(pkgs(['java', '8']), context(t, { testOnly: true, distro: 'centos' }));
    expect(t.runs).toEqual([['rpm', '-q', 'java-8']]);
  });

  test('fedora, test-only, missing: one call for the whole list, and it fails naming what is missing', async () => {
    const t = new FakeTarget('fedora', rpmMissing);
    const f = await attempt(runChild(pkgs(['java', '8'], ['hadoop']), context(t, { testOnly: true, distro: 'fedora' })));
    expect(f?.message).toBe('not installed: java-8, hadoop');
    expect(t.runs).toEqual([['rpm', '-q', 'java-8', 'hadoop']]);
  });

  test('redhatenterpriseserver, reconcile, always failing: check, install, check (3 calls); yum without dnf', async () => {
    const t = new FakeTarget('redhatenterpriseserver', (argv) => (argv[0] === 'rpm' ? rpmMissing(argv) : undefined));
    const f = await attempt(runChild(pkgs(['java', '8'], ['hadoop']), context(t, { testOnly: false, distro: 'redhatenterpriseserver' })));
    expect(f).toBeInstanceOf(ValidationFailure);
    expect(t.runs).toEqual([
      ['rpm', '-q', 'java-8', 'hadoop'],
      ['yum', 'install', '-y', 'java-8', 'hadoop'],
      ['rpm', '-q', 'java-8', 'hadoop'],
    ]);
  });

  test('dnf when the target has it', async () => {
    let installed = false;
    const t = new FakeTarget('rocky', (argv) => (argv[0] === 'dnf' ? ((installed = true), undefined) : installed ? undefined : rpmMissing(argv)), ['/usr/bin/dnf']);
    const ctx = context(t, { testOnly: false, distro: 'rocky' });
    await runChild(pkgs(['java', '8']), ctx);
    expect(t.runs[1]).toEqual(['dnf', 'install', '-y', 'java-8']);
    expect(ctx.journal.changes).toBe(1);
  });
});

describe('package validator, debian family', () => {
  const dpkgLine = (name: string, version: string, status = 'ii ') => `${name}\t${version}\t${status}\n`;

  test('ubuntu, test-only: one dpkg-query call with the names (versions are compared by kiln)', async () => {
    const t = new FakeTarget('ubuntu', () => ({ stdout: dpkgLine('java', '8') }));
    await runChild(pkgs(['java', '8']), context(t, { testOnly: true }));
    expect(t.runs).toHaveLength(1);
    expect(t.runs[0]?.slice(0, 2)).toEqual(['dpkg-query', '-W']);
    expect(t.runs[0]?.slice(3)).toEqual(['java']);
  });

  test('ubuntu, test-only, everything failing: one call', async () => {
    const t = new FakeTarget('ubuntu', () => ({ exitCode: 1, stderr: 'So bad!' }));
    const f = await attempt(runChild(pkgs(['java', '8'], ['hadoop']), context(t, { testOnly: true })));
    expect(f?.message).toBe('not installed: java=8, hadoop');
    expect(f?.detail).toContain('So bad!');
    expect(t.runs).toHaveLength(1);
  });

  test('ubuntu, reconcile, everything failing: check then install (2 calls), apt pins name=version', async () => {
    const t = new FakeTarget('ubuntu', () => ({ exitCode: 1, stderr: 'So bad!' }));
    const f = await attempt(runChild(pkgs(['java', '8'], ['hadoop']), context(t, { testOnly: false })));
    expect(f?.message).toMatch(/^apt-get -y install … exited 1/);
    expect(t.runs).toHaveLength(2);
    expect(t.runs[1]).toEqual(['apt-get', '-y', 'install', 'java=8', 'hadoop']);
    const install = t.calls[1];
    expect(install?.op === 'run' && install.env).toEqual({ DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' });
  });

  test('reconcile that works: check, install, check again', async () => {
    let installed = false;
    const t = new FakeTarget('debian', (argv) => {
      if (argv[0] === 'apt-get') installed = true;
      return installed ? { stdout: dpkgLine('curl', '7.88') } : { exitCode: 1, stderr: "dpkg-query: no packages found matching curl" };
    });
    await runChild(pkgs(['curl']), context(t, { testOnly: false, distro: 'debian' }));
    expect(t.runs.map((a) => a[0])).toEqual(['dpkg-query', 'apt-get', 'dpkg-query']);
  });

  test.each([
    ['a removed package (rc) is missing', dpkgLine('curl', '7.88', 'rc '), [['curl']], 'not installed: curl'],
    ['a different version is missing', dpkgLine('curl', '7.88'), [['curl', '8.0']], 'not installed: curl=8.0 (installed: 7.88)'],
  ] as const)('%s', async (_name, stdout, list, message) => {
    const t = new FakeTarget('debian', () => ({ stdout }));
    const f = await attempt(runChild(pkgs(...(list as unknown as [string, string?][])), context(t, { testOnly: true, distro: 'debian' })));
    expect(f?.message).toBe(message);
  });
});

describe('package validator, other families', () => {
  test('opensuse: rpm -q to check, zypper to install with name=version', async () => {
    const t = new FakeTarget('opensuse-leap', (argv) => (argv[0] === 'rpm' ? rpmMissing(argv) : undefined));
    await attempt(runChild(pkgs(['java', '8']), context(t, { testOnly: false, distro: 'opensuse-leap' })));
    expect(t.runs[0]).toEqual(['rpm', '-q', 'java-8']);
    expect(t.runs[1]).toEqual(['zypper', '--non-interactive', 'install', 'java=8']);
  });

  test('an unknown distro fails without running anything (Sahara raised KeyError)', async () => {
    const t = new FakeTarget('plan9');
    const f = await attempt(runChild(pkgs(['java']), context(t, { testOnly: true, distro: 'plan9' })));
    expect(f?.message).toBe('unknown distro "plan9": cannot check or install packages');
    expect(t.runs).toEqual([]);
  });

  test('a package inside any: reconciled only after every alternative failed test-only', async () => {
    let installed = false;
    const t = new FakeTarget('debian', (argv) => {
      if (argv[0] === 'apt-get') installed = argv.includes('b');
      return installed && argv.includes('b') ? { stdout: 'b\t1\tii \n' } : { exitCode: 1 };
    });
    const v = group('any', [pkgs(['a']), pkgs(['b'])]);
    await runChild(v, context(t, { testOnly: false, distro: 'debian' }));
    expect(t.runs.map((a) => `${a[0]} ${a[a.length - 1]}`)).toEqual([
      'dpkg-query a', 'dpkg-query b', // test-only pass
      'dpkg-query a', 'apt-get a', // reconcile a: its install "fails" (b is not it), check fails
      'dpkg-query b', 'apt-get b', 'dpkg-query b', // reconcile b: fixed
    ]);
  });
});

test('yaml helper dedents', () => {
  expect(yaml('\n  a:\n    b\n')).toBe('a:\n  b\n');
});
