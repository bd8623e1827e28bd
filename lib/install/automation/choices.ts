/**
 * What the user chose for an unattended install, checked: the types every installer family shares, the
 * validation of each choice (a bad one is bad input, exit 2, naming the option) and the pieces every
 * family's file uses (root's keys, sshd's root login by key).
 */
import { isIP } from 'node:net';
import { invalid } from '../../errors/index.js';

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
export const SSH_SERVER = 'openssh-server';

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

export const q = (s: string): string => JSON.stringify(s);

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
// Shared by the families' files

/** root's authorized_keys, base64-encoded so it passes through any shell quoting unharmed. */
export function keysBase64(k: CheckedChoices): string {
  return Buffer.from(k.sshKeys.map((key) => `${key.line}\n`).join(''), 'utf8').toString('base64');
}

/** Makes an explicit "PermitRootLogin no" (or a commented default) read "prohibit-password": keys only. */
export const SSHD_ROOT_BY_KEY = 'sed -i -E "s/^#?[[:space:]]*PermitRootLogin[[:space:]].*/PermitRootLogin prohibit-password/" /etc/ssh/sshd_config';
