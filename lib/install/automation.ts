/**
 * The automation file an operating system's own installer reads to run unattended (as Oz, virt-install
 * --unattended and libosinfo do it):
 *
 *   preseed      debian-installer (Debian; also Ubuntu's legacy installer)   preseed.cfg, appended to the initrd
 *   kickstart    Anaconda (Fedora, RHEL and rebuilds)                        ks.cfg, appended to the initrd
 *   autoinstall  subiquity (Ubuntu live server), cloud-init nocloud           user-data + meta-data on a CIDATA disk
 *
 * Every variant installs the SSH server, puts the given OpenSSH public keys in root's authorized_keys, leaves
 * root's password locked, creates no other account and powers the machine off when the install is done.
 *
 * Rendering and checking are pure and deterministic: the same choices give the same text. Every choice is
 * validated first; a bad one is bad input (exit 2) naming the option.
 */
import { AUTOMATION_FILENAMES, checkChoices, q, type Automation, type AutomationChoices } from './automation/choices.js';
import { checkAutoinstall, renderAutoinstall } from './automation/autoinstall.js';
import { checkKickstart, renderKickstart } from './automation/kickstart.js';
import { checkPreseed, renderPreseed } from './automation/preseed.js';

export * from './automation/choices.js';
export { checkAutoinstall, checkKickstart, checkPreseed };

/** Renders the installer's automation file, its kernel arguments and how it reaches the installer. */
export function renderAutomation(c: AutomationChoices): Automation {
  const k = checkChoices(c);
  switch (k.kind) {
    case 'preseed':
      return renderPreseed(k);
    case 'kickstart':
      return renderKickstart(k);
    case 'autoinstall':
      return renderAutoinstall(k);
  }
}

/** Problems found in a rendered file (empty when it is well formed); each names the file and, where it can, the line. */
export function checkAutomation(a: Automation): string[] {
  const problems: string[] = [];
  const expected = AUTOMATION_FILENAMES[a.kind];
  if (expected === undefined) return [`unknown kind of automation file ${q(String(a.kind))}`];
  if (a.filename !== expected) problems.push(`${a.filename}: a ${a.kind} file must be named ${expected}`);
  const wantInjection = a.kind === 'autoinstall' ? 'disk' : 'initrd';
  if (a.injection !== wantInjection) problems.push(`${a.filename}: a ${a.kind} file reaches the installer by ${wantInjection}, not ${a.injection}`);
  switch (a.kind) {
    case 'preseed':
      problems.push(...checkPreseed(a.filename, a.text));
      break;
    case 'kickstart':
      problems.push(...checkKickstart(a.filename, a.text));
      break;
    case 'autoinstall':
      problems.push(...checkAutoinstall(a.filename, a.text));
      if (a.extraFiles['meta-data'] === undefined) problems.push(`${a.filename}: meta-data is missing (the nocloud data source needs it)`);
      break;
  }
  return problems;
}
