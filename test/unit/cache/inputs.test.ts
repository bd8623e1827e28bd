/**
 * Step keys: which step each file, environment variable and package list counts in, so that a change
 * invalidates exactly the steps from the one it belongs to, and the explanation names the change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { computeStepInputs, explainChange, type InputSources, type StepInputs } from '../../../lib/cache/inputs.js';
import type { BuildPlan, PlannedFlavour } from '../../../lib/plan/build-plan.js';
import type { PlannedPhase } from '../../../lib/flavours/types.js';
import { writeFlavour } from '../helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

const root = tempDir('unit-cache');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const dir = path.join(root, 'one');
writeFlavour(dir, {
  hooks: {
    'root.d': { '10-tree': '#!/bin/sh\necho tree\n' },
    'install.d': { '50-foo': '#!/bin/sh\necho "$FOO_COLOUR"\n', 'foo.conf': 'plain' },
    'finalise.d': { '90-bar': '#!/bin/sh\necho "$BAR_MODE"\n' },
    'cleanup.d': { '99-late': '#!/bin/sh\necho late\n' },
  },
  environment: { '10-env': 'export DERIVED=1\n' },
});
fs.writeFileSync(path.join(dir, 'disk.yaml'), 'bootloader: grub\n');

const phase = (name: string, hooks: string[], runs = true): PlannedPhase => ({
  name,
  where: 'host',
  runs,
  hooks: hooks.map((h) => ({ name: h, flavour: 'one', path: path.join(dir, name, h), where: 'host' })),
});
const plan = {
  kind: 'disk',
  flavours: [{ name: 'one', dir, reason: { kind: 'named' }, why: 'named', summary: undefined, files: {}, overrides: [] } as PlannedFlavour],
  phases: [phase('root.d', ['10-tree']), phase('install.d', ['50-foo']), phase('finalise.d', ['90-bar']), phase('cleanup.d', ['99-late']), phase('block-device.d', [])],
  environment: [],
  outputs: [],
  searchPaths: [root],
  skipped: [],
  provided: {},
  defaultOsAdded: undefined,
} as unknown as BuildPlan;

const none = { install: [], uninstall: [] };
function sources(over: Partial<InputSources> = {}): InputSources {
  return {
    plan,
    env: { FOO_COLOUR: 'red', BAR_MODE: 'fast', UNREAD: 'x', TARGET_ROOT: '/tmp/kiln-build-1/mnt', PATH: '/usr/bin' },
    workDir: '/tmp/kiln-build-1',
    baseKey: undefined,
    packages: { 'pre-install.d': none, 'install.d': { install: ['vim'], uninstall: [] }, 'post-install.d': none },
    extraPackages: [],
    arch: 'amd64',
    release: 'bookworm',
    kiln: 'k1',
    ...over,
  } as InputSources;
}
const keys = (s: StepInputs[]) => s.map((x) => x.key);
const changed = (a: StepInputs[], b: StepInputs[]) => a.map((x, i) => (x.key === b[i]?.key ? 'same' : 'changed'));

test('the same sources give the same keys, whatever the work directory', () => {
  const a = computeStepInputs(sources());
  const b = computeStepInputs(sources({ workDir: '/tmp/kiln-build-2', env: { ...sources().env, TARGET_ROOT: '/tmp/kiln-build-2/mnt' } }));
  expect(keys(a)).toEqual(keys(b));
  expect(a.map((s) => s.step)).toEqual(['root', 'install', 'finalise']);
  expect(Object.keys(a[0]?.inputs ?? {})).not.toContain('env TARGET_ROOT');
});

test('an install.d hook change invalidates install and finalise, not root, and says which hook', () => {
  const a = computeStepInputs(sources());
  fs.writeFileSync(path.join(dir, 'install.d', '50-foo'), '#!/bin/sh\necho "$FOO_COLOUR" changed\n', { mode: 0o755 });
  try {
    const b = computeStepInputs(sources());
    expect(changed(a, b)).toEqual(['same', 'changed', 'changed']);
    expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['one/install.d/50-foo changed']);
    expect(explainChange(a[2]?.inputs ?? {}, b[2]?.inputs ?? {})).toEqual(['follows install, which changed']);
  } finally {
    fs.writeFileSync(path.join(dir, 'install.d', '50-foo'), '#!/bin/sh\necho "$FOO_COLOUR"\n', { mode: 0o755 });
  }
});

test('a post-install.d hook counts in finalise: the install step (the packages) stays, so a late edit restores the installed tree', () => {
  const late = path.join(dir, 'post-install.d', '99-late');
  fs.mkdirSync(path.dirname(late), { recursive: true });
  fs.writeFileSync(late, '#!/bin/sh\necho "$LATE_MODE" edition 1\n', { mode: 0o755 });
  const withLate = { ...plan, phases: [...plan.phases, phase('post-install.d', ['99-late'])] } as BuildPlan;
  try {
    const a = computeStepInputs(sources({ plan: withLate }));
    fs.writeFileSync(late, '#!/bin/sh\necho "$LATE_MODE" edition 2\n', { mode: 0o755 });
    const b = computeStepInputs(sources({ plan: withLate }));
    expect(changed(a, b)).toEqual(['same', 'same', 'changed']);
    expect(explainChange(a[2]?.inputs ?? {}, b[2]?.inputs ?? {})).toEqual(['one/post-install.d/99-late changed']);
    // Its variables and its packages count there too.
    const c = computeStepInputs(sources({ plan: withLate, env: { ...sources().env, LATE_MODE: 'x' } }));
    expect(changed(b, c)).toEqual(['same', 'same', 'changed']);
    const d = computeStepInputs(sources({ plan: withLate, packages: { ...sources().packages, 'post-install.d': { install: ['cowsay'], uninstall: [] } } }));
    expect(changed(b, d)).toEqual(['same', 'same', 'changed']);
    expect(explainChange(b[2]?.inputs ?? {}, d[2]?.inputs ?? {})).toEqual(['package list of post-install.d added: +cowsay']);
  } finally {
    fs.rmSync(path.dirname(late), { recursive: true, force: true });
  }
});

test('a data file beside a hook counts in its phase; a mode change counts', () => {
  const a = computeStepInputs(sources());
  fs.chmodSync(path.join(dir, 'install.d', 'foo.conf'), 0o755);
  try {
    const b = computeStepInputs(sources());
    expect(changed(a, b)).toEqual(['same', 'changed', 'changed']);
    expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['one/install.d/foo.conf changed']);
  } finally {
    fs.chmodSync(path.join(dir, 'install.d', 'foo.conf'), 0o644);
  }
});

test('an environment variable counts from the step whose hook reads it; its value is not stored', () => {
  const a = computeStepInputs(sources());
  const b = computeStepInputs(sources({ env: { ...sources().env, BAR_MODE: 'slow' } }));
  expect(changed(a, b)).toEqual(['same', 'same', 'changed']);
  expect(explainChange(a[2]?.inputs ?? {}, b[2]?.inputs ?? {})).toEqual(['environment BAR_MODE changed']);
  expect(JSON.stringify(b)).not.toContain('slow');
  const c = computeStepInputs(sources({ env: { ...sources().env, FOO_COLOUR: 'blue', UNREAD: 'y', PATH: '/bin' } }));
  expect(changed(a, c)).toEqual(['same', 'changed', 'changed']);
  expect(explainChange(a[1]?.inputs ?? {}, c[1]?.inputs ?? {})).toEqual(['environment FOO_COLOUR changed']);
});

test('the package list counts in install, with what was added and removed', () => {
  const a = computeStepInputs(sources());
  const b = computeStepInputs(sources({ packages: { ...sources().packages, 'install.d': { install: ['nano'], uninstall: [] } } }));
  expect(changed(a, b)).toEqual(['same', 'changed', 'changed']);
  expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['package list of install.d changed: +nano -vim']);
  const c = computeStepInputs(sources({ extraPackages: ['curl'] }));
  expect(changed(a, c)).toEqual(['same', 'changed', 'changed']);
});

test('cleanup.d, the README and disk.yaml are not inputs; environment.d and kiln itself invalidate everything', () => {
  const a = computeStepInputs(sources());
  fs.writeFileSync(path.join(dir, 'cleanup.d', '99-late'), '#!/bin/sh\necho later\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'README.md'), '# edited\n');
  fs.writeFileSync(path.join(dir, 'disk.yaml'), 'bootloader: grub\nlayout: efi\n');
  expect(keys(computeStepInputs(sources()))).toEqual(keys(a));
  fs.writeFileSync(path.join(dir, 'environment.d', '10-env'), 'export DERIVED=2\n');
  try {
    const b = computeStepInputs(sources());
    expect(changed(a, b)).toEqual(['changed', 'changed', 'changed']);
    expect(explainChange(a[0]?.inputs ?? {}, b[0]?.inputs ?? {})).toEqual(['one/environment.d/10-env changed']);
  } finally {
    fs.writeFileSync(path.join(dir, 'environment.d', '10-env'), 'export DERIVED=1\n');
  }
  expect(changed(a, computeStepInputs(sources({ kiln: 'k2' })))).toEqual(['changed', 'changed', 'changed']);
  expect(explainChange(a[0]?.inputs ?? {}, computeStepInputs(sources({ release: 'trixie' }))[0]?.inputs ?? {})).toEqual(['release changed (bookworm → trixie)']);
});

test('a step with nothing to run is empty; block-device.d hooks make finalise uncacheable', () => {
  const bare = { ...plan, phases: plan.phases.filter((p) => p.name === 'install.d') } as BuildPlan;
  const s = computeStepInputs(sources({ plan: bare, packages: { 'pre-install.d': none, 'install.d': none, 'post-install.d': none } }));
  expect(s.map((x) => x.empty)).toEqual([true, false, true]);
  const dev = { ...plan, phases: [...plan.phases.filter((p) => p.name !== 'block-device.d'), phase('block-device.d', ['10-dev'])] } as BuildPlan;
  expect(computeStepInputs(sources({ plan: dev }))[2]?.uncacheable).toBe('block-device.d hooks act on the host');
});

test('explanations for added, removed and renamed inputs', () => {
  expect(explainChange({ 'one/install.d/50-a': 'x', 'env A': '1' }, { 'one/install.d/50-b': 'y', flavours: 'one two' })).toEqual([
    'one/install.d/50-b added',
    'flavours changed: +one +two',
    'one/install.d/50-a removed',
    'environment A unset',
  ]);
});

describe('host inputs', () => {
  const hostDir = path.join(root, 'host');
  fs.mkdirSync(path.join(hostDir, 'conf.d'), { recursive: true });
  const conf = path.join(hostDir, 'apt.conf');
  fs.writeFileSync(conf, 'Acquire::Retries "3";\n');
  fs.writeFileSync(path.join(hostDir, 'conf.d', 'a'), 'one\n');
  const reads = { ...plan, phases: [...plan.phases.filter((p) => p.name !== 'install.d'), phase('install.d', ['50-foo', '60-conf'])] } as BuildPlan;
  fs.writeFileSync(path.join(dir, 'install.d', '60-conf'), '#!/bin/sh\ncp "$MY_CONF" /etc/apt/apt.conf; ls "$MY_DIR" "$IMAGE_NAME" "$MY_TOP"\n', { mode: 0o755 });
  afterAll(() => fs.rmSync(path.join(dir, 'install.d', '60-conf')));
  const env = { ...sources().env, MY_CONF: conf, MY_DIR: path.join(hostDir, 'conf.d'), MY_TOP: '/etc', IMAGE_NAME: conf };
  const withHost = (over: Partial<InputSources> = {}) => computeStepInputs(sources({ plan: reads, env, ...over }));

  test('a host file or directory a variable names counts by its content, in the step whose hook reads the variable', () => {
    const a = withHost();
    expect(Object.keys(a[1]?.inputs ?? {})).toEqual(expect.arrayContaining(['env MY_CONF', 'file MY_CONF', 'file MY_DIR']));
    // kiln's own paths and whole system directories are not read as files.
    expect(Object.keys(a[1]?.inputs ?? {})).not.toEqual(expect.arrayContaining(['file IMAGE_NAME']));
    expect(Object.keys(a[1]?.inputs ?? {})).not.toContain('file MY_TOP');
    fs.writeFileSync(conf, 'Acquire::Retries "5";\n');
    const b = withHost();
    expect(changed(a, b)).toEqual(['same', 'changed', 'changed']);
    expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['the host file named by MY_CONF changed']);
    fs.writeFileSync(path.join(hostDir, 'conf.d', 'b'), 'two\n');
    const c = withHost();
    expect(explainChange(b[1]?.inputs ?? {}, c[1]?.inputs ?? {})).toEqual(['the host file named by MY_DIR changed']);
  });

  test('what extra-data.d produced counts in install, and is named when it changes', () => {
    const a = withHost({ extraData: { outputs: { 'extra-data.d output: local-config/authorized_keys': 'k1' } } });
    const b = withHost({ extraData: { outputs: { 'extra-data.d output: local-config/authorized_keys': 'k2', 'extra-data.d output: /etc/apt/apt.conf': 'c1' } } });
    expect(changed(a, b)).toEqual(['same', 'changed', 'changed']);
    expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['extra-data.d output changed: local-config/authorized_keys', 'extra-data.d output added: /etc/apt/apt.conf']);
    expect(explainChange(b[1]?.inputs ?? {}, a[1]?.inputs ?? {})).toEqual(['extra-data.d output changed: local-config/authorized_keys', 'extra-data.d output gone: /etc/apt/apt.conf']);
  });

  test('when extra-data.d could not run apart from the tree, install and finalise are uncacheable', () => {
    const s = withHost({ extraData: { failed: '[x] extra-data.d/10-y exited 1' } });
    expect(s.map((x) => x.uncacheable === undefined)).toEqual([true, false, false]);
    expect(s[1]?.uncacheable).toMatch(/extra-data\.d could not run apart from the tree.*10-y exited 1/);
  });
});

test('the architecture and the release key every step (a tree of another architecture is never restored)', () => {
  const a = computeStepInputs(sources());
  const b = computeStepInputs(sources({ arch: 'arm64' }));
  expect(changed(a, b)).toEqual(['changed', 'changed', 'changed']);
  expect(explainChange(a[0]?.inputs ?? {}, b[0]?.inputs ?? {})).toEqual(['arch changed (amd64 → arm64)']);
  expect(explainChange(a[1]?.inputs ?? {}, b[1]?.inputs ?? {})).toEqual(['follows root, which changed']);
  const c = computeStepInputs(sources({ release: 'trixie' }));
  expect(changed(a, c)).toEqual(['changed', 'changed', 'changed']);
  expect(explainChange(a[0]?.inputs ?? {}, c[0]?.inputs ?? {})).toEqual(['release changed (bookworm → trixie)']);
});
