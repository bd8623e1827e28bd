/**
 * kiln's staged dib-run-parts, run with bash on temporary directories as elements run it. The first three
 * tests are dib-utils' own tests (tests/tc01.sh, tc02.sh, tc03.sh) in jest; the rest pin upstream's
 * lib/dib-run-parts behaviour: --list, stderr messages, sort -n order, what is skipped, exit statuses.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIB_RUN_PARTS } from '../../../lib/hooks/dib-run-parts.js';
import { compareHookNames } from '../../../lib/flavours/phases.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('unit-dib-run-parts');
const bin = path.join(root, 'dib-run-parts');
fs.writeFileSync(bin, DIB_RUN_PARTS, { mode: 0o755 });

let cases = 0;
/** A fresh DIR (root/caseN/td) with the given scripts, and optionally ../environment.d files. */
function scriptsDir(scripts: Record<string, string | { text: string; mode: number }>, env?: Record<string, string>): string {
  const base = path.join(root, `case${++cases}`);
  const dir = path.join(base, 'td');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, s] of Object.entries(scripts)) {
    const { text, mode } = typeof s === 'string' ? { text: s, mode: 0o755 } : s;
    fs.writeFileSync(path.join(dir, name), text, { mode });
  }
  if (env) {
    fs.mkdirSync(path.join(base, 'environment.d'));
    for (const [name, text] of Object.entries(env)) fs.writeFileSync(path.join(base, 'environment.d', name), text);
  }
  return dir;
}

function drp(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const echoes = (name: string, extra = '') => `#!/bin/bash\necho "${name} called${extra}"\n`;

test('tc01: an empty directory: --list prints nothing, a run prints nothing; both exit 0', () => {
  const dir = scriptsDir({});
  expect(drp(['--list', dir])).toMatchObject({ status: 0, stdout: '' });
  expect(drp([dir])).toMatchObject({ status: 0, stdout: '' });
});

test('tc02: --list prints DIR/NAME of each script in order; a run prints only what the scripts print', () => {
  const dir = scriptsDir({ call_me_2: echoes('call_me_2'), call_me_1: echoes('call_me_1') });
  expect(drp(['--list', dir])).toMatchObject({ status: 0, stdout: `${dir}/call_me_1\n${dir}/call_me_2\n` });
  expect(drp([dir])).toMatchObject({ status: 0, stdout: 'call_me_1 called\ncall_me_2 called\n' });
});

test('tc03: the files of DIR/../environment.d are sourced before the scripts run', () => {
  const dir = scriptsDir(
    { call_me_1: echoes('call_me_1', ' [$ONE]'), call_me_2: echoes('call_me_2', ' [$TWO]') },
    { '10-one': 'export ONE="Some thing"\n', '20-two.bash': 'export TWO="Other thing"\n' },
  );
  expect(drp([dir])).toMatchObject({ status: 0, stdout: 'call_me_1 called [Some thing]\ncall_me_2 called [Other thing]\n' });
});

test('--list runs nothing, not even environment.d', () => {
  const mark = path.join(root, 'ran');
  const dir = scriptsDir({ '10-touch': `#!/bin/bash\ntouch ${mark}\n` }, { '10-env': `touch ${mark}\n` });
  expect(drp(['--list', dir])).toEqual({ status: 0, stdout: `${dir}/10-touch\n`, stderr: '' });
  expect(fs.existsSync(mark)).toBe(false);
});

test('scripts run in kiln\'s hook order (sort -n: the leading number, then bytewise)', () => {
  const names = ['10-a', '9-b', 'a-x', '10-A', '02-c', '100-z', '1_x'];
  const dir = scriptsDir(Object.fromEntries(names.map((n) => [n, `#!/bin/bash\necho ${n}\n`])));
  const ordered = [...names].sort(compareHookNames);
  expect(drp(['--list', dir]).stdout).toBe(ordered.map((n) => `${dir}/${n}\n`).join(''));
  expect(drp([dir]).stdout).toBe(ordered.map((n) => `${n}\n`).join(''));
});

test('only executable files whose names match are run: not dotted names, plain files or directories; symlinks to scripts are', () => {
  const dir = scriptsDir({ '10-run': echoes('10-run'), '20-data.sh': echoes('dotted'), '30-plain': { text: echoes('plain'), mode: 0o644 } });
  fs.mkdirSync(path.join(dir, '40-dir'));
  fs.symlinkSync('10-run', path.join(dir, '50-link'));
  expect(drp(['--list', dir]).stdout).toBe(`${dir}/10-run\n${dir}/50-link\n`);
  const r = drp([dir]);
  expect(r.stdout).toBe('10-run called\n10-run called\n');
  expect(r.stderr).not.toMatch(/Ignoring/);
  const traced = drp([dir], { DIB_DEBUG_TRACE: '1' }).stderr;
  expect(traced).toContain('dib-run-parts Ignoring non-executable files: 30-plain\n');
  expect(traced).toContain('dib-run-parts Ignoring non-conforming filenames: 20-data.sh\n');
});

test('RUN_PARTS_REGEX chooses which names run', () => {
  const dir = scriptsDir({ '10-a': echoes('10-a'), '20-b.sh': echoes('20-b.sh') });
  expect(drp(['--list', dir], { RUN_PARTS_REGEX: '\\.sh$' }).stdout).toBe(`${dir}/20-b.sh\n`);
});

test('progress goes to stderr, prefixed with the name: sourcing, running, completed, a profiling table', () => {
  const dir = scriptsDir({ '10-a': echoes('10-a') }, { '10-env': 'export E=1\n' });
  const r = drp([dir]);
  expect(r.stdout).toBe('10-a called\n');
  const env = `${dir}/../environment.d/10-env`;
  const lines = r.stderr.split('\n');
  expect(lines).toEqual(expect.arrayContaining([
    `dib-run-parts Sourcing environment file ${env}`,
    `+ source ${env}`,
    `dib-run-parts Running ${dir}/10-a`,
    'dib-run-parts 10-a completed',
    'dib-run-parts ----------------------- PROFILING -----------------------',
    'dib-run-parts Target: td',
    'dib-run-parts --------------------- END PROFILING ---------------------',
  ]));
  expect(lines.indexOf(`dib-run-parts Sourcing environment file ${env}`)).toBeLessThan(lines.indexOf(`dib-run-parts Running ${dir}/10-a`));
  expect(r.stderr).toMatch(/^dib-run-parts 10-a {36} +\d+\.\d{3}$/m);
});

test('the first script that fails ends the run with its exit status, named on stderr; later scripts do not run', () => {
  const dir = scriptsDir({ '10-a': echoes('10-a'), '20-b': '#!/bin/bash\necho b\nexit 3\n', '30-c': echoes('30-c') });
  const r = drp([dir]);
  expect(r.status).toBe(3);
  expect(r.stdout).toBe('10-a called\nb\n');
  expect(r.stderr).toContain(`dib-run-parts ${dir}/20-b exited 3\n`);
  expect(r.stderr).not.toContain('20-b completed');
  expect(r.stderr).not.toContain('PROFILING');
});

test('an environment.d file that fails stops the run before any script, named on stderr', () => {
  const dir = scriptsDir({ '10-a': echoes('10-a') }, { '10-bad': 'false\necho never\n' });
  const r = drp([dir]);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`dib-run-parts environment file ${dir}/../environment.d/10-bad exited 1\n`);
});

test('environment.d files are sourced in upstream\'s order (its sort -n over their paths: bytewise by name), under set -u', () => {
  const dir = scriptsDir({ '10-show': '#!/bin/bash\necho "$V"\n' }, { '9-x': 'export V="$V 9"\n', '10-y': 'export V="$V 10"\n', 'a-z': 'export V="$V a"\n', '.early': 'export V=dot\n' });
  expect(drp([dir])).toMatchObject({ status: 0, stdout: 'dot 10 9 a\n' });
  const unset = scriptsDir({ '10-show': echoes('10-show') }, { '10-u': 'echo "$UNSET_VARIABLE"\n' });
  expect(drp([unset]).status).not.toBe(0);
});

test('an empty environment.d is fine (upstream exits 1 there without a word)', () => {
  expect(drp([scriptsDir({ '10-a': echoes('10-a') }, {})])).toMatchObject({ status: 0, stdout: '10-a called\n' });
});

test('no directory, or one that does not exist: the usage on stderr, exit 1', () => {
  const none = drp([]);
  expect(none.status).toBe(1);
  expect(none.stderr).toContain('Usage: dib-run-parts [OPTION] scripts_directory');
  const missing = drp(['--list', path.join(root, 'nowhere')]);
  expect(missing.status).toBe(1);
  expect(missing.stdout).toBe('');
  expect(missing.stderr).toContain(`dib-run-parts Scripts directory [${path.join(root, 'nowhere')}] must exist and be a directory\n`);
});
