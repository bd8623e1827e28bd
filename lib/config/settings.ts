import os from 'node:os';
import path from 'node:path';
import type { Format } from '../output/formats.js';
import type { RegistryMode } from '../cache/remote.js';
import { parseRepoRef, type RepoRef } from '../registry/ref.js';
import { hostArch, parseArch, parseBool, parseChoice, parseFormats, parseList, parseSize } from './parse.js';
import { DEFAULT_RELEASE } from '../distro/releases.js';

/**
 * The one settings table: each row is a flag, its environment variable, its default, its help and its
 * validator. It drives option parsing, --help, --env-file and the frozen BuildConfig.
 */
export interface BuildSettings {
  output: string;
  types: Format[];
  arch: string;
  trace: boolean;
  skipBase: boolean;
  packages: string[];
  uncompressed: boolean;
  imageSize: number | undefined;
  imageCache: string;
  offline: boolean;
  tmpfs: boolean;
  logfile: string | undefined;
  checksum: boolean;
  json: boolean;
  dryRun: boolean;
  debug: boolean;
  release: string;
  mirror: string | undefined;
  elementsPath: string | undefined;
  /** undefined: kiln's default (defaultOperatingSystem); null: none. */
  defaultOs: string | null | undefined;
  blockDevice: 'mbr' | 'efi';
  boot: boolean;
  check: boolean;
  cache: boolean;
  cacheSize: number;
  /** --cache-registry HOST[:PORT]/REPO: the step cache shared through an OCI registry. */
  cacheRegistry: RepoRef | undefined;
  cacheRegistryMode: RegistryMode;
  insecureRegistry: boolean;
  verify: boolean;
  ramdiskCompression: 'gzip' | 'zstd';
  ramdiskElement: string;
}

export type SettingKey = keyof BuildSettings;

export interface Setting<K extends SettingKey = SettingKey> {
  readonly key: K;
  /** commander flag spelling, e.g. "-o, --output <name>". */
  readonly flags: string;
  /** Environment variable that sets it (also read from --env-file). */
  readonly env?: string;
  readonly help: string;
  readonly default: () => BuildSettings[K];
  /** For switches (no value): the value when the flag is given. */
  readonly switchValue?: BuildSettings[K];
  /** Parses a value from the command line or the environment; `where` names the source in errors. */
  readonly parse: (raw: string, where: string) => BuildSettings[K];
}

function setting<K extends SettingKey>(s: Setting<K>): Setting<K> {
  return s;
}

/** kiln's ramdisk element: what diskimage-builder's default, `ramdisk`, is to its ramdisks. */
export const DEFAULT_RAMDISK_ELEMENT = 'ramdisk-base';

const text = (raw: string) => raw;
const optionalText = (raw: string) => (raw.trim() === '' ? undefined : raw);

export const SETTINGS: readonly Setting[] = [
  setting({ key: 'output', flags: '-o, --output <name>', help: 'output name; each format adds its extension', default: () => 'image', parse: text }),
  setting({
    key: 'types',
    flags: '-t, --type <list>',
    env: 'KILN_IMAGE_TYPES',
    help: 'output formats, comma separated: qcow2, raw, vhd, vmdk, tar, tgz, squashfs, oci',
    default: () => ['qcow2'],
    parse: parseFormats,
  }),
  setting({ key: 'arch', flags: '-a, --arch <arch>', env: 'ARCH', help: 'architecture (amd64, arm64, …)', default: hostArch, parse: parseArch }),
  setting({ key: 'trace', flags: '-x, --trace', env: 'DIB_DEBUG_TRACE', help: 'trace hooks (set -x)', default: () => false, switchValue: true, parse: parseTrace }),
  setting({ key: 'skipBase', flags: '-n, --skip-base', help: "don't add the default 'base' flavour (accepted for compatibility)", default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'packages', flags: '-p, --packages <list>', help: 'extra packages to install, comma separated', default: () => [], parse: parseList }),
  setting({ key: 'uncompressed', flags: '-u, --uncompressed', help: "don't compress the qcow2 image", default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'imageSize', flags: '--image-size <size>', env: 'DIB_IMAGE_SIZE', help: 'image size: GiB, or with a unit (512M, 3G); default: tree size plus a margin', default: () => undefined, parse: parseSize }),
  setting({ key: 'imageCache', flags: '--image-cache <dir>', env: 'DIB_IMAGE_CACHE', help: 'cache directory', default: defaultCache, parse: (raw) => path.resolve(raw) }),
  setting({ key: 'offline', flags: '--offline', env: 'DIB_OFFLINE', help: 'use only cached data; fail if it is missing', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'tmpfs', flags: '--no-tmpfs', env: 'DIB_NO_TMPFS', help: "don't build in a tmpfs", default: () => true, switchValue: false, parse: (raw, where) => !parseBool(raw, where) }),
  setting({ key: 'logfile', flags: '--logfile <file>', help: 'also write the log to this file', default: () => undefined, parse: optionalText }),
  setting({ key: 'checksum', flags: '--checksum', env: 'DIB_CHECKSUM', help: 'write .md5 and .sha256 beside each output', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'json', flags: '--json', help: 'machine-readable output (events, one JSON object a line)', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'dryRun', flags: '--dry-run', help: 'print the plan and stop', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'debug', flags: '--debug', env: 'KILN_DEBUG', help: 'show stack traces and debug logs', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'release', flags: '--release <name>', env: 'DIB_RELEASE', help: 'distribution release: a codename (bookworm, trixie, sid, …) or a suite name (stable, testing, unstable, oldstable)', default: () => DEFAULT_RELEASE, parse: text }),
  setting({ key: 'mirror', flags: '--mirror <url>', env: 'DIB_DISTRIBUTION_MIRROR', help: "package mirror (default: the host's apt sources)", default: () => undefined, parse: optionalText }),
  setting({ key: 'elementsPath', flags: '--elements-path <dirs>', env: 'ELEMENTS_PATH', help: 'colon-separated flavour directories searched before kiln\'s own', default: () => undefined, parse: optionalText }),
  setting({
    key: 'defaultOs',
    flags: '--default-os <name>',
    env: 'KILN_DEFAULT_OS',
    help: 'flavour added when none named provides operating-system (default: debian; debian-nocloud for a ramdisk); "none" adds none',
    default: () => undefined,
    parse: (raw) => (raw.trim() === 'none' ? null : raw.trim()),
  }),
  setting({ key: 'blockDevice', flags: '--block-device <layout>', env: 'DIB_BLOCK_DEVICE', help: 'disk layout: mbr (BIOS GRUB) or efi (GPT + ESP)', default: () => 'mbr' as const, parse: parseChoice(['mbr', 'efi'] as const) }),
  setting({ key: 'boot', flags: '--boot', help: 'boot the image in QEMU after building it', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'check', flags: '--check', env: 'KILN_CHECK', help: "check the finished tree against the flavours' image.yaml specs (test-only); fail the build if one does not hold", default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'ramdiskCompression', flags: '--ramdisk-compression <method>', env: 'KILN_RAMDISK_COMPRESSION', help: 'how ramdisk-image-create compresses the initramfs: gzip or zstd', default: () => 'gzip' as const, parse: parseChoice(['gzip', 'zstd'] as const) }),
  setting({
    key: 'ramdiskElement',
    flags: '--ramdisk-element <name>',
    env: 'RAMDISK_ELEMENT',
    help: 'the flavour every ramdisk build adds (diskimage-builder\'s --ramdisk-element); default: ramdisk-base',
    default: () => DEFAULT_RAMDISK_ELEMENT,
    parse: (raw) => raw.trim() || DEFAULT_RAMDISK_ELEMENT,
  }),
  setting({ key: 'cache', flags: '--no-cache', env: 'KILN_NO_CACHE', help: "don't use the step cache (neither restore nor store)", default: () => true, switchValue: false, parse: (raw, where) => !parseBool(raw, where) }),
  setting({ key: 'verify', flags: '--verify', env: 'KILN_VERIFY', help: 'build a second time with --no-cache in a directory of its own and compare every output byte for byte (exit 1 if one differs)', default: () => false, switchValue: true, parse: parseBool }),
  setting({ key: 'cacheSize', flags: '--cache-size <size>', env: 'KILN_CACHE_SIZE', help: 'size limit of the step cache; least recently used entries go first (default 10G)', default: () => 10 * 2 ** 30, parse: (raw, where) => parseSize(raw, where, 'the step cache') }),
  setting({
    key: 'cacheRegistry',
    flags: '--cache-registry <host/repo>',
    env: 'KILN_CACHE_REGISTRY',
    help: 'share the step cache through an OCI registry (HOST[:PORT]/REPO): look missed steps up there, push stored ones; credentials from REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json or ~/.docker/config.json',
    default: () => undefined,
    parse: (raw, where) => (raw.trim() === '' ? undefined : parseRepoRef(raw, where)),
  }),
  setting({
    key: 'cacheRegistryMode',
    flags: '--cache-registry-mode <mode>',
    env: 'KILN_CACHE_REGISTRY_MODE',
    help: 'pull (read only, for untrusted builders), push (write only) or readwrite (default)',
    default: () => 'readwrite' as const,
    parse: parseChoice(['pull', 'push', 'readwrite'] as const),
  }),
  setting({ key: 'insecureRegistry', flags: '--insecure-registry', env: 'KILN_INSECURE_REGISTRY', help: 'speak plain HTTP to a registry that is not on loopback (loopback always is)', default: () => false, switchValue: true, parse: parseBool }),
];

export function defaultCache(): string {
  return path.join(os.homedir(), '.cache', 'image-create');
}

function parseTrace(raw: string, where: string): boolean {
  if (/^[0-9]+$/.test(raw.trim())) return Number(raw) > 0;
  return parseBool(raw, where);
}

/** The long option name commander uses for a setting ("--no-tmpfs" → "tmpfs"). */
export function optionAttribute(s: Setting): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(s.flags)?.[1] ?? s.key;
  return long.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
