/**
 * diskimage-builder 3.13's elements/package-installs/tests/test_package_squash.py, case by case: its
 * collect_data over one element's package-installs data is kiln's parsePackageInstalls + batchPackages.
 * Upstream compares (package, element) pairs; kiln maps names through the element's pkg-map before batching,
 * so the names alone are compared, in order, and every other phase and list must be empty.
 */
import { KilnError } from '../../../lib/errors/index.js';
import { thrown } from '../helpers/errors.js';
import { batchPackages, parsePackageInstalls, type PackagePhase } from '../../../lib/packages/installs.js';

type Env = Record<string, string | undefined>;

function collect(objs: Record<string, unknown>, env: Env, arch = env.ARCH ?? 'amd64') {
  return batchPackages(parsePackageInstalls(JSON.stringify(objs), 'package-installs.json', 'test_element'), arch, env);
}

function installsOnly(install: string[], phase: PackagePhase = 'install.d') {
  const empty = { install: [], uninstall: [] };
  return { 'pre-install.d': empty, 'install.d': empty, 'post-install.d': empty, [phase]: { install, uninstall: [] } };
}

describe('package-installs-squash (diskimage-builder test_package_squash.py)', () => {
  test('test_simple: a basic package install', () => {
    expect(collect({ test_package: '' }, {})).toEqual(installsOnly(['test_package']));
  });

  test('test_arch: the arch and not-arch flags', () => {
    const objs = { test_package: '', test_arm64_package: { arch: 'arm64' }, do_not_install: { 'not-arch': 'arm64' } };
    expect(collect(objs, { ARCH: 'arm64' })).toEqual(installsOnly(['test_package', 'test_arm64_package']));
  });

  const kernelObjs = {
    'linux-image-generic': [
      { 'not-arch': 'arm64', when: 'DIB_UBUNTU_KERNEL = linux-image-generic' },
      { arch: 'arm64', when: ['DIB_RELEASE != xenial', 'DIB_UBUNTU_KERNEL = linux-image-generic'] },
    ],
    'linux-generic-hwe-16.04': { arch: 'arm64', when: ['DIB_RELEASE = xenial', 'DIB_UBUNTU_KERNEL = linux-image-generic'] },
  };
  const kernelFor = (arch: string, release: string) => collect(kernelObjs, { ARCH: arch, DIB_UBUNTU_KERNEL: 'linux-image-generic', DIB_RELEASE: release });

  test('test_param_list_x86', () => {
    expect(kernelFor('x86_64', 'focal')).toEqual(installsOnly(['linux-image-generic']));
  });

  test('test_param_list_arm64_xenial', () => {
    expect(kernelFor('arm64', 'xenial')).toEqual(installsOnly(['linux-generic-hwe-16.04']));
  });

  test('test_param_list_arm64_focal', () => {
    expect(kernelFor('arm64', 'focal')).toEqual(installsOnly(['linux-image-generic']));
  });

  test('test_skip_when: the when flag (= and !=)', () => {
    const objs = {
      skipped_package: { when: 'DIB_FEATURE=0' },
      not_skipped_package: { when: 'DIB_FEATURE=1' },
      not_equal_package: { when: 'DIB_FEATURE!=0' },
      not_equal_skipped_package: { when: 'DIB_FEATURE!=1' },
    };
    expect(collect(objs, { DIB_FEATURE: '1' })).toEqual(installsOnly(['not_skipped_package', 'not_equal_package']));
  });

  test('test_skip_no_var: a when on a variable that is not set is an error (exit 2), naming the file and the variable', () => {
    const e = thrown(() => collect({ package: { when: 'MISSING_VAR=1' } }, {}));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('[test_element] package-installs.json: package: when "MISSING_VAR=1": the variable MISSING_VAR is not set');
  });

  test('test_skip_when_list: a list of when statements must all hold', () => {
    const objs = {
      not_skipped_package: { when: ['DIB_A_FEATURE=1', 'DIB_B_FEATURE=1', 'DIB_C_FEATURE=1'] },
      skipped_package: { when: ['DIB_A_FEATURE=1', 'DIB_B_FEATURE=0', 'DIB_C_FEATURE=1'] },
    };
    expect(collect(objs, { DIB_A_FEATURE: '1', DIB_B_FEATURE: '1', DIB_C_FEATURE: '1' })).toEqual(installsOnly(['not_skipped_package']));
  });
});
