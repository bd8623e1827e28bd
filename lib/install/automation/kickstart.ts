/** Anaconda's ks.cfg (Fedora, RHEL and rebuilds): rendered from the checked choices, and checked. */
import { AUTOMATION_FILENAMES, SSH_SERVER, type Automation, type CheckedChoices } from './choices.js';

/** How Anaconda names the disk: "vda" for /dev/vda, the whole path for /dev/disk/by-id/… and the like. */
function anacondaDrive(disk: string): string {
  const rest = disk.slice('/dev/'.length);
  return rest.includes('/') ? disk : rest;
}

export function renderKickstart(k: CheckedChoices): Automation {
  const drive = anacondaDrive(k.disk);
  const xlayout = k.keyboard.variant ? `${k.keyboard.layout} (${k.keyboard.variant})` : k.keyboard.layout;
  const lines: string[] = [
    `# Anaconda kickstart for release ${k.release}, rendered by kiln.`,
    '# Unattended: whole-disk install, root logs in by SSH key only (password locked), powers off when done.',
    'text',
    `lang ${k.locale}`,
    `keyboard --vckeymap=${k.keyboard.variant ? `${k.keyboard.layout}-${k.keyboard.variant}` : k.keyboard.layout} --xlayouts='${xlayout}'`,
    `timezone ${k.timezone} --utc`,
    `network --bootproto=dhcp --device=link --onboot=yes --activate --hostname=${k.hostname}`,
    `url --url=${k.mirror.url}`,
    '',
    '# root: password locked, login by SSH key',
    'rootpw --lock',
    ...k.sshKeys.map((key) => `sshkey --username=root "${key.line}"`),
    '',
    `# Partitioning: all of ${k.disk}, plain partitions`,
    `ignoredisk --only-use=${drive}`,
    'zerombr',
    `clearpart --all --initlabel --drives=${drive}`,
    'autopart --type=plain',
    `bootloader --location=mbr --boot-drive=${drive}`,
    '',
  ];
  if (k.log) lines.push(`logging --host=${k.log.host} --port=${k.log.port}`);
  lines.push(
    'services --enabled=sshd',
    'firstboot --disable',
    'skipx',
    'poweroff',
    '',
    '%packages',
    '@core',
    SSH_SERVER,
    ...k.packages.filter((p) => p !== '@core'),
    '%end',
  );
  const cmdline = [`inst.ks=file:/${AUTOMATION_FILENAMES.kickstart}`, 'inst.text', `inst.repo=${k.mirror.url}`];
  if (k.log) cmdline.push(`inst.syslog=${k.log.host}:${k.log.port}`);
  return { kind: 'kickstart', filename: AUTOMATION_FILENAMES.kickstart, text: `${lines.join('\n')}\n`, cmdline, injection: 'initrd', extraFiles: {} };
}
const KICKSTART_SECTIONS = ['%packages', '%pre', '%pre-install', '%post', '%onerror', '%traceback', '%addon', '%anaconda', '%include'];

/** The commands an unattended kickstart needs, and its sections closed by %end. */
export function checkKickstart(file: string, text: string): string[] {
  const problems: string[] = [];
  const commands = new Map<string, string[]>();
  let section: { name: string; line: number } | undefined;
  let packages = false;
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const word = t.split(/\s+/)[0] ?? '';
    if (word === '%end') {
      if (!section) problems.push(`${file}:${lineNo}: %end without a section`);
      section = undefined;
      return;
    }
    if (word.startsWith('%')) {
      if (section) problems.push(`${file}:${lineNo}: ${word} starts inside ${section.name} (line ${section.line}), which has no %end`);
      if (!KICKSTART_SECTIONS.includes(word)) problems.push(`${file}:${lineNo}: unknown section ${word}`);
      if (word === '%include') return;
      section = { name: word, line: lineNo };
      if (word === '%packages') packages = true;
      return;
    }
    if (section) return;
    commands.set(word, [...(commands.get(word) ?? []), t]);
  });
  if (section) problems.push(`${file}:${section.line}: ${section.name} has no %end`);
  for (const command of ['lang', 'keyboard', 'timezone', 'rootpw', 'bootloader', 'poweroff']) {
    if (!commands.has(command)) problems.push(`${file}: the ${command} command is missing`);
  }
  const rootpw = commands.get('rootpw');
  if (rootpw && !rootpw.every((l) => /(^|\s)--lock(\s|$)/.test(l))) problems.push(`${file}: rootpw must be --lock (root logs in by SSH key only)`);
  if (!['autopart', 'part', 'mount'].some((c) => commands.has(c))) problems.push(`${file}: no partitioning command (autopart, part or mount)`);
  for (const other of ['reboot', 'halt', 'shutdown']) {
    if (commands.has(other)) problems.push(`${file}: ${other} conflicts with poweroff`);
  }
  if (!packages) problems.push(`${file}: the %packages section is missing`);
  return problems;
}
