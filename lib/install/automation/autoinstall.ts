/** subiquity's autoinstall (Ubuntu live server) as cloud-init nocloud user-data: rendered from the checked choices, and checked. */
import YAML from 'yaml';
import { AUTOMATION_FILENAMES, SSHD_ROOT_BY_KEY, keysBase64, q, type Automation, type CheckedChoices } from './choices.js';

export function renderAutoinstall(k: CheckedChoices): Automation {
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
