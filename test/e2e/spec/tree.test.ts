/**
 * image-pack on a real (small) root tree, as root: a busybox tree with a fake os-release and a fake
 * dpkg-query/apt-get pair (shell scripts inside the tree keeping an installed-packages list there).
 * test-only reports what is missing and changes nothing (its scripts run on a throwaway overlay of the tree);
 * reconcile installs; test-only then passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { kiln } from '../helpers/kiln.js';
import { BUSYBOX, makeTree, treeChecksum } from './fake-tree.js';
import { describeIf, root } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';

const maybe = describeIf(root(), BUSYBOX ? true : 'needs busybox (Debian package busybox-static)');

const SPEC = `arguments:
  java-distro:
    description: which java
    default: openjdk
    choices: [openjdk, oracle-java]
validators:
  - package: [curl, {jq: {version: "1.6-2"}}]
  - os_case:
      - redhat:
          - package: nfs-utils
      - debian:
          - package: nfs-common
  - argument_case:
      argument_name: java-distro
      cases:
        openjdk:
          - any:
              - package: openjdk-17-jdk
              - package: openjdk-11-jdk
        oracle-java:
          - script: install-oracle.sh
  - script:
      marker:
        env_vars: [java-distro]
        inline: |
          if [ "$test_only" = 1 ]; then
            [ -f /etc/kiln-marker ] && test "$(cat /etc/kiln-marker)" = "$distro $java_distro" || { echo "marker missing" >&2; exit 1; }
          else
            echo "$distro $java_distro" > /etc/kiln-marker
          fi
`;

maybe('image-pack --root on a busybox tree', () => {
  let work: string;
  let root: string;
  let spec: string;

  beforeAll(() => {
    work = tempDir('e2e-spec');
    root = path.join(work, 'root');
    makeTree(root, { curl: '7.88.1-10', jq: '1.6-2', 'nfs-common': '1:2.6.2-4', 'openjdk-11-jdk': '11.0.22' }, { 'base-files': '12.4' });
    spec = path.join(work, 'spec.yaml');
    fs.writeFileSync(spec, SPEC);
    fs.writeFileSync(path.join(work, 'install-oracle.sh'), 'exit 1\n');
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('test-only reports every failing validator with its position and changes nothing; reconcile installs; test-only passes', async () => {
    const before = treeChecksum(root);
    const check = await kiln(['pack', '--root', root, '--test-only', '--json', spec], { timeoutMs: 60_000 });
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout) as { ok: boolean; results: { path: string; status: string; failure?: { pos: { line: number }; path: string; message: string; causes: { path: string; message: string }[] } }[] };
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => [r.path, r.status, r.failure?.path, r.failure?.message])).toEqual([
      ['validators[0].package', 'failed', 'validators[0].package', 'not installed: curl, jq=1.6-2'],
      ['validators[1].os_case', 'failed', 'validators[1].os_case[1].debian[0].package', 'not installed: nfs-common'],
      ['validators[2].argument_case', 'failed', 'validators[2].argument_case.cases.openjdk[0].any', 'none of 2 alternatives holds'],
      ['validators[3].script', 'failed', 'validators[3].script', 'script marker exited 1'],
    ]);
    expect(report.results[2]?.failure?.causes.map((c) => c.message)).toEqual(['not installed: openjdk-17-jdk', 'not installed: openjdk-11-jdk']);
    expect(check.stderr).toMatch(/4 of 4 validators of .*spec\.yaml failed/);
    expect(treeChecksum(root)).toBe(before);
    expect(fs.existsSync(path.join(root, 'var/log/apt-calls'))).toBe(false);

    const text = await kiln(['pack', '--root', root, '--test-only', spec], { timeoutMs: 60_000 });
    expect(text.stdout).toMatch(/FAILED +.*spec\.yaml:7:5: validators\[0\]\.package\n +.*spec\.yaml:7:5: validators\[0\]\.package: not installed: curl, jq=1\.6-2/);
    expect(treeChecksum(root)).toBe(before);

    const fix = await kiln(['pack', '--root', root, '--json', spec], { timeoutMs: 60_000 });
    expect(fix.stderr).toBe('');
    expect(fix.code).toBe(0);
    const fixed = JSON.parse(fix.stdout) as { results: { status: string }[] };
    expect(fixed.results.map((r) => r.status)).toEqual(['fixed', 'fixed', 'fixed', 'passed']);
    expect(fs.readFileSync(path.join(root, 'var/log/apt-calls'), 'utf8').split('\n').filter(Boolean)).toEqual([
      '-y install curl jq=1.6-2',
      '-y install nfs-common',
      '-y install openjdk-17-jdk',
      // not found: the package lists are fetched once and the install tried again, then the lists removed
      '-q update',
      '-y install openjdk-17-jdk',
      'clean',
      '-y install openjdk-11-jdk',
    ]);
    expect(fs.readFileSync(path.join(root, 'etc/kiln-marker'), 'utf8')).toBe('debian openjdk\n');
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);

    const after = treeChecksum(root);
    const again = await kiln(['pack', '--root', root, '--test-only', spec], { timeoutMs: 60_000 });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/test-only of .*spec\.yaml on tree .*: 4 passed, 0 failed/);
    expect(treeChecksum(root)).toBe(after);
  }, 120_000);

  test("test-only changes nothing whatever the scripts do: they write, remove and run apt-get update on a throwaway overlay of the tree", async () => {
    const before = treeChecksum(root);
    const writer = path.join(work, 'writer.yaml');
    // As Sahara's plugin scripts do with test_only=1: make directories, fetch package lists, then check.
    fs.writeFileSync(
      writer,
      `validators:\n  - script:\n      prepare:\n        inline: |\n          mkdir -p /opt/plugin/cache && echo seen > /opt/plugin/cache/stamp\n          rm -f /etc/os-release.bak /etc/kiln-marker\n          apt-get update\n          test "$(cat /opt/plugin/cache/stamp)" = seen && test ! -e /etc/kiln-marker\n`,
    );
    const r = await kiln(['pack', '--root', root, '--test-only', writer], { timeoutMs: 60_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/1 passed, 0 failed/);
    expect(treeChecksum(root)).toBe(before);
    expect(fs.existsSync(path.join(root, 'opt'))).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(work);
  }, 60_000);

  test('test-only of a 50-validator spec', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `pkg-${i}`);
    const tree = path.join(work, 'big');
    makeTree(tree, {}, Object.fromEntries(names.map((n) => [n, '1.0'])));
    const lines = ['validators:', ...names.map((n) => `  - package: ${n}`)];
    for (let i = 0; i < 10; i++) lines.push(`  - script: {check-${i}: {inline: 'test -d /etc && test "$test_only" = 1'}}`);
    const big = path.join(work, 'big.yaml');
    fs.writeFileSync(big, `${lines.join('\n')}\n`);
    const r = await kiln(['pack', '--root', tree, '--test-only', '--json', big], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { durationMs: number; results: unknown[] };
    expect(report.results).toHaveLength(50);
    // How fast it is belongs to bench/latency, not here.
  }, 60_000);
});
