/** What a serial console line means: a milestone reached, a fatal condition, or nothing. Pure. */
import type { Fatal, Milestone } from './types.js';

export type LineEvent =
  | { readonly kind: 'milestone'; readonly milestone: Milestone }
  | { readonly kind: 'fatal'; readonly fatal: Fatal };

/** Removes terminal escape sequences (GRUB's menu, systemd's colours) and stray carriage returns. */
export function cleanLine(raw: string): string {
  return raw
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][A-Za-z0-9]/g, '')
    .replace(/\x1b[=>78cDEHM]/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '')
    .replace(/^.*\r(?=.)/, '')
    .replace(/\r/g, '');
}

const FATAL: readonly [RegExp, Fatal][] = [
  [/Kernel panic - not syncing/, 'kernel-panic'],
  [/^\s*grub rescue>/, 'grub-rescue'],
  [/You are in emergency mode|Give root password for maintenance|Cannot open access to console, the root account is locked/, 'emergency-mode'],
];

const MILESTONES: readonly [RegExp, Milestone][] = [
  [/Linux version \d/, 'kernel'],
  [/GRUB loading|GNU GRUB|Welcome to GRUB|Booting `|Loading Linux |SeaBIOS \(version|BdsDxe: |EFI stub: |Booting from (Hard Disk|ROM)/, 'firmware'],
  [/Run \S*init as init process/, 'userspace'],
  [/systemd\[1\]: |^\s*Welcome to (?!GRUB).+!\s*$|\[\s*OK\s*\] (Started|Reached|Finished|Mounted)/, 'systemd'],
  // The prompt has no newline of its own: console output that follows it at once (the kernel's or the journal's
  // "[   37.27] …", systemd's "[  OK  ] …") lands on the same line.
  [/^\s*[\w.-]+ login: ?(?:\s*$|\[\s*(?:\d+\.\d+|OK|FAILED|DEPEND|\**)\s*\] )/, 'login'],
];

/** Everything a (cleaned) line shows: the user's expectation, fatal conditions, milestones. */
export function recognizeLine(line: string, expect?: RegExp): LineEvent[] {
  const events: LineEvent[] = [];
  if (expect?.test(line)) events.push({ kind: 'milestone', milestone: 'expect' });
  for (const [re, fatal] of FATAL) if (re.test(line)) events.push({ kind: 'fatal', fatal });
  for (const [re, milestone] of MILESTONES) if (re.test(line)) events.push({ kind: 'milestone', milestone });
  return events;
}

/** Human words for a fatal condition. */
export function describeFatal(fatal: Fatal): string {
  switch (fatal) {
    case 'kernel-panic':
      return 'the kernel panicked';
    case 'grub-rescue':
      return 'GRUB fell into its rescue shell (it could not find its files)';
    case 'emergency-mode':
      return 'systemd entered emergency mode';
  }
}
