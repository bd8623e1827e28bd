import { chooseAccel, decideAccel } from '../../../lib/boot/accel.js';

describe('decideAccel', () => {
  test.each([
    [{ kvmUsable: false }, 'tcg', 'no usable /dev/kvm'],
    [{ kvmUsable: true }, 'tcg', 'KVM probe did not finish in 3 s'],
    // This machine: SeaBIOS took 4.6 s under KVM and 0.34 s under TCG.
    [{ kvmUsable: true, kvmMs: 2900, tcgMs: 340 }, 'tcg', 'KVM probe 2.90 s, TCG 0.34 s: KVM is slow here'],
    [{ kvmUsable: true, kvmMs: 120, tcgMs: 350 }, 'kvm', 'KVM probe 0.12 s, TCG 0.35 s'],
    [{ kvmUsable: true, kvmMs: 900 }, 'kvm', 'KVM probe 0.90 s'],
    [{ kvmUsable: true, kvmMs: 1500, tcgMs: 900 }, 'kvm', 'KVM probe 1.50 s, TCG 0.90 s'],
    [{ kvmUsable: true, kvmMs: 1500, tcgMs: 500 }, 'tcg', 'KVM probe 1.50 s, TCG 0.50 s: KVM is slow here'],
  ])('%j → %s', (probe, accel, reason) => {
    expect(decideAccel(probe)).toEqual({ accel, reason });
  });
});

test('a forced accelerator is not probed', async () => {
  await expect(chooseAccel('kvm')).resolves.toEqual({ accel: 'kvm', reason: 'forced' });
  await expect(chooseAccel('tcg')).resolves.toEqual({ accel: 'tcg', reason: 'forced' });
});
