/** The boot report for people (a table) and for machines (JSON). Pure. */
import type { BootReport, Milestone } from './types.js';

const LABELS: Record<Milestone, string> = {
  firmware: 'firmware / GRUB',
  kernel: 'kernel started',
  userspace: 'userspace (/init)',
  systemd: 'systemd',
  login: 'login prompt',
  expect: 'expected line',
  ssh: 'ssh',
};

export function formatSeconds(seconds: number | undefined): string {
  return seconds === undefined ? '—' : seconds.toFixed(1);
}

export function formatReport(report: BootReport): string {
  const head = `kiln boot: ${report.ok ? 'ok' : 'FAILED'}: ${report.message}`;
  const rows = report.milestones.map((m) => [LABELS[m.name], formatSeconds(m.seconds)] as const);
  const width = Math.max('milestone'.length, ...rows.map(([label]) => label.length));
  const secWidth = Math.max('seconds'.length, ...rows.map(([, s]) => s.length));
  const lines = [head, `${'milestone'.padEnd(width)}  ${'seconds'.padStart(secWidth)}`];
  for (const [label, s] of rows) lines.push(`${label.padEnd(width)}  ${s.padStart(secWidth)}`);
  lines.push(`accelerator: ${report.accel} (${report.accelReason})`);
  if (report.ssh) lines.push(`ssh: \`${report.ssh.command}\` exited ${report.ssh.exitCode}`);
  if (report.fatalLine !== undefined) lines.push(`console: ${report.fatalLine}`);
  lines.push(`console log: ${report.consoleLog}`);
  return lines.join('\n');
}

/** The JSON form: milestones as a name → seconds (or null) map, in boot order. */
export function reportJson(report: BootReport): Record<string, unknown> {
  const milestones: Record<string, number | null> = {};
  for (const m of report.milestones) milestones[m.name] = m.seconds === undefined ? null : Math.round(m.seconds * 1000) / 1000;
  return {
    ok: report.ok,
    outcome: report.outcome,
    message: report.message,
    accel: report.accel,
    accelReason: report.accelReason,
    seconds: Math.round(report.seconds * 1000) / 1000,
    milestones,
    consoleLog: report.consoleLog,
    sshPort: report.sshPort,
    ...(report.ssh ? { ssh: report.ssh } : {}),
    ...(report.fatalLine !== undefined ? { fatalLine: report.fatalLine } : {}),
  };
}
