/**
 * `kiln publish IMAGE` and the publishing options `kiln build --publish` shares with it. Everything the
 * user gave is checked (connection, properties, visibility, rate) before a build starts or a request is made.
 *
 * The command's definition; its action loads the implementation (lib/cli/actions/publish.ts) when it runs.
 */
import { Command, Option } from 'commander';
import { VISIBILITIES } from '../../publish/visibility.js';

export interface PublishFlags {
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

export function publishCommand(): Command {
  const cmd = new Command('publish')
    .description('upload an image to OpenStack Glance with the properties Nova needs, verified by its sha512; or, with --to docker://…, push it to an OCI registry as a KubeVirt containerDisk')
    .argument('<image>', 'the image file (qcow2, raw, vhd, vmdk; the format is read from the file)');
  addPublishOptions(cmd, '--name');
  cmd.option('--to <destination>', 'docker://HOST[:PORT]/REPO:TAG: push the disk (qcow2 or raw) as a KubeVirt containerDisk (disk/NAME.qcow2, 107:107) instead of uploading to Glance');
  cmd.option('--insecure-registry', 'with --to docker://: plain HTTP to a registry that is not on loopback');
  cmd.option('--json', 'print the result as JSON');
  cmd.action(async (image: string, flags: PublishFlags & { to?: string; insecureRegistry?: boolean }) => (await import('../actions/publish.js')).publishAction(cmd, image, flags));
  return cmd;
}
