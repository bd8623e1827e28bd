/**
 * first-boot.d: the hooks of every flavour are installed into the image with a oneshot systemd unit
 * that runs them once, in run-parts order, before logins are allowed. Their output goes to the console
 * and to /var/log/kiln-first-boot.log; /var/lib/kiln/first-boot.done makes the unit run exactly once
 * (it is written before the hooks run, so a hook that reboots the machine is not run again).
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../errors/index.js';
import type { PlannedPhase } from '../flavours/types.js';
import { existsInTree, hostPath, writeInTree } from '../rootfs/paths.js';
import { SHELL_HOOK_ORDER } from '../flavours/phases.js';

export const FIRST_BOOT_DIR = 'usr/lib/kiln/first-boot.d';
const RUNNER = 'usr/lib/kiln/first-boot';
const UNIT = 'etc/systemd/system/kiln-first-boot.service';

const RUNNER_SCRIPT = `#!/bin/sh
# kiln: runs the image's first-boot.d hooks once, in run-parts order.
set -u
mkdir -p /var/lib/kiln
[ -e /var/lib/kiln/first-boot.done ] && exit 0
date -u +%FT%TZ > /var/lib/kiln/first-boot.done
log=/var/log/kiln-first-boot.log
status=0
for name in $(ls /${FIRST_BOOT_DIR} | ${SHELL_HOOK_ORDER}); do
  echo "kiln-first-boot: running $name" | tee -a "$log"
  { /${FIRST_BOOT_DIR}/"$name" 2>&1; echo $? > /run/kiln-first-boot.rc; } | tee -a "$log"
  rc=$(cat /run/kiln-first-boot.rc)
  [ "$rc" = 0 ] || { status=1; echo "kiln-first-boot: $name exited $rc" | tee -a "$log"; }
done
echo "kiln-first-boot: done (status $status)" | tee -a "$log"
exit $status
`;

const UNIT_FILE = `[Unit]
Description=kiln first-boot hooks
After=local-fs.target
Before=systemd-user-sessions.service getty.target ssh.service
ConditionPathExists=!/var/lib/kiln/first-boot.done

[Service]
Type=oneshot
ExecStart=/${RUNNER}
StandardOutput=journal+console
StandardError=journal+console
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`;

export function installFirstBoot(root: string, phase: PlannedPhase, stagedDir: string): void {
  if (phase.hooks.length === 0) return;
  if (!existsInTree(root, '/lib/systemd/systemd') && !existsInTree(root, '/usr/lib/systemd/systemd')) {
    const names = phase.hooks.map((h) => `[${h.flavour}] first-boot.d/${h.name}`).join(', ');
    throw invalid(`${names}: first-boot.d needs systemd in the image, and this tree has none`);
  }
  // Every path resolved inside the tree: an image whose /etc or /usr is a link never sends these to the host.
  for (const h of phase.hooks) writeInTree(root, `${FIRST_BOOT_DIR}/${h.name}`, fs.readFileSync(path.join(stagedDir, 'first-boot.d', h.name)), 0o755);
  writeInTree(root, RUNNER, RUNNER_SCRIPT, 0o755);
  writeInTree(root, UNIT, UNIT_FILE);
  const wants = hostPath(root, 'etc/systemd/system/multi-user.target.wants');
  fs.mkdirSync(wants, { recursive: true });
  fs.rmSync(path.join(wants, 'kiln-first-boot.service'), { force: true });
  fs.symlinkSync(`/${UNIT}`, path.join(wants, 'kiln-first-boot.service'));
}
