/**
 * `kiln publish IMAGE` and the publishing options `kiln build --publish` shares with it. Everything the
 * user gave is checked (connection, properties, visibility, rate) before a build starts or a request is made.
 */
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { resolveConnection } from '../../publish/connection.js';
import { defaultImageName, parseProperties, parseRate, VISIBILITIES, type Visibility } from '../../publish/image.js';
import { isRegistryDestination, publishContainerDisk } from '../../publish/container-disk.js';
import { publish, type PublishOptions, type PublishResult } from '../../publish/index.js';
import { withScope } from '../../scope/index.js';

interface PublishFlags {
  name?: string;
  property?: string[];
  visibility?: string;
  replace?: boolean;
  deleteOld?: boolean;
  osCloud?: string;
  glanceEndpoint?: string;
  token?: string;
  limitRate?: string;
  wait?: string;
  json?: boolean;
}

/** The options `kiln build` adds for publishing: --publish, then the connection and record options. */
export function buildPublishOptions(): Option[] {
  return [new Option('--publish', 'upload the image to OpenStack Glance after the build (see kiln publish --help)'), ...publishOptions('--publish-name')];
}

/** Adds the connection and record options; `nameFlag` is --name for publish, --publish-name for build. */
export function addPublishOptions(cmd: Command, nameFlag: '--name' | '--publish-name'): Command {
  for (const o of publishOptions(nameFlag)) cmd.addOption(o);
  return cmd;
}

function publishOptions(nameFlag: '--name' | '--publish-name'): Option[] {
  return new Command()
    .addOption(new Option(`${nameFlag} <name>`, nameFlag === '--name' ? "the image name in Glance, or with --to docker://… the disk's name under disk/ (default: the file name without its extension)" : 'the image name in Glance (default: the file name without its extension)'))
    .addOption(new Option('--property <key=value>', 'an image property (repeatable); overrides the ones kiln derives').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--visibility <visibility>', 'who may see the image').choices([...VISIBILITIES]).default('private'))
    .option('--replace', 'swap the new image in under the name once it is active; the old one is renamed NAME.replaced-DATE')
    .option('--delete-old', 'with --replace: delete the old image instead of renaming it')
    .option('--os-cloud <name>', 'a cloud from clouds.yaml [env OS_CLOUD]')
    .option('--glance-endpoint <url>', 'talk to this Glance directly (no Keystone), e.g. http://127.0.0.1:9292')
    .option('--token <token>', 'a token for --glance-endpoint, or to scope through Keystone [env OS_TOKEN with --glance-endpoint]')
    .option('--limit-rate <rate>', 'upload at most this many bytes per second (500K, 20M)')
    .option('--wait <seconds>', 'how long to wait for Glance to make the image active after the upload', '600').options as Option[];
}

/** Validates the publishing options into PublishOptions minus the file and name (set once known). */
export function publishSettings(flags: PublishFlags, env: NodeJS.ProcessEnv = process.env): Omit<PublishOptions, 'file' | 'name'> {
  if (flags.deleteOld && !flags.replace) throw invalid('--delete-old only makes sense with --replace');
  const token = flags.token ?? (flags.glanceEndpoint !== undefined ? env.OS_TOKEN : undefined);
  const connection = resolveConnection({ ...(flags.osCloud !== undefined ? { osCloud: flags.osCloud } : {}), ...(flags.glanceEndpoint !== undefined ? { glanceEndpoint: flags.glanceEndpoint } : {}), ...(token ? { token } : {}) }, env, readIfExists);
  const wait = Number(flags.wait ?? '600');
  if (!Number.isFinite(wait) || wait <= 0) throw invalid(`--wait ${flags.wait}: expected a number of seconds`);
  return {
    properties: parseProperties(flags.property ?? []),
    visibility: (flags.visibility ?? 'private') as Visibility,
    replace: flags.replace === true,
    deleteOld: flags.deleteOld === true,
    ...(flags.limitRate !== undefined ? { limitRate: parseRate(flags.limitRate) } : {}),
    waitSeconds: wait,
    connection,
    say: (line) => process.stderr.write(`${line}\n`),
    progress: progressPrinter(process.stderr),
  };
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A TTY gets one line rewritten in place; a log gets a line at every 10 %. */
export function progressPrinter(out: NodeJS.WriteStream): (sent: number, total: number, final: boolean) => void {
  const t0 = Date.now();
  let lastTenth = -1;
  return (sent, total, final) => {
    const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? sent / secs / 2 ** 20 : 0;
    const line = `kiln: uploading ${(sent / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB (${pct} %, ${rate.toFixed(1)} MiB/s)`;
    if (out.isTTY) {
      out.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(pct / 10);
    if (final || tenth > lastTenth) {
      lastTenth = tenth;
      out.write(`${line}\n`);
    }
  };
}

export async function runPublish(file: string, name: string | undefined, settings: Omit<PublishOptions, 'file' | 'name'>): Promise<PublishResult> {
  installSignalHandlers();
  const r = await withScope((scope) => publish(scope, { ...settings, file, name: name ?? defaultImageName(file) }));
  settings.say(`kiln: published ${r.name} as image ${r.id} (${r.diskFormat}, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, sha512 verified) in ${r.seconds.toFixed(1)} s`);
  return r;
}

/** argv without the publishing options: the privileged (or namespaced) re-run builds, the caller publishes. */
export function withoutPublishArgs(argv: readonly string[], options: readonly Option[] = buildPublishOptions()): string[] {
  const takesValue = new Map(options.map((o) => [o.long as string, o.required || o.optional]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const flag = a.split('=')[0] as string;
    if (!takesValue.has(flag)) out.push(a);
    else if (takesValue.get(flag) && !a.includes('=')) i += 1;
  }
  return out;
}

/** The options that only mean something for Glance: given with --to docker://…, they are refused. */
const GLANCE_ONLY = ['property', 'visibility', 'replace', 'deleteOld', 'osCloud', 'glanceEndpoint', 'token', 'limitRate', 'wait'] as const;

export function publishCommand(): Command {
  const cmd = new Command('publish')
    .description('upload an image to OpenStack Glance with the properties Nova needs, verified by its sha512; or, with --to docker://…, push it to an OCI registry as a KubeVirt containerDisk')
    .argument('<image>', 'the image file (qcow2, raw, vhd, vmdk; the format is read from the file)');
  addPublishOptions(cmd, '--name');
  cmd.option('--to <destination>', 'docker://HOST[:PORT]/REPO:TAG: push the disk (qcow2 or raw) as a KubeVirt containerDisk (disk/NAME.qcow2, 107:107) instead of uploading to Glance');
  cmd.option('--insecure-registry', 'with --to docker://: plain HTTP to a registry that is not on loopback');
  cmd.option('--json', 'print the result as JSON');
  cmd.action(async (image: string, flags: PublishFlags & { to?: string; insecureRegistry?: boolean }) => {
    if (flags.to !== undefined) {
      if (!isRegistryDestination(flags.to)) throw invalid(`--to ${flags.to}: expected docker://HOST[:PORT]/REPO:TAG (without --to, kiln publishes to Glance)`);
      const glanceOnly = GLANCE_ONLY.filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (glanceOnly.length > 0) throw invalid(`--to ${flags.to}: ${glanceOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only applies to Glance`);
      installSignalHandlers();
      const r = await withScope((scope) =>
        publishContainerDisk(scope, { file: image, to: flags.to as string, ...(flags.name !== undefined ? { name: flags.name } : {}), insecure: flags.insecureRegistry === true, env: process.env, say: (line) => process.stderr.write(`${line}\n`) }),
      );
      process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${r.destination}@${r.digest}\n`);
      return;
    }
    if (flags.insecureRegistry) throw invalid('--insecure-registry only applies with --to docker://…');
    const settings = publishSettings(flags);
    const r = await runPublish(image, flags.name, settings);
    if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${r.id}\n`);
  });
  return cmd;
}
