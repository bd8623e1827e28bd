/** `kiln publish` and `kiln build --publish`: what runs once the options are parsed (loaded only then). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { resolveConnection } from '../../publish/connection.js';
import { defaultImageName, parseProperties, parseRate, type Visibility } from '../../publish/image.js';
import { isRegistryDestination, publishContainerDisk } from '../../publish/container-disk.js';
import { publish, type PublishOptions, type PublishResult } from '../../publish/index.js';
import { withScope } from '../../scope/index.js';
import { progressPrinter, type PublishFlags } from '../commands/publish.js';

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

export async function runPublish(file: string, name: string | undefined, settings: Omit<PublishOptions, 'file' | 'name'>): Promise<PublishResult> {
  installSignalHandlers();
  const r = await withScope((scope) => publish(scope, { ...settings, file, name: name ?? defaultImageName(file) }));
  settings.say(`kiln: published ${r.name} as image ${r.id} (${r.diskFormat}, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, sha512 verified) in ${r.seconds.toFixed(1)} s`);
  return r;
}

/** The options that only mean something for Glance: given with --to docker://…, they are refused. */
const GLANCE_ONLY = ['property', 'visibility', 'replace', 'deleteOld', 'osCloud', 'glanceEndpoint', 'token', 'limitRate', 'wait'] as const;

/** `kiln publish IMAGE`'s action. */
export async function publishAction(cmd: Command, image: string, flags: PublishFlags & { to?: string; insecureRegistry?: boolean }): Promise<void> {
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
}
