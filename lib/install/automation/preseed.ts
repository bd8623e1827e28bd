/** debian-installer's preseed.cfg (Debian; Ubuntu's legacy installer): rendered from the checked choices, and checked. */
import { AUTOMATION_FILENAMES, SSH_SERVER, SSHD_ROOT_BY_KEY, keysBase64, q, splitMirror, type Automation, type CheckedChoices } from './choices.js';

/** The X layout with its variant as debian-installer names keymaps: "us", "de(nodeadkeys)". */
function xkbKeymap(k: CheckedChoices): string {
  return k.keyboard.variant ? `${k.keyboard.layout}(${k.keyboard.variant})` : k.keyboard.layout;
}
export function renderPreseed(k: CheckedChoices): Automation {
  const m = splitMirror(k.mirror.url);
  const keymap = xkbKeymap(k);
  const d = (question: string, type: string, value: string): string => `d-i ${question} ${type}${value === '' ? '' : ` ${value}`}`;
  const lines: string[] = [
    `# debian-installer preseed for ${k.release}, rendered by kiln.`,
    '# Unattended: whole-disk install, root logs in by SSH key only (password locked), powers off when done.',
    '',
    '# Locale and keyboard',
    d('debian-installer/locale', 'string', k.locale),
    d('localechooser/supported-locales', 'multiselect', k.locale),
    d('keyboard-configuration/xkb-keymap', 'select', keymap),
    '',
    '# Network: DHCP on the first interface with a link',
    d('netcfg/enable', 'boolean', 'true'),
    d('netcfg/choose_interface', 'select', 'auto'),
    d('netcfg/disable_autoconfig', 'boolean', 'false'),
    d('netcfg/get_hostname', 'string', k.shortName),
    d('netcfg/get_domain', 'string', k.domain),
    d('netcfg/hostname', 'string', k.shortName),
    d('netcfg/wireless_wep', 'string', ''),
    d('hw-detect/load_firmware', 'boolean', 'false'),
    '',
    '# Package mirror',
    d('mirror/country', 'string', 'manual'),
    d('mirror/protocol', 'string', m.protocol),
    d(`mirror/${m.protocol}/hostname`, 'string', m.host),
    d(`mirror/${m.protocol}/directory`, 'string', m.directory),
    d(`mirror/${m.protocol}/proxy`, 'string', ''),
    d('mirror/suite', 'string', k.release),
    d('apt-setup/cdrom/set-first', 'boolean', 'false'),
  ];
  if (k.mirror.security !== undefined) {
    const s = splitMirror(k.mirror.security, '--security-mirror');
    lines.push(
      d('apt-setup/services-select', 'multiselect', 'security, updates'),
      d('apt-setup/security_host', 'string', s.host),
      d('apt-setup/security_path', 'string', s.directory),
    );
  } else {
    lines.push('# No security archive given: no security or updates sources', d('apt-setup/services-select', 'multiselect', ''));
  }
  lines.push(
    '',
    '# Clock',
    d('clock-setup/utc', 'boolean', 'true'),
    d('time/zone', 'string', k.timezone),
    d('clock-setup/ntp', 'boolean', 'false'),
    '',
    `# Partitioning: all of ${k.disk}, regular partitions, the atomic recipe, no questions`,
    d('partman-auto/disk', 'string', k.disk),
    d('partman-auto/method', 'string', 'regular'),
    d('partman-auto/choose_recipe', 'select', 'atomic'),
    d('partman-lvm/device_remove_lvm', 'boolean', 'true'),
    d('partman-md/device_remove_md', 'boolean', 'true'),
    d('partman-lvm/confirm', 'boolean', 'true'),
    d('partman-lvm/confirm_nooverwrite', 'boolean', 'true'),
    d('partman-efi/non_efi_system', 'boolean', 'true'),
    d('partman-partitioning/confirm_write_new_label', 'boolean', 'true'),
    d('partman/choose_partition', 'select', 'finish'),
    d('partman/confirm', 'boolean', 'true'),
    d('partman/confirm_nooverwrite', 'boolean', 'true'),
    '',
    '# Accounts: root only, password locked (login by SSH key), no user account',
    d('passwd/root-login', 'boolean', 'true'),
    d('passwd/make-user', 'boolean', 'false'),
    d('passwd/root-password-crypted', 'password', '!'),
    '',
    '# Packages: no tasks (standard off), the SSH server and the extra packages',
    'tasksel tasksel/first multiselect',
    d('pkgsel/include', 'string', [SSH_SERVER, ...k.packages].join(' ')),
    d('pkgsel/upgrade', 'select', k.mirror.security !== undefined ? 'safe-upgrade' : 'none'),
    'popularity-contest popularity-contest/participate boolean false',
    '',
    '# Boot loader',
    d('grub-installer/only_debian', 'boolean', 'true'),
    d('grub-installer/with_other_os', 'boolean', 'false'),
    d('grub-installer/bootdev', 'string', k.disk),
    d('grub-installer/force-efi-extra-removable', 'boolean', 'true'),
    '',
    "# root's SSH keys (base64: no quoting problems), and root may log in by key",
    d('preseed/late_command', 'string', preseedLateCommand(k)),
    '',
    '# Power off when done',
    d('finish-install/reboot_in_progress', 'note', ''),
    d('debian-installer/exit/poweroff', 'boolean', 'true'),
  );
  const cmdline = [
    'auto=true',
    'priority=critical',
    'DEBIAN_FRONTEND=text',
    `locale=${k.locale}`,
    `keyboard-configuration/xkb-keymap=${keymap}`,
    `hostname=${k.shortName}`,
    `domain=${k.domain}`,
  ];
  if (k.log) cmdline.push(`log_host=${k.log.host}`, `log_port=${k.log.port}`);
  return { kind: 'preseed', filename: AUTOMATION_FILENAMES.preseed, text: `${lines.join('\n')}\n`, cmdline, injection: 'initrd', extraFiles: {} };
}

/** One shell line, run by the installer with the new system mounted on /target. */
function preseedLateCommand(k: CheckedChoices): string {
  const inTarget = [
    'base64 -d /root/.ssh/authorized_keys.b64 > /root/.ssh/authorized_keys',
    'rm -f /root/.ssh/authorized_keys.b64',
    'chown -R root:root /root/.ssh',
    'chmod 700 /root/.ssh',
    'chmod 600 /root/.ssh/authorized_keys',
    SSHD_ROOT_BY_KEY,
  ].join(' && ');
  return [
    'mkdir -p /target/root/.ssh',
    `echo ${keysBase64(k)} > /target/root/.ssh/authorized_keys.b64`,
    `in-target sh -c '${inTarget}'`,
  ].join(' && ');
}
const PRESEED_TYPES = ['string', 'boolean', 'select', 'multiselect', 'password', 'note', 'seen'];

/** Every line that is not blank or a comment is "owner question type [value]" (a trailing \ continues a line). */
export function checkPreseed(file: string, text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i] ?? '';
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)}${lines[++i] ?? ''}`;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(t);
    if (!m) {
      problems.push(`${file}:${lineNo}: expected "owner question type value", got ${q(t)}`);
      continue;
    }
    const [, , question = '', type = '', value = ''] = m;
    if (!question.includes('/')) problems.push(`${file}:${lineNo}: question ${q(question)} is not of the form template/name`);
    if (!PRESEED_TYPES.includes(type)) {
      problems.push(`${file}:${lineNo}: unknown type ${q(type)} for ${question} (expected ${PRESEED_TYPES.join(', ')})`);
    } else if (type === 'boolean' && value.trim() !== 'true' && value.trim() !== 'false') {
      problems.push(`${file}:${lineNo}: boolean ${question} must be true or false, not ${q(value.trim())}`);
    }
  }
  return problems;
}
