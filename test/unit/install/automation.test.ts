import YAML from 'yaml';
import {
  checkAutomation,
  parseSshKey,
  renderAutomation,
  splitMirror,
  type Automation,
  type AutomationChoices,
  type AutomationKind,
} from '../../../lib/install/automation.js';
import { thrown } from '../helpers/errors.js';

/** An OpenSSH public key line whose blob is well formed: length-prefixed type, then length-prefixed key bytes. */
function sshKey(type: string, fill: number, comment?: string): string {
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from(type)), str(Buffer.alloc(32, fill))]);
  return `${type} ${blob.toString('base64')}${comment === undefined ? '' : ` ${comment}`}`;
}

const ED = sshKey('ssh-ed25519', 1, 'alice@laptop');
const RSA = sshKey('ssh-rsa', 2, 'bob key with spaces');

function choices(kind: AutomationKind, over: Partial<AutomationChoices> = {}): AutomationChoices {
  const base: Record<AutomationKind, Pick<AutomationChoices, 'release' | 'mirror' | 'packages'>> = {
    preseed: { release: 'bookworm', mirror: { url: 'http://mirror.example:8080/debian' }, packages: ['vim', 'curl'] },
    kickstart: { release: '39', mirror: { url: 'https://repo.example/fedora/39/x86_64/os' }, packages: ['vim-enhanced', '@development-tools', 'NetworkManager'] },
    autoinstall: {
      release: 'jammy',
      mirror: { url: 'http://mirror.example:8080/ubuntu', security: 'http://security.example/ubuntu' },
      packages: ['vim', 'curl'],
    },
  };
  return {
    kind,
    ...base[kind],
    hostname: 'kiln',
    locale: 'en_US.UTF-8',
    keyboard: 'us',
    timezone: 'Etc/UTC',
    sshKeys: [ED, RSA],
    disk: '/dev/vda',
    log: { host: '10.0.2.2', port: 5140 },
    ...over,
  };
}

/** The value of a preseed question, or undefined. */
function preseedValue(text: string, question: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (m && !line.startsWith('#') && m[2] === question) return m[4] ?? '';
  }
  return undefined;
}

describe('preseed', () => {
  const a = renderAutomation(choices('preseed'));

  test('is preseed.cfg appended to the initrd, with the kernel arguments to run unattended', () => {
    expect(a.kind).toBe('preseed');
    expect(a.filename).toBe('preseed.cfg');
    expect(a.injection).toBe('initrd');
    expect(a.extraFiles).toEqual({});
    expect(a.cmdline).toEqual([
      'auto=true',
      'priority=critical',
      'DEBIAN_FRONTEND=text',
      'locale=en_US.UTF-8',
      'keyboard-configuration/xkb-keymap=us',
      'hostname=kiln',
      'domain=',
      'log_host=10.0.2.2',
      'log_port=5140',
    ]);
    expect(a.text).toMatch(/^# debian-installer preseed for bookworm, rendered by kiln\./);
  });

  test('splits the mirror into protocol, host:port and directory; the suite is the release', () => {
    expect(preseedValue(a.text, 'mirror/country')).toBe('manual');
    expect(preseedValue(a.text, 'mirror/protocol')).toBe('http');
    expect(preseedValue(a.text, 'mirror/http/hostname')).toBe('mirror.example:8080');
    expect(preseedValue(a.text, 'mirror/http/directory')).toBe('/debian');
    expect(preseedValue(a.text, 'mirror/http/proxy')).toBe('');
    expect(preseedValue(a.text, 'mirror/suite')).toBe('bookworm');
    expect(splitMirror('https://m.example/deb/ian/')).toEqual({ protocol: 'https', host: 'm.example', directory: '/deb/ian' });
    expect(splitMirror('http://m.example')).toEqual({ protocol: 'http', host: 'm.example', directory: '/' });
    const https = renderAutomation(choices('preseed', { mirror: { url: 'https://m.example/debian' } })).text;
    expect(preseedValue(https, 'mirror/https/hostname')).toBe('m.example');
    expect(preseedValue(https, 'mirror/https/directory')).toBe('/debian');
  });

  test('security updates come from the security archive when given, else are not selected', () => {
    expect(preseedValue(a.text, 'apt-setup/services-select')).toBe('');
    expect(preseedValue(a.text, 'apt-setup/security_host')).toBeUndefined();
    const s = renderAutomation(choices('preseed', { mirror: { url: 'http://mirror.example/debian', security: 'http://sec.example:81/debian-security' } })).text;
    expect(preseedValue(s, 'apt-setup/services-select')).toBe('security, updates');
    expect(preseedValue(s, 'apt-setup/security_host')).toBe('sec.example:81');
    expect(preseedValue(s, 'apt-setup/security_path')).toBe('/debian-security');
  });

  test('locale, keyboard, network, clock, whole-disk atomic partitioning, grub on the disk', () => {
    expect(preseedValue(a.text, 'debian-installer/locale')).toBe('en_US.UTF-8');
    expect(preseedValue(a.text, 'keyboard-configuration/xkb-keymap')).toBe('us');
    expect(preseedValue(a.text, 'netcfg/get_hostname')).toBe('kiln');
    expect(preseedValue(a.text, 'netcfg/disable_autoconfig')).toBe('false');
    expect(preseedValue(a.text, 'clock-setup/utc')).toBe('true');
    expect(preseedValue(a.text, 'time/zone')).toBe('Etc/UTC');
    expect(preseedValue(a.text, 'partman-auto/disk')).toBe('/dev/vda');
    expect(preseedValue(a.text, 'partman-auto/method')).toBe('regular');
    expect(preseedValue(a.text, 'partman-auto/choose_recipe')).toBe('atomic');
    for (const q of ['partman/confirm', 'partman/confirm_nooverwrite', 'partman-partitioning/confirm_write_new_label', 'partman-lvm/confirm']) {
      expect(preseedValue(a.text, q)).toBe('true');
    }
    expect(preseedValue(a.text, 'partman/choose_partition')).toBe('finish');
    expect(preseedValue(a.text, 'grub-installer/bootdev')).toBe('/dev/vda');
  });

  test('root only, password locked; no tasks, the SSH server and the packages; no popularity contest; powers off', () => {
    expect(a.text).toContain('\nd-i passwd/root-password-crypted password !\n');
    expect(preseedValue(a.text, 'passwd/root-login')).toBe('true');
    expect(preseedValue(a.text, 'passwd/make-user')).toBe('false');
    expect(a.text).toContain('\ntasksel tasksel/first multiselect\n');
    expect(preseedValue(a.text, 'pkgsel/include')).toBe('openssh-server vim curl');
    expect(a.text).toContain('\npopularity-contest popularity-contest/participate boolean false\n');
    expect(a.text).toContain('\nd-i finish-install/reboot_in_progress note\n');
    expect(a.text).toMatch(/\nd-i debian-installer\/exit\/poweroff boolean true\n$/);
  });

  test("the late_command writes root's keys (base64, round-trip) with modes 700/600 and lets root in by key", () => {
    const cmd = preseedValue(a.text, 'preseed/late_command') ?? '';
    const b64 = /echo ([A-Za-z0-9+/=]+) > \/target\/root\/\.ssh\/authorized_keys\.b64/.exec(cmd)?.[1];
    expect(b64).toBeDefined();
    expect(Buffer.from(b64 ?? '', 'base64').toString('utf8')).toBe(`${ED}\n${RSA}\n`);
    expect(cmd).toContain('chmod 700 /root/.ssh');
    expect(cmd).toContain('chmod 600 /root/.ssh/authorized_keys');
    expect(cmd).toContain('PermitRootLogin prohibit-password');
    expect(cmd).not.toMatch(/PermitRootLogin no\b/);
    expect(cmd).not.toContain('\n');
  });

  test('a host name with a domain is split into hostname= and domain=; a keyboard variant is kept', () => {
    const b = renderAutomation(choices('preseed', { hostname: 'kiln.lab.example', keyboard: 'de-nodeadkeys', log: undefined }));
    expect(b.cmdline).toContain('hostname=kiln');
    expect(b.cmdline).toContain('domain=lab.example');
    expect(b.cmdline).toContain('keyboard-configuration/xkb-keymap=de(nodeadkeys)');
    expect(b.cmdline.some((c) => c.startsWith('log_'))).toBe(false);
    expect(preseedValue(b.text, 'netcfg/get_domain')).toBe('lab.example');
  });
});

describe('kickstart', () => {
  const a = renderAutomation(choices('kickstart'));
  const lines = a.text.split('\n');

  test('is ks.cfg appended to the initrd, with inst.ks and text mode', () => {
    expect(a.filename).toBe('ks.cfg');
    expect(a.injection).toBe('initrd');
    expect(a.cmdline).toEqual(['inst.ks=file:/ks.cfg', 'inst.text', 'inst.repo=https://repo.example/fedora/39/x86_64/os', 'inst.syslog=10.0.2.2:5140']);
    expect(a.text).toMatch(/^# Anaconda kickstart for release 39, rendered by kiln\./);
  });

  test('the commands: text, lang, keyboard, timezone, network, url, logging, services, poweroff', () => {
    for (const line of [
      'text',
      'lang en_US.UTF-8',
      "keyboard --vckeymap=us --xlayouts='us'",
      'timezone Etc/UTC --utc',
      'network --bootproto=dhcp --device=link --onboot=yes --activate --hostname=kiln',
      'url --url=https://repo.example/fedora/39/x86_64/os',
      'logging --host=10.0.2.2 --port=5140',
      'services --enabled=sshd',
      'poweroff',
    ]) {
      expect(lines).toContain(line);
    }
  });

  test('root locked with one sshkey per key; the whole disk is cleared and partitioned plainly', () => {
    expect(lines).toContain('rootpw --lock');
    expect(lines.filter((l) => l.startsWith('sshkey '))).toEqual([`sshkey --username=root "${ED}"`, `sshkey --username=root "${RSA}"`]);
    for (const line of ['zerombr', 'clearpart --all --initlabel --drives=vda', 'autopart --type=plain', 'bootloader --location=mbr --boot-drive=vda']) {
      expect(lines).toContain(line);
    }
  });

  test('%packages holds @core, the SSH server and the packages (groups and capitals allowed)', () => {
    const start = lines.indexOf('%packages');
    const end = lines.indexOf('%end');
    expect(lines.slice(start + 1, end)).toEqual(['@core', 'openssh-server', 'vim-enhanced', '@development-tools', 'NetworkManager']);
  });

  test('no logging command without a log target; a by-id disk keeps its path', () => {
    const b = renderAutomation(choices('kickstart', { log: undefined, disk: '/dev/disk/by-id/virtio-kiln' }));
    expect(b.text).not.toContain('logging');
    expect(b.cmdline.some((c) => c.startsWith('inst.syslog'))).toBe(false);
    expect(b.text).toContain('clearpart --all --initlabel --drives=/dev/disk/by-id/virtio-kiln\n');
  });
});

describe('autoinstall', () => {
  const a = renderAutomation(choices('autoinstall'));
  const doc = YAML.parse(a.text) as { autoinstall: Record<string, unknown> };
  const auto = doc.autoinstall;

  test('is user-data plus meta-data on a CIDATA disk', () => {
    expect(a.filename).toBe('user-data');
    expect(a.injection).toBe('disk');
    expect(a.cmdline).toEqual(['autoinstall', 'ds=nocloud']);
    expect(a.extraFiles).toEqual({ 'meta-data': 'instance-id: kiln-kiln\nlocal-hostname: kiln\n' });
    expect(a.text.split('\n')[0]).toBe('#cloud-config');
  });

  test('version 1, locale, keyboard, timezone, DHCP on any ethernet, apt mirrors, direct layout on the disk', () => {
    expect(auto.version).toBe(1);
    expect(auto.locale).toBe('en_US.UTF-8');
    expect(auto.keyboard).toEqual({ layout: 'us' });
    expect(auto.timezone).toBe('Etc/UTC');
    expect(auto.network).toEqual({ version: 2, ethernets: { any: { match: { name: 'e*' }, dhcp4: true } } });
    expect(auto.apt).toMatchObject({
      primary: [{ arches: ['default'], uri: 'http://mirror.example:8080/ubuntu' }],
      security: [{ arches: ['default'], uri: 'http://security.example/ubuntu' }],
    });
    expect(auto.storage).toEqual({ layout: { name: 'direct', match: { path: '/dev/vda' } } });
    expect(auto.shutdown).toBe('poweroff');
  });

  test('no identity; SSH server with the keys and no passwords; packages; late-commands write root keys', () => {
    expect(auto.identity).toBeUndefined();
    expect(auto['user-data']).toMatchObject({ disable_root: false });
    expect(auto.ssh).toEqual({ 'install-server': true, 'authorized-keys': [ED, RSA], 'allow-pw': false });
    expect(auto.packages).toEqual(['vim', 'curl']);
    const late = auto['late-commands'] as string[];
    const b64 = late.map((c) => /^echo ([A-Za-z0-9+/=]+) \| base64 -d > \/target\/root\/\.ssh\/authorized_keys$/.exec(c)?.[1]).find((x) => x);
    expect(Buffer.from(b64 ?? '', 'base64').toString('utf8')).toBe(`${ED}\n${RSA}\n`);
    expect(late).toContain('chmod 600 /target/root/.ssh/authorized_keys');
  });
});

describe('checkAutomation', () => {
  test.each(['preseed', 'kickstart', 'autoinstall'] as const)('a rendered %s file is well formed', (kind) => {
    expect(checkAutomation(renderAutomation(choices(kind)))).toEqual([]);
    expect(checkAutomation(renderAutomation(choices(kind, { log: undefined, packages: [] })))).toEqual([]);
  });

  const edit = (a: Automation, text: string, more: Partial<Automation> = {}): Automation => ({ ...a, text, ...more });

  test('a preseed line with an unknown type, a non-boolean boolean or too few words is found', () => {
    const a = renderAutomation(choices('preseed'));
    expect(checkAutomation(edit(a, `${a.text}d-i mirror/suite strnig bookworm\n`))).toEqual([
      expect.stringMatching(/^preseed\.cfg:\d+: unknown type "strnig" for mirror\/suite/),
    ]);
    expect(checkAutomation(edit(a, 'd-i partman/confirm boolean yes\nd-i lonely\n'))).toEqual([
      'preseed.cfg:1: boolean partman/confirm must be true or false, not "yes"',
      'preseed.cfg:2: expected "owner question type value", got "d-i lonely"',
    ]);
  });

  test('a kickstart without poweroff, with an unlocked root or an unclosed %packages is found', () => {
    const a = renderAutomation(choices('kickstart'));
    expect(checkAutomation(edit(a, a.text.replace('\npoweroff\n', '\n')))).toEqual(['ks.cfg: the poweroff command is missing']);
    expect(checkAutomation(edit(a, a.text.replace('rootpw --lock', 'rootpw hunter2').replace('\n%end\n', '\n')))).toEqual([
      expect.stringMatching(/^ks\.cfg:\d+: %packages has no %end$/),
      'ks.cfg: rootpw must be --lock (root logs in by SSH key only)',
    ]);
    expect(checkAutomation(edit(a, 'text\n'))).toEqual(
      expect.arrayContaining(['ks.cfg: the lang command is missing', 'ks.cfg: no partitioning command (autopart, part or mount)', 'ks.cfg: the %packages section is missing']),
    );
  });

  test('a user-data that is not YAML, lacks the header, the version or poweroff is found', () => {
    const a = renderAutomation(choices('autoinstall'));
    expect(checkAutomation(edit(a, '#cloud-config\nautoinstall: [unclosed\n'))).toEqual([expect.stringMatching(/^user-data: not YAML \(/)]);
    expect(checkAutomation(edit(a, a.text.replace('  version: 1\n', '')))).toEqual(['user-data: autoinstall.version must be 1, not "undefined"']);
    expect(checkAutomation(edit(a, a.text.replace('#cloud-config\n', '').replace('shutdown: poweroff', 'shutdown: reboot')))).toEqual([
      'user-data: the first line must be #cloud-config',
      'user-data: autoinstall.shutdown must be poweroff, not "reboot"',
    ]);
    expect(checkAutomation(edit(a, a.text, { extraFiles: {} }))).toEqual(['user-data: meta-data is missing (the nocloud data source needs it)']);
  });

  test('a wrong file name or injection is found', () => {
    const a = renderAutomation(choices('preseed'));
    expect(checkAutomation(edit(a, a.text, { filename: 'ks.cfg', injection: 'disk' }))).toEqual([
      'ks.cfg: a preseed file must be named preseed.cfg',
      'ks.cfg: a preseed file reaches the installer by initrd, not disk',
    ]);
  });
});

describe('validation', () => {
  test.each<[string, Partial<AutomationChoices>, string]>([
    ['hostname', { hostname: 'bad_name' }, '--hostname "bad_name": not a valid host name (letters, digits and -, at most 63 per label)'],
    ['hostname label too long', { hostname: `${'a'.repeat(64)}.example` }, '--hostname'],
    ['locale', { locale: 'en_US' }, '--locale "en_US": not a UTF-8 locale'],
    ['keyboard', { keyboard: 'US layout' }, '--keyboard "US layout": not a keyboard layout'],
    ['timezone', { timezone: 'Paris' }, '--timezone "Paris": not a time zone'],
    ['disk', { disk: 'vda' }, '--disk "vda": not a disk device'],
    ['disk escaping /dev', { disk: '/dev/../etc/passwd' }, '--disk "/dev/../etc/passwd": not a disk device'],
    ['release', { release: 'book worm' }, '--release "book worm": not a release name'],
    ['package', { packages: ['x;rm'] }, '--packages "x;rm": not a package name'],
    ['group outside kickstart', { packages: ['@core'] }, '--packages "@core": not a package name (@groups are for kickstart only)'],
    ['capitals outside kickstart', { packages: ['NetworkManager'] }, '--packages "NetworkManager": not a package name'],
    ['mirror scheme', { mirror: { url: 'ftp://mirror.example/debian' } }, '--mirror "ftp://mirror.example/debian": not an http(s) URL with a host'],
    ['mirror not a URL', { mirror: { url: 'mirror.example/debian' } }, '--mirror "mirror.example/debian": not an http(s) URL'],
    ['mirror with a query', { mirror: { url: 'http://mirror.example/debian?x=1' } }, '--mirror "http://mirror.example/debian?x=1": the URL may not hold'],
    ['security mirror', { mirror: { url: 'http://mirror.example/debian', security: 'file:///x' } }, '--security-mirror "file:///x": not an http(s) URL'],
    ['log port', { log: { host: '10.0.2.2', port: 70000 } }, '--log "10.0.2.2:70000": the port must be a whole number from 1 to 65535'],
    ['log host', { log: { host: 'bad host', port: 514 } }, '--log "bad host": not a host name or IP address'],
    ['no keys', { sshKeys: [] }, '--ssh-key: at least one OpenSSH public key is needed'],
  ])('a bad %s is bad input naming the option', (_what, over, message) => {
    const e = thrown(() => renderAutomation(choices('preseed', over)));
    expect(e.exitCode).toBe(2);
    expect(e.message.startsWith(message)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  test.each([
    ['not a key at all', 'hello world'],
    ['an unknown type', sshKey('ssh-dss', 3)],
    ['a blob of another type', `ssh-ed25519 ${sshKey('ssh-rsa', 4).split(' ')[1] ?? ''}`],
    ['broken base64', 'ssh-ed25519 AAAA$$$$'],
    ['a quote in the comment', sshKey('ssh-ed25519', 5, 'a"b')],
    ['options before the type', `no-pty ${ED}`],
  ])('an SSH key that is %s is refused', (_what, key) => {
    const e = thrown(() => renderAutomation(choices('kickstart', { sshKeys: [ED, key] })));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^--ssh-key: ".*" is not an OpenSSH public key/);
    expect(e.message).not.toContain('\n');
  });

  test('every OpenSSH key type is accepted, and a key is parsed into its parts', () => {
    for (const t of ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']) {
      expect(parseSshKey(sshKey(t, 6))?.type).toBe(t);
    }
    expect(parseSshKey(`  ${RSA}  `)).toEqual({ type: 'ssh-rsa', base64: RSA.split(' ')[1], comment: 'bob key with spaces', line: RSA });
  });

  test.each<[string, Partial<AutomationChoices>]>([
    ['--hostname', { hostname: 'kiln\nd-i passwd/root-password-crypted password x' }],
    ['--locale', { locale: 'en_US.UTF-8\n' }],
    ['--keyboard', { keyboard: 'us\r' }],
    ['--timezone', { timezone: 'Etc/UTC\nx' }],
    ['--disk', { disk: '/dev/vda\n' }],
    ['--release', { release: 'bookworm\n' }],
    ['--packages', { packages: ['vim\ncurl'] }],
    ['--mirror', { mirror: { url: 'http://mirror.example/debian\nd-i x string y' } }],
    ['--ssh-key', { sshKeys: [`${ED}\n${RSA}`] }],
    ['--log', { log: { host: 'h\n', port: 514 } }],
  ])('a newline in %s is refused, and the message stays one line', (option, over) => {
    for (const kind of ['preseed', 'kickstart', 'autoinstall'] as const) {
      const e = thrown(() => renderAutomation(choices(kind, over)));
      expect(e.message.startsWith(option)).toBe(true);
      expect(e.message).toContain('must be one line');
      expect(e.message).not.toMatch(/[\n\r]/);
    }
  });
});

describe('determinism', () => {
  test.each(['preseed', 'kickstart', 'autoinstall'] as const)('the same %s choices give the same output', (kind) => {
    const one = renderAutomation(choices(kind));
    const two = renderAutomation(JSON.parse(JSON.stringify(choices(kind))) as AutomationChoices);
    expect(two).toEqual(one);
  });

  test('the SSH server is installed once even when asked for; duplicates are dropped', () => {
    const a = renderAutomation(choices('preseed', { packages: ['openssh-server', 'vim', 'vim'], sshKeys: [ED, ED] }));
    expect(preseedValue(a.text, 'pkgsel/include')).toBe('openssh-server vim');
    const b64 = /echo ([A-Za-z0-9+/=]+) >/.exec(preseedValue(a.text, 'preseed/late_command') ?? '')?.[1] ?? '';
    expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(`${ED}\n`);
  });

  test('no real mirror host name appears in any output', () => {
    for (const kind of ['preseed', 'kickstart', 'autoinstall'] as const) {
      const a = renderAutomation(choices(kind));
      const all = [a.text, ...a.cmdline, ...Object.values(a.extraFiles)].join('\n');
      expect(all).not.toMatch(/debian\.org|ubuntu\.com|fedoraproject\.org|centos\.org|kernel\.org/);
    }
  });
});
