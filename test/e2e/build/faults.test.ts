/**
 * Faults and signals on the tiny busybox tree: a hook failing in each phase, and SIGINT/SIGTERM/SIGKILL
 * while a hook runs in each phase (11 × 3). After each: the right exit code, the culprit named, nothing mounted or
 * left in /tmp, no partial output, and the previous output of the same name untouched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { expectNoLeaks, hostState, kiln, waitFor } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const PHASES = ['root.d', 'extra-data.d', 'pre-install.d', 'install.d', 'post-install.d', 'post-root.d', 'pre-finalise.d', 'finalise.d', 'cleanup.d'];
const FAULT = `#!/bin/sh
phase=$(basename "$(dirname "$0")")
if [ "\${KILN_FAULT_PHASE:-}" = "$phase" ]; then echo "fault injected in $phase"; exit 3; fi
if [ "\${KILN_SLEEP_PHASE:-}" = "$phase" ]; then echo KILN-TEST-SLEEPING; sleep 120; fi
exit 0
`;

const work = tempDir('e2e-faults');
const flavours = path.join(work, 'flavours');
const out = path.join(work, 'img');
const previous = 'the previous image\n';
const DISK_PHASES = ['block-device-size.d', 'block-device.d'];
writeFlavour(path.join(flavours, 'fault'), { hooks: Object.fromEntries([...PHASES, ...DISK_PHASES].map((p) => [p, { '50-fault': FAULT }])) });
// A disk flavour without packages (busybox has no package manager): it asks for a bootable disk.
writeFlavour(path.join(flavours, 'fakedisk'), {});
fs.writeFileSync(path.join(flavours, 'fakedisk', 'disk.yaml'), 'bootloader: grub\n');
const env = { ELEMENTS_PATH: flavours };
const args = ['build', '-t', 'tar', '-o', out, 'busybox', 'fault'];

beforeEach(() => fs.writeFileSync(`${out}.tar`, previous));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the busybox build itself succeeds', async () => {
  const before = hostState();
  const r = await kiln(args, { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(fs.readFileSync(`${out}.tar`).length).toBeGreaterThan(1_000_000);
  expectNoLeaks(before, work);
});

test.each(PHASES)('a hook failing in %s: exit 1, culprit named, nothing leaked, previous output untouched', async (phase) => {
  const before = hostState();
  const r = await kiln(args, { env: { ...env, KILN_FAULT_PHASE: phase } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`kiln: error: [fault] ${phase}/50-fault exited 3`);
  expect(r.stderr).toContain(`fault injected in ${phase}`);
  expectNoLeaks(before, work);
  expect(fs.readFileSync(`${out}.tar`, 'utf8')).toBe(previous);
});

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;

/** Runs a build that sleeps in a hook of `phase`, sends `signal` while it sleeps, and checks the aftermath. */
async function signalDuring(phase: string, signal: (typeof SIGNALS)[number], buildArgs: string[], previousFile: string): Promise<void> {
  const before = hostState();
  let sent = false;
  const r = await kiln(buildArgs, {
    env: { ...env, KILN_SLEEP_PHASE: phase },
    onStdout: (text, child) => {
      if (!sent && text.includes('KILN-TEST-SLEEPING')) {
        sent = true;
        child.kill(signal);
      }
    },
  });
  expect(sent).toBe(true);
  if (signal === 'SIGKILL') {
    expect(r.signal).toBe('SIGKILL');
    // The build inside the namespace notices its parent is gone and tears down.
    await waitFor(() => hostState().workDirs.length <= before.workDirs.length, 15_000);
  } else {
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`interrupted by ${signal}`);
  }
  expectNoLeaks(before, work);
  expect(fs.readFileSync(previousFile, 'utf8')).toBe(previous);
}

const SIGNAL_CASES = PHASES.flatMap((phase) => SIGNALS.map((signal) => [signal, phase] as const));
test.each(SIGNAL_CASES)('%s during %s: nothing leaked, previous output untouched', (signal, phase) => signalDuring(phase, signal, args, `${out}.tar`));

describe('disk builds', () => {
  const diskArgs = ['build', '-t', 'raw,qcow2', '-o', out, 'busybox', 'fault', 'fakedisk'];
  beforeEach(() => fs.writeFileSync(`${out}.raw`, previous));

  test.each(DISK_PHASES)('a hook failing in %s: exit 1, nothing leaked, no partial image', async (phase) => {
    const before = hostState();
    const r = await kiln(diskArgs, { env: { ...env, KILN_FAULT_PHASE: phase } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`kiln: error: [fault] ${phase}/50-fault exited 3`);
    expectNoLeaks(before, work);
    expect(fs.readFileSync(`${out}.raw`, 'utf8')).toBe(previous);
    expect(fs.existsSync(`${out}.qcow2`)).toBe(false);
  });

  test.each(DISK_PHASES.flatMap((phase) => SIGNALS.map((signal) => [signal, phase] as const)))('%s during %s: nothing leaked, no partial image', async (signal, phase) => {
    await signalDuring(phase, signal, diskArgs, `${out}.raw`);
    expect(fs.existsSync(`${out}.qcow2`)).toBe(false);
  });

  test('a failure while assembling the disk (no kernel, no GRUB in the tree): exit 1, nothing leaked, no partial image', async () => {
    const before = hostState();
    const r = await kiln(diskArgs, { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kiln: error: .*(kernel|grub)/i);
    expectNoLeaks(before, work);
    expect(fs.readFileSync(`${out}.raw`, 'utf8')).toBe(previous);
    expect(fs.existsSync(`${out}.qcow2`)).toBe(false);
  });
});
