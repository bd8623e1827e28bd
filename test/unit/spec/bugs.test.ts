/** Sahara's bugs named in issue 6, each asserting the right behaviour or error (Sahara's own suite did not). */
import { runChild } from '../../../lib/spec/context.js';
import { runSpec } from '../../../lib/spec/run.js';
import type { CopyScriptValidator, ScriptValidator } from '../../../lib/spec/types.js';
import { FakeTarget, context, issuesOf, specOf, yaml } from './fakes.js';

describe('Sahara bugs, fixed', () => {
  test('inline scripts run (Sahara called .decode() on a str under Python 3 and crashed)', async () => {
    const spec = specOf(
      yaml(`
        validators:
          - script:
              store_version:
                inline: rpm -q nfs-utils
                output: nfs-version
          - argument_case:
              argument_name: nfs-version
              cases:
                nfs-utils-1.3:
                  - argument_set: {argument_name: seen, value: "yes"}
      `),
    );
    const v = spec.validators[0] as ScriptValidator;
    expect(v.contents).toBe('rpm -q nfs-utils\n');
    expect(v.source).toBe('inline');
    const t = new FakeTarget('centos', (argv) => (argv[0] === '/bin/sh' ? { stdout: 'nfs-utils-1.3\n' } : undefined));
    const report = await runSpec(spec, t, { testOnly: true, newId: () => 'x' });
    expect(report.ok).toBe(true);
    const write = t.calls[0];
    expect(write?.op === 'write' && write.contents).toBe('export distro=centos\nexport test_only=1\nrpm -q nfs-utils\n');
  });

  test('debian maps to its own family, so packages work on Debian (Sahara: KeyError)', async () => {
    const t = new FakeTarget('debian', () => ({ stdout: 'curl\t7.88\tii \n' }));
    const ctx = context(t, { testOnly: true, distro: 'debian' });
    await runChild({ kind: 'package', pos: { file: 's', line: 1, col: 1 }, path: 'p', packages: [{ name: 'curl', version: undefined }] }, ctx);
    expect(t.runs[0]?.[0]).toBe('dpkg-query');
  });

  test.each(['distro', 'test_only'])('declaring the reserved argument "%s" is an error at its line (Sahara: KeyError in the message format)', (name) => {
    const issues = issuesOf(yaml(`
      arguments:
        ${name}:
          default: x
      validators: []
    `));
    expect(issues).toEqual([`2:3 arguments.${name}: "${name}" is reserved: distro and test_only are set by every run and cannot be declared`]);
  });

  test('copy_script uses the basename (Sahara took the third path component and crashed on short paths)', async () => {
    const spec = specOf('validators:\n  - copy_script: tool.sh\n', { 'tool.sh': 'echo tool\n' });
    const v = spec.validators[0] as CopyScriptValidator;
    const t = new FakeTarget();
    await runChild(v, context(t, { testOnly: false }));
    expect(t.calls[0]).toMatchObject({ op: 'write', path: '/tmp/tool.sh' });
  });

  test('an unknown validator type names the type (Sahara formatted the missing class: "None not found")', () => {
    expect(issuesOf('validators:\n  - pkg: curl\n')[0]).toMatch(/^2:5 validators\[0\]: unknown validator type "pkg"/);
  });

  test('the script temp file is removed afterwards (Sahara left it in /tmp)', async () => {
    const spec = specOf('validators:\n  - script: {x: {inline: "true"}}\n');
    const t = new FakeTarget();
    await runSpec(spec, t, { testOnly: false });
    expect(t.files.size).toBe(0);
    expect(t.calls.map((c) => c.op)).toEqual(['write', 'run', 'remove']);
  });
});
