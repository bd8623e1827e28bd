/**
 * KVM or TCG: detected, never assumed. /dev/kvm existing says little (on some hosts KVM is far slower
 * than emulation), so a probe times QEMU's own firmware (SeaBIOS, read through its debug port) from
 * power-on to "No bootable device" under each accelerator: well under a second where KVM works.
 * The answer is cached for the life of the process.
 */
import fs from 'node:fs';
import { startProcess } from '../exec/spawn.js';
import { QEMU } from './argv.js';
import type { Accel, AccelChoice } from './types.js';

export interface AccelDecision {
  readonly accel: Accel;
  readonly reason: string;
}

export interface ProbeResult {
  readonly kvmUsable: boolean;
  /** Milliseconds to the end of SeaBIOS under KVM; undefined when it did not get there in time. */
  readonly kvmMs?: number;
  readonly tcgMs?: number;
}

export const PROBE_CAP_MS = 3000;

/** KVM is chosen when its firmware run is quick in absolute terms or not much slower than TCG's. */
export function decideAccel(p: ProbeResult): AccelDecision {
  if (!p.kvmUsable) return { accel: 'tcg', reason: 'no usable /dev/kvm' };
  if (p.kvmMs === undefined) return { accel: 'tcg', reason: `KVM probe did not finish in ${PROBE_CAP_MS / 1000} s` };
  const kvm = `KVM probe ${(p.kvmMs / 1000).toFixed(2)} s`;
  const tcg = p.tcgMs === undefined ? '' : `, TCG ${(p.tcgMs / 1000).toFixed(2)} s`;
  const limit = Math.max(1000, 2 * (p.tcgMs ?? 0));
  return p.kvmMs <= limit ? { accel: 'kvm', reason: `${kvm}${tcg}` } : { accel: 'tcg', reason: `${kvm}${tcg}: KVM is slow here` };
}

export function probeArgv(accel: Accel): string[] {
  return [
    '-machine', 'q35', '-accel', accel, '-nodefaults', '-display', 'none', '-m', '64', '-no-reboot',
    '-chardev', 'stdio,id=dbg,signal=off', '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
  ];
}

/** Milliseconds until the firmware gives up looking for a boot device, or undefined after capMs. */
export async function timeFirmware(accel: Accel, capMs: number): Promise<number | undefined> {
  const started = Date.now();
  let done: (ms: number | undefined) => void = () => {};
  const result = new Promise<number | undefined>((resolve) => (done = resolve));
  const proc = startProcess(QEMU, probeArgv(accel), {
    partialLineMs: 50,
    onLine: (line, stream) => {
      if (stream === 'stdout' && /No bootable device|Booting from/.test(line)) done(Date.now() - started);
    },
  });
  const timer = setTimeout(() => done(undefined), capMs);
  void proc.exited.then(() => done(undefined));
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    await proc.stop(1000);
  }
}

export function kvmUsable(): boolean {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

let cached: Promise<AccelDecision> | undefined;

/** The accelerator to use: forced, or probed once per process. */
export function chooseAccel(choice: AccelChoice = 'auto'): Promise<AccelDecision> {
  switch (choice) {
    case 'kvm':
    case 'tcg':
      return Promise.resolve({ accel: choice, reason: 'forced' });
    case 'auto':
      cached ??= probeAccel();
      return cached;
  }
}

async function probeAccel(): Promise<AccelDecision> {
  if (!kvmUsable()) return decideAccel({ kvmUsable: false });
  const kvmMs = await timeFirmware('kvm', PROBE_CAP_MS);
  if (kvmMs === undefined) return decideAccel({ kvmUsable: true });
  const tcgMs = await timeFirmware('tcg', PROBE_CAP_MS);
  return decideAccel({ kvmUsable: true, kvmMs, ...(tcgMs === undefined ? {} : { tcgMs }) });
}
