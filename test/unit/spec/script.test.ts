/** The script validator: Sahara's test_script_spec / test_script_validator, plus quoting, shebangs and the inline fix. */
import { runChild } from '../../../lib/spec/context.js';
import { ValidationFailure } from '../../../lib/spec/failure.js';
import { quoteShell } from '../../../lib/spec/shell.js';
import type { CopyScriptValidator, ScriptValidator } from '../../../lib/spec/types.js';
import { FakeTarget, context, specOf, yaml } from './fakes.js';

const POS = { file: 'spec.yaml', line: 1, col: 1 };
function script(contents: string, envVars: string[], output?: string): ScriptValidator {
  return { kind: 'script', pos: POS, path: 'validators[0].script', name: 's.sh', contents, source: 'inline', envVars, output };
}

describe('script spec', () => {
  test('a file name: test_only and distro are exported', () => {
    const v = specOf('validators:\n  - script: setup.sh\n', { 'setup.sh': 'echo hi\n' }).validators[0] as ScriptValidator;
    expect(v.envVars).toEqual(['test_only', 'distro']);
    expect(v.contents).toBe('echo hi\n');
    expect(v.output).toBeUndefined();
  });

  test('env_vars are added after the defaults; output is kept', () => {
    const text = yaml(`
      validators:
        - script:
            setup.sh:
              env_vars: [extra-file, user]
              output: OUT
    `);
    const v = specOf(text, { 'setup.sh': 'echo hi\n' }).validators[0] as ScriptValidator;
    expect(v.envVars).toEqual(['test_only', 'distro', 'extra-file', 'user']);
    expect(v.output).toBe('OUT');
  });

  test('scripts are found relative to the spec file, in subdirectories too', () => {
    const v = specOf('validators:\n  - script: scripts/a.sh\n', { 'scripts/a.sh': 'true\n' }).validators[0] as ScriptValidator;
    expect(v.source).toMatch(/scripts\/a\.sh$/);
  });
});

describe('script validator', () => {
  test('exports the listed defined variables, runs, stores stdout in output (Sahara: distro → fedora)', async () => {
    const t = new FakeTarget('centos', () => ({ stdout: 'fedora\n' }));
    const ctx = context(t, { testOnly: false, args: { distro: 'centos' }, distro: 'centos' });
    await runChild(script("It's dangerous to go alone. Run this.\n", ['distro', 'undefined-one'], 'distro'), ctx);
    const write = t.calls[0];
    expect(write).toEqual({ op: 'write', path: '/tmp/kiln-script-id1.sh', contents: "export distro=centos\nIt's dangerous to go alone. Run this.\n", mode: 0o700 });
    expect(t.calls[1]).toEqual({ op: 'run', argv: ['/bin/sh', '/tmp/kiln-script-id1.sh'], env: {} });
    expect(t.calls[2]).toEqual({ op: 'remove', path: '/tmp/kiln-script-id1.sh' });
    expect(ctx.args.get('distro')).toBe('fedora');
  });

  test.each([
    [true, '1'],
    [false, '0'],
  ])('test_only=%s exports test_only=%s; names with - become _; values are shell-quoted', async (testOnly, flag) => {
    const t = new FakeTarget();
    const args = { 'java-distro': "it's mine", distro: 'ubuntu', plain: 'x' };
    await runChild(script('true\n', ['test_only', 'distro', 'java-distro']), context(t, { testOnly, args }));
    const write = t.calls[0];
    expect(write?.op === 'write' && write.contents).toBe(`export java_distro='it'\\''s mine'\nexport distro=ubuntu\nexport test_only=${flag}\ntrue\n`);
  });

  test('a shell shebang stays first; the exports follow it', async () => {
    const t = new FakeTarget();
    await runChild(script('#!/bin/bash\nset -eu\necho $distro\n', ['distro']), context(t, { testOnly: true }));
    const write = t.calls[0];
    expect(write?.op === 'write' && write.contents).toBe('#!/bin/bash\nexport distro=ubuntu\nset -eu\necho $distro\n');
    expect(t.runs[0]).toEqual(['/tmp/kiln-script-id1.sh']);
  });

  test('another interpreter gets the variables in its environment, the file unchanged', async () => {
    const t = new FakeTarget();
    await runChild(script('#!/usr/bin/env python3\nprint(1)\n', ['distro', 'test_only']), context(t, { testOnly: true }));
    const write = t.calls[0];
    expect(write?.op === 'write' && write.contents).toBe('#!/usr/bin/env python3\nprint(1)\n');
    const run = t.calls[1];
    expect(run?.op === 'run' && run.env).toEqual({ distro: 'ubuntu', test_only: '1' });
  });

  test('a failing script fails with its output, sets no output, and its temp file is still removed', async () => {
    const t = new FakeTarget('ubuntu', () => ({ exitCode: 3, stdout: 'partial', stderr: 'missing thing' }));
    const ctx = context(t, { testOnly: true });
    let failure: unknown;
    try {
      await runChild(script('exit 3\n', [], 'OUT'), ctx);
    } catch (e) {
      failure = e;
    }
    expect((failure as ValidationFailure).message).toBe('script s.sh exited 3');
    expect((failure as ValidationFailure).detail).toContain('missing thing');
    expect(ctx.args.has('OUT')).toBe(false);
    expect(t.calls.map((c) => c.op)).toEqual(['write', 'run', 'remove']);
    expect(t.files.size).toBe(0);
  });

  test.each([
    ['plain-1.0_x', 'plain-1.0_x'],
    ['', "''"],
    ['a b', "'a b'"],
    ["a'b", "'a'\\''b'"],
    ['$(rm -rf /)', "'$(rm -rf /)'"],
  ])('quoteShell(%j) = %s', (value, quoted) => {
    expect(quoteShell(value)).toBe(quoted);
  });
});

describe('copy_script', () => {
  const v: CopyScriptValidator = { kind: 'copy_script', pos: POS, path: 'validators[0].copy_script', name: 'lib/helpers/common.sh', contents: 'f() { :; }\n', source: 'x' };

  test('reconcile copies to /tmp/<basename>', async () => {
    const t = new FakeTarget();
    const ctx = context(t, { testOnly: false });
    await runChild(v, ctx);
    expect(t.calls).toEqual([{ op: 'write', path: '/tmp/common.sh', contents: 'f() { :; }\n', mode: 0o755 }]);
    expect(ctx.journal.changes).toBe(1);
  });

  test('test-only changes nothing', async () => {
    const t = new FakeTarget();
    await runChild(v, context(t, { testOnly: true }));
    expect(t.calls).toEqual([]);
  });
});
