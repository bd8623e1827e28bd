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
import { isIP } from 'node:net';
import YAML from 'yaml';
import { invalid } from '../errors/index.js';

export type AutomationKind = 'preseed' | 'kickstart' | 'autoinstall';

export interface AutomationChoices {
  readonly kind: AutomationKind;
  /** Release the installer installs: a Debian/Ubuntu codename (bookworm, jammy) or a Fedora version (39). */
  readonly release: string;
  /** RFC 1123 host name, e.g. "kiln". */
  readonly hostname: string;
  /** e.g. "en_US.UTF-8". */
  readonly locale: string;
  /** X keyboard layout, e.g. "us". */
  readonly keyboard: string;
  /** e.g. "Etc/UTC". */
  readonly timezone: string;
  /** OpenSSH public key lines, installed for root (authorized_keys); password login stays locked. */
  readonly sshKeys: readonly string[];
  /** Extra packages to install (besides the SSH server, which is always installed). */
  readonly packages: readonly string[];
  /** Package mirror: for preseed an http(s) URL like http://host[:port]/debian (split into host and directory);
   *  for kickstart the install tree / repo URL; for autoinstall the apt primary URI. security: optional security
   *  archive URL (preseed, autoinstall). */
  readonly mirror: { readonly url: string; readonly security?: string };
  /** Target disk, e.g. "/dev/vda". */
  readonly disk: string;
  /** Remote syslog target the installer should log to (preseed: kernel args log_host/log_port; kickstart:
   *  `logging --host --port`); optional. */
  readonly log?: { readonly host: string; readonly port: number };
}

export interface Automation {
  readonly kind: AutomationKind;
  /** File name the installer looks for: preseed.cfg, ks.cfg, user-data. */
  readonly filename: string;
  readonly text: string;
  /** Kernel command-line arguments the installer needs to run unattended with this file (console= is added by
   *  the caller). */
  readonly cmdline: readonly string[];
  /** How it reaches the installer: appended to the installer's initrd (preseed, kickstart) or on a small extra
   *  disk labelled CIDATA (autoinstall). */
  readonly injection: 'initrd' | 'disk';
  /** Other files that go with it (autoinstall: "meta-data"). */
  readonly extraFiles: Readonly<Record<string, string>>;
}

export const AUTOMATION_KINDS: readonly AutomationKind[] = ['preseed', 'kickstart', 'autoinstall'];

export const AUTOMATION_FILENAMES: Readonly<Record<AutomationKind, string>> = {
  preseed: 'preseed.cfg',
  kickstart: 'ks.cfg',
  autoinstall: 'user-data',
};

/** The SSH server package every variant installs. */
const SSH_SERVER = 'openssh-server';

/** An OpenSSH public key, split and checked. */
export interface SshKey {
  readonly type: string;
  readonly base64: string;
  readonly comment: string;
  /** type, base64 and comment joined by single spaces. */
  readonly line: string;
}

/** A mirror URL split the way debian-installer asks for it. */
export interface MirrorParts {
  readonly protocol: 'http' | 'https';
  /** host[:port] */
  readonly host: string;
  /** The path, without a trailing slash ("/" for none). */
  readonly directory: string;
}

/** Choices after validation: keys parsed, packages de-duplicated, keyboard split into layout and variant. */
export interface CheckedChoices {
  readonly kind: AutomationKind;
  readonly release: string;
  readonly hostname: string;
  /** First label of the host name. */
  readonly shortName: string;
  /** The rest of the host name after the first dot ('' for none). */
  readonly domain: string;
  readonly locale: string;
  readonly keyboard: { readonly layout: string; readonly variant: string | undefined };
  readonly timezone: string;
  readonly sshKeys: readonly SshKey[];
  readonly packages: readonly string[];
  readonly mirror: { readonly url: string; readonly security: string | undefined };
  readonly disk: string;
  readonly log: { readonly host: string; readonly port: number } | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Validation

const q = (s: string): string => JSON.stringify(s);

/** Shows a long value (an SSH key) by its start. */
function shortly(s: string): string {
  return q(s.length > 48 ? `${s.slice(0, 45)}...` : s);
}

function oneLine(option: string, value: string, show: (s: string) => string = q): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw invalid(`${option} ${show(value)}: must be one line (it contains a newline or another control character)`);
  }
}

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** An RFC 1123 host name: dot-separated labels of letters, digits and -, 1 to 63 each, 253 in all. */
export function isHostName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((l) => LABEL.test(l));
}

const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
];

/**
 * Parses one OpenSSH public key line, `TYPE BASE64 [comment]`, or returns undefined. The base64 blob must be
 * canonical and start with its own type name (as every OpenSSH key blob does). The comment may not hold quotes
 * or backslashes (it is written inside quotes in a kickstart).
 */
export function parseSshKey(line: string): SshKey | undefined {
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+([^"\\]*))?$/.exec(line.trim());
  if (!m) return undefined;
  const type = m[1] ?? '';
  const base64 = m[2] ?? '';
  const comment = (m[3] ?? '').trim();
  if (!KEY_TYPES.includes(type)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64 || blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (blob.length < 4 + n || blob.subarray(4, 4 + n).toString('latin1') !== type) return undefined;
  return { type, base64, comment, line: comment ? `${type} ${base64} ${comment}` : `${type} ${base64}` };
}

const DEB_PACKAGE = /^[a-z0-9][a-z0-9+._-]*$/;
/** RPM names may hold capitals (NetworkManager); a kickstart also takes @group and @^environment. */
const RPM_PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;
const RPM_GROUP = /^@\^?[A-Za-z0-9][A-Za-z0-9+._-]*$/;

function checkPackage(kind: AutomationKind, name: string): void {
  oneLine('--packages', name);
  if (kind === 'kickstart') {
    if (RPM_PACKAGE.test(name) || RPM_GROUP.test(name)) return;
    throw invalid(`--packages ${q(name)}: not a package name (letters, digits and + . _ -, or @group)`);
  }
  if (DEB_PACKAGE.test(name)) return;
  if (RPM_GROUP.test(name)) throw invalid(`--packages ${q(name)}: not a package name (@groups are for kickstart only)`);
  throw invalid(`--packages ${q(name)}: not a package name (lower-case letters, digits and + . _ -)`);
}

/** Checks an http(s) mirror URL: a host, no credentials, query, fragment, spaces or quotes. */
function checkUrl(option: string, value: string): URL {
  oneLine(option, value);
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw invalid(`${option} ${q(value)}: not an http(s) URL with a host (e.g. http://mirror.example/debian)`);
  }
  if (/[\s"'\\`$]/.test(value) || url.username || url.password || url.search || url.hash) {
    throw invalid(`${option} ${q(value)}: the URL may not hold credentials, a query, a fragment, spaces or quotes`);
  }
  return url;
}

/** Splits a mirror URL the way debian-installer asks for it: protocol, host[:port], directory. */
export function splitMirror(value: string, option = '--mirror'): MirrorParts {
  const url = checkUrl(option, value);
  const directory = url.pathname.replace(/\/+$/, '');
  return { protocol: url.protocol === 'https:' ? 'https' : 'http', host: url.host, directory: directory === '' ? '/' : directory };
}

/** Validates every choice and returns them checked and normalised; the first bad one throws invalid(...). */
export function checkChoices(c: AutomationChoices): CheckedChoices {
  if (!AUTOMATION_KINDS.includes(c.kind)) {
    throw invalid(`--automation ${q(String(c.kind))}: unknown kind of automation file (expected ${AUTOMATION_KINDS.join(', ')})`);
  }

  oneLine('--release', c.release);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.release)) {
    throw invalid(`--release ${q(c.release)}: not a release name (a codename like bookworm or a version like 39)`);
  }

  oneLine('--hostname', c.hostname);
  if (!isHostName(c.hostname)) {
    throw invalid(`--hostname ${q(c.hostname)}: not a valid host name (letters, digits and -, at most 63 per label)`);
  }
  const dot = c.hostname.indexOf('.');

  oneLine('--locale', c.locale);
  if (!/^(?:[a-z]{2,3}_[A-Z]{2}|C)\.UTF-8$/.test(c.locale)) {
    throw invalid(`--locale ${q(c.locale)}: not a UTF-8 locale (like en_US.UTF-8 or C.UTF-8)`);
  }

  oneLine('--keyboard', c.keyboard);
  const kb = /^([a-z]{2,})(?:[-_]([a-z0-9]+))?$/.exec(c.keyboard);
  if (!kb) throw invalid(`--keyboard ${q(c.keyboard)}: not a keyboard layout (like us, de or de-nodeadkeys)`);

  oneLine('--timezone', c.timezone);
  if (!/^(?:UTC|[A-Z][A-Za-z]*(?:\/[A-Za-z0-9_+-]+){1,2})$/.test(c.timezone)) {
    throw invalid(`--timezone ${q(c.timezone)}: not a time zone (Area/City like Europe/Paris, or UTC, Etc/UTC)`);
  }

  const sshKeys: SshKey[] = [];
  for (const line of c.sshKeys) {
    oneLine('--ssh-key', line, shortly);
    const key = parseSshKey(line);
    if (!key) {
      throw invalid(
        `--ssh-key: ${shortly(line)} is not an OpenSSH public key (TYPE BASE64 [comment], TYPE one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-…; no quotes in the comment)`,
      );
    }
    if (!sshKeys.some((k) => k.base64 === key.base64)) sshKeys.push(key);
  }
  if (sshKeys.length === 0) {
    throw invalid('--ssh-key: at least one OpenSSH public key is needed (root logs in by key only; its password stays locked)');
  }

  const packages: string[] = [];
  for (const name of c.packages) {
    checkPackage(c.kind, name);
    if (name !== SSH_SERVER && !packages.includes(name)) packages.push(name);
  }

  checkUrl('--mirror', c.mirror.url);
  if (c.mirror.security !== undefined) checkUrl('--security-mirror', c.mirror.security);

  oneLine('--disk', c.disk);
  if (!/^\/dev\/[A-Za-z0-9_.:+-]+(?:\/[A-Za-z0-9_.:+-]+)*$/.test(c.disk) || c.disk.split('/').includes('..')) {
    throw invalid(`--disk ${q(c.disk)}: not a disk device (a path under /dev/, like /dev/vda)`);
  }

  let log: CheckedChoices['log'];
  if (c.log !== undefined) {
    oneLine('--log', c.log.host);
    if (!isHostName(c.log.host) && isIP(c.log.host) === 0) {
      throw invalid(`--log ${q(c.log.host)}: not a host name or IP address`);
    }
    if (!Number.isInteger(c.log.port) || c.log.port < 1 || c.log.port > 65535) {
      throw invalid(`--log ${q(`${c.log.host}:${c.log.port}`)}: the port must be a whole number from 1 to 65535`);
    }
    log = { host: c.log.host, port: c.log.port };
  }

  return {
    kind: c.kind,
    release: c.release,
    hostname: c.hostname,
    shortName: dot < 0 ? c.hostname : c.hostname.slice(0, dot),
    domain: dot < 0 ? '' : c.hostname.slice(dot + 1),
    locale: c.locale,
    keyboard: { layout: kb[1] ?? '', variant: kb[2] },
    timezone: c.timezone,
    sshKeys,
    packages,
    mirror: { url: c.mirror.url, security: c.mirror.security },
    disk: c.disk,
    log,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

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

/** root's authorized_keys, base64-encoded so it passes through any shell quoting unharmed. */
function keysBase64(k: CheckedChoices): string {
  return Buffer.from(k.sshKeys.map((key) => `${key.line}\n`).join(''), 'utf8').toString('base64');
}

/** Makes an explicit "PermitRootLogin no" (or a commented default) read "prohibit-password": keys only. */
const SSHD_ROOT_BY_KEY = 'sed -i -E "s/^#?[[:space:]]*PermitRootLogin[[:space:]].*/PermitRootLogin prohibit-password/" /etc/ssh/sshd_config';

/** The X layout with its variant as debian-installer names keymaps: "us", "de(nodeadkeys)". */
function xkbKeymap(k: CheckedChoices): string {
  return k.keyboard.variant ? `${k.keyboard.layout}(${k.keyboard.variant})` : k.keyboard.layout;
}

function renderPreseed(k: CheckedChoices): Automation {
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

/** How Anaconda names the disk: "vda" for /dev/vda, the whole path for /dev/disk/by-id/… and the like. */
function anacondaDrive(disk: string): string {
  const rest = disk.slice('/dev/'.length);
  return rest.includes('/') ? disk : rest;
}

function renderKickstart(k: CheckedChoices): Automation {
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

function renderAutoinstall(k: CheckedChoices): Automation {
  const b64 = keysBase64(k);
  const apt: Record<string, unknown> = {
    geoip: false,
    preserve_sources_list: false,
    primary: [{ arches: ['default'], uri: k.mirror.url }],
  };
  if (k.mirror.security !== undefined) apt.security = [{ arches: ['default'], uri: k.mirror.security }];
  const autoinstall: Record<string, unknown> = {
    version: 1,
    locale: k.locale,
    keyboard: k.keyboard.variant ? { layout: k.keyboard.layout, variant: k.keyboard.variant } : { layout: k.keyboard.layout },
    timezone: k.timezone,
    network: { version: 2, ethernets: { any: { match: { name: 'e*' }, dhcp4: true } } },
    apt,
    storage: { layout: { name: 'direct', match: { path: k.disk } } },
    ssh: { 'install-server': true, 'authorized-keys': k.sshKeys.map((key) => key.line), 'allow-pw': false },
  };
  if (k.packages.length > 0) autoinstall.packages = [...k.packages];
  autoinstall['late-commands'] = [
    'mkdir -p /target/root/.ssh',
    `echo ${b64} | base64 -d > /target/root/.ssh/authorized_keys`,
    'chmod 700 /target/root/.ssh',
    'chmod 600 /target/root/.ssh/authorized_keys',
    `curtin in-target --target=/target -- ${SSHD_ROOT_BY_KEY}`,
  ];
  // No identity section: no user account. The user-data section (cloud-init on the installed system's first
  // boot) then stands in for it, and must leave root's keys alone.
  autoinstall['user-data'] = { hostname: k.shortName, fqdn: k.hostname, disable_root: false, ssh_pwauth: false };
  autoinstall.shutdown = 'poweroff';
  const body = YAML.stringify({ autoinstall }, { lineWidth: 0 });
  const text = `#cloud-config\n# subiquity autoinstall for Ubuntu ${k.release}, rendered by kiln.\n${body}`;
  return {
    kind: 'autoinstall',
    filename: AUTOMATION_FILENAMES.autoinstall,
    text,
    cmdline: ['autoinstall', 'ds=nocloud'],
    injection: 'disk',
    extraFiles: { 'meta-data': `instance-id: kiln-${k.hostname}\nlocal-hostname: ${k.shortName}\n` },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checking a rendered file

const PRESEED_TYPES = ['string', 'boolean', 'select', 'multiselect', 'password', 'note', 'seen'];

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

/** "#cloud-config" first, then YAML with autoinstall.version 1, shutdown: poweroff and no questions left. */
export function checkAutoinstall(file: string, text: string): string[] {
  const problems: string[] = [];
  if (text.split('\n')[0]?.trim() !== '#cloud-config') problems.push(`${file}: the first line must be #cloud-config`);
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    return [...problems, `${file}: not YAML (${(e as Error).message.split('\n')[0] ?? ''})`];
  }
  const auto = isObject(doc) ? doc.autoinstall : undefined;
  if (!isObject(auto)) return [...problems, `${file}: no autoinstall section`];
  if (auto.version !== 1) problems.push(`${file}: autoinstall.version must be 1, not ${q(String(auto.version))}`);
  if (auto.shutdown !== 'poweroff') problems.push(`${file}: autoinstall.shutdown must be poweroff, not ${q(String(auto.shutdown))}`);
  if (auto.identity === undefined && auto['user-data'] === undefined) {
    problems.push(`${file}: autoinstall has neither identity nor user-data (the installer would stop to ask)`);
  }
  return problems;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
