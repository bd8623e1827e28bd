/**
 * `kiln plan --json` says what the build will do, in order, without building: the packages of each phase
 * after pkg-map, build-only and uninstall (diskimage-builder's package-installs-squash rules), placed among the
 * phase's hooks where diskimage-builder's package-installs hooks run, the -p packages, the base tree, the disk
 * and the outputs. Through the CLI, as a user would ask.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTree, removeTree } from '../helpers/fixtures.js';
import { runBin } from '../helpers/cli.js';

const { root, dirs } = makeTree({
  fx: {
    os: { provides: ['operating-system'], hooks: { 'root.d': { '10-tree': 'exec' } } },
    web: { deps: ['tools'], hooks: { 'install.d': { '50-configure': 'exec', '99-zz-last': 'exec' }, 'post-install.d': { '10-check': 'exec' } } },
    tools: { hooks: { 'pre-install.d': { '05-early': 'exec' } } },
  },
});
const fx = dirs.fx as string;
fs.writeFileSync(
  path.join(fx, 'web', 'package-installs.yaml'),
  ['httpd:', 'compiler:', '  build-only: true', 'oldtool:', '  uninstall: true', 'skipme:', '  when: WEB_FLAVOUR = full', 'debugger:', '  phase: post-install.d', ''].join('\n'),
);
fs.writeFileSync(path.join(fx, 'web', 'pkg-map'), JSON.stringify({ family: { debian: { httpd: 'apache2' } } }));
// The same package installed by one flavour and build-only in another, in one phase: installed, then removed
// at the phase's end, as package-installs-squash lists it in both (test_package_squash.py's merge case).
fs.writeFileSync(path.join(fx, 'tools', 'package-installs.yaml'), 'compiler:\ncurl:\n  phase: pre-install.d\n');
const env = { ELEMENTS_PATH: fx, KILN_DEFAULT_OS: undefined, WEB_FLAVOUR: 'lite', DISTRO_NAME: 'debian' };
afterAll(() => removeTree(root));

type Step = { step: string; phase?: string; name?: string; packages?: string[]; format?: string };
const line = (s: Step) => (s.step === 'hook' ? `${s.phase}/${s.name}` : s.step === 'output' ? `output ${s.format}` : `${s.phase} ${s.step} ${(s.packages ?? []).join(' ')}`);

test('kiln plan --json: packages per phase and every step in order', () => {
  const r = runBin('kiln', ['plan', '--json', '-t', 'tar', '-p', 'vim', 'web', 'os'], { env });
  expect([r.code, r.stderr]).toEqual([0, '']);
  const plan = JSON.parse(r.stdout) as { packages: Record<string, { install: string[]; uninstall: string[] }>; steps: Step[] };
  expect(plan.packages['install.d']).toEqual({ install: ['apache2', 'compiler'], uninstall: ['compiler', 'oldtool'] });
  expect(plan.packages['pre-install.d']).toEqual({ install: ['curl'], uninstall: [] });
  expect(plan.packages['post-install.d']).toEqual({ install: ['debugger'], uninstall: [] });
  expect(plan.steps.map(line)).toEqual([
    'root.d/10-tree',
    'pre-install.d/05-early',
    'pre-install.d install curl',
    'install.d install apache2 compiler',
    'install.d/50-configure',
    'install.d remove compiler oldtool',
    'install.d/99-zz-last',
    '-p install vim',
    'post-install.d install debugger',
    'post-install.d/10-check',
    'output tar',
  ]);
});

test('a `when` on a variable that is set decides; on an unset one it is an error naming the file and the variable', () => {
  const full = runBin('kiln', ['plan', '--json', '-t', 'tar', 'web', 'os'], { env: { ...env, WEB_FLAVOUR: 'full' } });
  expect(JSON.parse(full.stdout).packages['install.d'].install).toContain('skipme');
  const unset = runBin('kiln', ['plan', '--json', '-t', 'tar', 'web', 'os'], { env: { ...env, WEB_FLAVOUR: undefined } });
  expect(unset.code).toBe(2);
  expect(unset.stderr).toContain('package-installs.yaml');
  expect(unset.stderr).toContain('WEB_FLAVOUR');
});

test('the text plan lists the same steps', () => {
  const r = runBin('kiln', ['plan', '-t', 'tar', 'web', 'os'], { env });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Steps, in order:\n  root.d/10-tree  [os] (host)\n  pre-install.d/05-early  [tools] (chroot)\n  pre-install.d install curl\n');
});
