/**
 * Planning a ramdisk build as ramdisk-image-create does: the ramdisk element is added (ramdisk-base, or
 * --ramdisk-element / RAMDISK_ELEMENT), the plan says why, and a plan that cannot make a ramdisk (no such
 * element, nothing installs busybox or a kernel) is refused with exit 2 before anything runs.
 * Over kiln's own flavours plus fixtures on ELEMENTS_PATH; no root, nothing built.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveConfig, type CliValue } from '../../../lib/config/config.js';
import { KilnError } from '../../../lib/errors/index.js';
import { makeBuildPlan, type BuildKind } from '../../../lib/plan/build-plan.js';
import { renderPlan } from '../../../lib/plan/render.js';
import { packageSources, ramdiskNeeds, unmetNeedsError } from '../../../lib/plan/ramdisk-needs.js';
import { makeTree } from '../helpers/fixtures.js';

const { dirs } = makeTree({
  fx: {
    'my-element': { hooks: { 'install.d': { '50-mine': 'exec' } } },
    'my-ramdisk': {},
    'rd-with-busybox': {},
    'uses-base': { deps: ['ramdisk-base'] },
  },
});
const fx = dirs.fx as string;
fs.writeFileSync(path.join(fx, 'rd-with-busybox', 'package-installs.yaml'), 'busybox:\n');
fs.writeFileSync(path.join(fx, 'my-ramdisk', 'package-installs.yaml'), 'busybox-static:\n  uninstall: true\nbusybox:\n  arch: arm64\n');

function plan(named: string[], opts: { cli?: Record<string, CliValue>; env?: Record<string, string>; kind?: BuildKind } = {}) {
  const config = resolveConfig(new Map(Object.entries(opts.cli ?? {})), { ELEMENTS_PATH: fx, ARCH: 'amd64', ...opts.env });
  return makeBuildPlan(config, named, opts.kind ?? 'ramdisk');
}

function refusal(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('not refused');
}

test('the default operating system: debian (cloud-init) for a disk, debian-nocloud for a ramdisk, --default-os for both', () => {
  expect(plan(['my-element'], { kind: 'disk' }).defaultOsAdded).toBe('debian');
  expect(plan(['my-element']).defaultOsAdded).toBe('debian-nocloud');
  expect(plan(['my-element'], { kind: 'disk', cli: { defaultOs: 'debian-nocloud' } }).defaultOsAdded).toBe('debian-nocloud');
  expect(plan(['my-element'], { cli: { defaultOs: 'debian' } }).defaultOsAdded).toBe('debian');
});

describe('ramdisk-image-create adds its ramdisk element', () => {
  test('ramdisk-base by default, after the named flavours and the default OS, and the plan says why and what it gives', () => {
    const p = plan(['my-element']);
    // The default OS of a ramdisk is debian-nocloud: cloud-init has no place in a busybox ramdisk.
    expect(p.flavours.map((f) => f.name)).toEqual(['my-element', 'debian-nocloud', 'debian-minimal', 'serial-console', 'ramdisk-base']);
    expect(p.flavours.at(-1)?.why).toBe('ramdisk element, added by ramdisk-image-create (--ramdisk-element or RAMDISK_ELEMENT chooses another)');
    expect(p.ramdisk).toEqual({
      element: 'ramdisk-base',
      needs: [
        { need: 'busybox', pkg: 'busybox-static', from: "ramdisk-base's package-installs.yaml" },
        { need: 'kernel', pkg: 'linux-image-amd64', from: "debian-minimal's package-installs.yaml" },
      ],
    });
    const text = renderPlan(p);
    expect(text).toMatch(/^ {2}ramdisk-base +ramdisk element, added by ramdisk-image-create/m);
    expect(text).toContain("Ramdisk element: ramdisk-base (the tree's busybox and kernel: busybox-static from ramdisk-base's package-installs.yaml, linux-image-amd64 from debian-minimal's package-installs.yaml)");
  });

  test('a disk build adds none', () => {
    const p = plan(['my-element'], { kind: 'disk' });
    expect(p.flavours.map((f) => f.name)).not.toContain('ramdisk-base');
    expect(p.ramdisk).toBeUndefined();
  });

  test('a flavour that depends on it keeps it as its dependency (deploy\'s plan is unchanged)', () => {
    const p = plan(['deploy']);
    expect(p.flavours.find((f) => f.name === 'ramdisk-base')?.why).toBe('dependency of deploy');
    // The same flavours as a disk build of deploy with the ramdisk's default operating system.
    expect(p.flavours.map((f) => f.name)).toEqual(plan(['deploy'], { kind: 'disk', cli: { defaultOs: 'debian-nocloud' } }).flavours.map((f) => f.name));
  });

  test('--ramdisk-element or RAMDISK_ELEMENT choose another; the flag wins; empty means the default', () => {
    expect(plan(['my-element'], { cli: { ramdiskElement: 'rd-with-busybox' } }).flavours.at(-1)?.name).toBe('rd-with-busybox');
    expect(plan(['my-element'], { env: { RAMDISK_ELEMENT: 'uses-base' } }).flavours.slice(-2).map((f) => f.name)).toEqual(['uses-base', 'ramdisk-base']);
    expect(plan(['my-element'], { cli: { ramdiskElement: 'rd-with-busybox' }, env: { RAMDISK_ELEMENT: 'uses-base' } }).ramdisk?.element).toBe('rd-with-busybox');
    expect(plan(['my-element'], { env: { RAMDISK_ELEMENT: '' } }).ramdisk?.element).toBe('ramdisk-base');
    expect(plan(['my-element'], { cli: { ramdiskElement: 'rd-with-busybox' } }).ramdisk?.needs[0]).toEqual({ need: 'busybox', pkg: 'busybox', from: "rd-with-busybox's package-installs.yaml" });
  });
});

describe('a plan that cannot make a ramdisk is refused before anything runs (exit 2)', () => {
  test('a ramdisk element that is not a flavour', () => {
    const e = refusal(() => plan(['my-element'], { env: { RAMDISK_ELEMENT: 'ramdisk' } }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^ramdisk element "ramdisk" \(--ramdisk-element \/ RAMDISK_ELEMENT\) is not a flavour; searched /);
  });

  test('a ramdisk element without busybox (a removal or another architecture\'s entry does not count)', () => {
    const e = refusal(() => plan(['my-element'], { cli: { ramdiskElement: 'my-ramdisk' } }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('this plan cannot make a ramdisk: nothing in it installs busybox (busybox-static), which the initramfs is built around');
    expect(e.hint).toBe('make ramdisk element "my-ramdisk" depend on ramdisk-base (element-deps), or list busybox-static in its package-installs.yaml');
  });

  test('-p busybox-static is enough', () => {
    expect(plan(['my-element'], { cli: { ramdiskElement: 'my-ramdisk', packages: ['busybox-static'] } }).ramdisk?.needs[0]).toEqual({ need: 'busybox', pkg: 'busybox-static', from: '-p' });
  });

  test('an operating system that installs no kernel (kiln\'s busybox test tree)', () => {
    const e = refusal(() => plan(['busybox', 'my-element']));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^this plan cannot make a ramdisk: nothing in it installs a kernel \(a linux-image-\* package for amd64\)/);
    expect(e.hint).toContain('"busybox" provides operating-system and installs none; debian-minimal installs linux-image-amd64');
  });

  test('an architecture debian-minimal installs no kernel for', () => {
    expect(refusal(() => plan(['my-element'], { env: { ARCH: 'riscv64' } })).message).toMatch(/installs a kernel \(a linux-image-\* package for riscv64\)/);
  });
});

describe('ramdiskNeeds (pure)', () => {
  test.each([
    [[], [], ['busybox', 'kernel']],
    [[{ from: 'a', packages: ['busybox', 'curl'] }], ['busybox@a'], ['kernel']],
    [[{ from: 'a', packages: ['linux-image-cloud-amd64'] }, { from: 'b', packages: ['busybox-static'] }, { from: 'c', packages: ['busybox'] }], ['busybox@b', 'kernel@a'], []],
    [[{ from: 'a', packages: ['busybox-syslogd', 'linux-headers-amd64', 'klibc-utils'] }], [], ['busybox', 'kernel']],
  ])('%j: met %j, unmet %j', (sources, met, unmet) => {
    const r = ramdiskNeeds(sources);
    expect(r.met.map((m) => `${m.need}@${m.from}`).sort()).toEqual(met);
    expect(r.unmet).toEqual(unmet);
  });

  test('both missing: one message naming both, one hint for each', () => {
    const e = unmetNeedsError(['busybox', 'kernel'], { ramdiskElement: 'x', operatingSystem: undefined, arch: 'arm64' });
    expect(e.message).toBe('this plan cannot make a ramdisk: nothing in it installs busybox (busybox-static), which the initramfs is built around; nor a kernel (a linux-image-* package for arm64), which becomes NAME.kernel and gives the initramfs its modules');
    expect(e.hint?.split('; ')).toHaveLength(2);
  });

  test('packageSources: rootfs.yaml include counts; -p last', () => {
    const dir = path.join(fx, 'with-rootfs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'rootfs.yaml'), 'include: [linux-image-amd64]\n');
    expect(packageSources([{ name: 'with-rootfs', files: { rootfs: path.join(dir, 'rootfs.yaml') } }], 'amd64', ['busybox'])).toEqual([
      { from: "with-rootfs's rootfs.yaml", packages: ['linux-image-amd64'] },
      { from: '-p', packages: ['busybox'] },
    ]);
  });
});
