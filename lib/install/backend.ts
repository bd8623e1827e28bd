/**
 * Where an install runs. kiln has one backend, local QEMU (lib/install/vm.ts). The seed's OpenStack backend
 * (Nova boots the installer) fits the same contract, so the Glance work can add it without touching the
 * rest of `kiln install`:
 *
 *   installer kernel + initrd   → Glance images (kernel/ramdisk, or the ISO with hw_cdrom_bus) — lib/publish
 *   automation file             → appended to that initrd before the upload (as here), or a config drive
 *   blank disk of --size        → the flavor's root disk, or a volume of --size
 *   console / installer log     → GET /servers/{id}/action os-getConsoleOutput, polled (no UDP from a cloud)
 *   activity counters           → GET /servers/{id}/diagnostics (disk and NIC byte counters) + console length
 *   powered off = done          → server status SHUTOFF
 *   the installed disk          → POST /servers/{id}/action createImage (a snapshot in Glance), downloaded
 *                                 for the second stage, or booted in place and customised over SSH
 * The outcome is the same InstallOutcome: stages, samples, a stall after --inactivity, exit 1 and a bundle.
 */
import type { Scope } from '../scope/index.js';
import { runInstaller, type InstallOutcome, type InstallVmOptions } from './vm.js';

export interface InstallBackend {
  readonly name: 'qemu' | 'openstack';
  /** Boots the installer on a blank disk and watches it until it powers off, stalls or times out. */
  install(scope: Scope, request: InstallVmOptions): Promise<InstallOutcome>;
}

export const qemuBackend: InstallBackend = { name: 'qemu', install: runInstaller };
