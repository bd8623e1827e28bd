import { chooseImageSize, computeImageSize, computeRootSize, minimumImageSize, MiB, roundUpMiB } from '../../../lib/disk/size.js';
import { isKilnError } from '../../../lib/errors/index.js';

describe('computeRootSize: (bytes + entries × 2 KiB) × 1.15 + 384 MiB, rounded up to MiB', () => {
  test.each([
    // bytes, entries, expected MiB
    [0, 0, 384],
    [100 * MiB, 0, 384 + 115],
    [711_308_004, 16_321, 945 + 256],
    [2 * 1024 * MiB, 50_000, Math.ceil(((2 * 1024 * MiB + 50_000 * 2048) * 1.15 + 384 * MiB) / MiB)],
  ])('%d bytes, %d entries → %d MiB', (bytes, entries, mib) => {
    expect(computeRootSize({ bytes, entries })).toBe(mib * MiB);
  });
});

describe('computeImageSize adds the layout overhead', () => {
  test.each([
    ['mbr', 1],
    ['efi', 3 + 128],
  ] as const)('%s adds %d MiB', (layout, extra) => {
    const tree = { bytes: 500 * MiB, entries: 10_000 };
    expect(computeImageSize(tree, layout)).toBe(computeRootSize(tree) + extra * MiB);
  });
  test('always whole MiB', () => {
    for (const bytes of [1, 12345, 999_999_999]) expect(computeImageSize({ bytes, entries: 7 }, 'efi') % MiB).toBe(0);
  });
});

describe('chooseImageSize', () => {
  const tree = { bytes: 700 * MiB, entries: 16_000 };
  test('computed when not given', () => {
    expect(chooseImageSize(tree, 'mbr', undefined)).toBe(computeImageSize(tree, 'mbr'));
  });
  test('an explicit size is rounded up to MiB', () => {
    expect(chooseImageSize(tree, 'mbr', 2 * 1024 * MiB + 1)).toBe(2 * 1024 * MiB + MiB);
  });
  test.each([[100 * MiB], [700 * MiB], [minimumImageSize(tree, 'mbr') - 1]])('%d bytes is too small: an invalid-input error that says what is needed', (size) => {
    let err: unknown;
    try {
      chooseImageSize(tree, 'mbr', size);
    } catch (e) {
      err = e;
    }
    expect(isKilnError(err) && err.kind === 'invalid').toBe(true);
    expect((err as Error).message).toMatch(/smaller than the tree needs \(at least \d+ MiB\)/);
  });
  test('the minimum itself is accepted', () => {
    expect(chooseImageSize(tree, 'efi', minimumImageSize(tree, 'efi'))).toBe(minimumImageSize(tree, 'efi'));
  });
  test('roundUpMiB', () => {
    expect([0, 1, MiB, MiB + 1].map(roundUpMiB)).toEqual([0, MiB, MiB, 2 * MiB]);
  });
});
