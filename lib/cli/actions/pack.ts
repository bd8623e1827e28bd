/** `kiln pack` / `image-pack`: what runs once the options are parsed (loaded only then). */
import fs from 'node:fs';
import { ExitWith, failed, invalid } from '../../errors/index.js';
import { enterChroot } from '../../chroot/index.js';
import { runIsolated, shouldIsolate } from '../../namespace/index.js';
import { needsUnprivilegedPath, runUnprivileged } from '../../privilege/index.js';
import { loadSpec } from '../../spec/load.js';
import { resolveArguments } from '../../spec/arguments.js';
import { findSpec, specRoots, splitOperands } from '../../spec/catalog.js';
import { formatIssue } from '../../spec/types.js';
import { isFile, listAll } from '../commands/pack-info.js';
import { formatResult, reportJson, summarize } from '../../spec/report.js';
import { runSpec } from '../../spec/run.js';
import { TreeTarget } from '../../spec/targets/tree.js';
import { setDebug } from '../state.js';
import { parseSize } from '../../config/parse.js';
import path from 'node:path';
import { installSignalHandlers } from '../../exec/cancel.js';
import { lockOutput } from '../../build/lock.js';
import { createWorkDir, sweepStale } from '../../build/workdir.js';
import { withScope } from '../../scope/index.js';
import { mountOverlay } from '../../mount/index.js';
import { ImageTarget, partitionNumber } from '../../spec/targets/image.js';
import { SshTarget } from '../../spec/targets/ssh.js';
import type { Target } from '../../spec/targets/target.js';
import type { Spec } from '../../spec/types.js';

export interface PackOptions {
  image?: string;
  rootFilesystem?: string;
  minFree?: string;
  sshKey?: string;
  list?: boolean;
  all?: boolean;
  knownHosts?: string;
  root?: string;
  ssh?: string;
  testOnly?: boolean;
  arg?: string[];
  resourceRoot?: string[];
  json?: boolean;
  debug?: boolean;
}

/** `--arg NAME=VALUE` list → map; a repeated name is an error. */
export function parseArgOptions(list: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$/s.exec(a);
    if (!m || m[1] === undefined || m[2] === undefined) throw invalid(`--arg "${a}" is not NAME=VALUE`);
    if (out.has(m[1])) throw invalid(`--arg ${m[1]} is given twice`);
    out.set(m[1], m[2]);
  }
  return out;
}

/** `[user@]host[:port]` */
export function parseSshHost(spec: string): { user: string | undefined; host: string; port: number } {
  const m = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(spec);
  const port = m?.[3] === undefined ? 22 : Number(m[3]);
  if (!m || m[2] === undefined || port < 1 || port > 65535) throw invalid(`--ssh "${spec}" is not [user@]host[:port]`);
  return { user: m[1], host: m[2], port };
}

function requireDir(dir: string, what: string): void {
  if (!fs.existsSync(dir)) throw invalid(`${what} "${dir}" does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw invalid(`${what} "${dir}" is not a directory`);
}

/** Free space a reconcile of an image makes sure of before it runs (built images are sized to fit). */
const DEFAULT_MIN_FREE = 512 * 2 ** 20;

/** The action: `operands` are the spec (a file, or PLUGIN VERSION) and its arguments. */
export async function pack(operands: readonly string[], opts: PackOptions): Promise<void> {
  setDebug(opts.debug === true);
  if (opts.list) {
    listAll(opts.json === true, opts.all === true, (text) => process.stdout.write(text));
    return;
  }
  if (opts.all) throw invalid('--all only applies to --list');
  const split = splitOperands(operands, isFile);
  const targets = [opts.image, opts.root, opts.ssh].filter((t) => t !== undefined);
  if (targets.length !== 1) throw invalid('name exactly one target: --image FILE, --root DIR or --ssh HOST');
  const args = parseArgOptions(opts.arg ?? []);
  for (const [k, v] of split.args) {
    if (args.has(k)) throw invalid(`argument ${k} is given twice (--arg and --${k})`);
    args.set(k, v);
  }
  const specFile = 'file' in split.spec ? split.spec.file : findSpec(specRoots(process.env), split.spec.plugin, split.spec.version).file;
  if (!fs.existsSync(specFile)) throw invalid(`spec "${specFile}" does not exist`);
  for (const r of opts.resourceRoot ?? []) requireDir(r, '--resource-root');
  const spec = loadSpec(specFile, { resourceRoots: opts.resourceRoot ?? [] });
  if (opts.rootFilesystem !== undefined && opts.image === undefined) throw invalid('--root-filesystem only applies to --image');
  if (opts.minFree !== undefined && opts.image === undefined) throw invalid('--min-free only applies to --image');
  if ((opts.sshKey !== undefined || opts.knownHosts !== undefined) && opts.ssh === undefined) throw invalid('--ssh-key and --known-hosts only apply to --ssh');
  const testOnly = opts.testOnly === true;
  resolveArguments(spec.arguments, args, spec.file); // bad arguments are refused before any target is touched
  if (opts.ssh !== undefined) {
    const host = parseSshHost(opts.ssh);
    installSignalHandlers();
    const target = await SshTarget.open(host, { ...(opts.sshKey !== undefined ? { identity: opts.sshKey } : {}), ...(opts.knownHosts !== undefined ? { knownHosts: opts.knownHosts } : {}) });
    await check(spec, target, testOnly, args, opts.json === true);
    return;
  }
  if (opts.image !== undefined) {
    const image = opts.image;
    if (!fs.existsSync(image) || !fs.statSync(image).isFile()) throw invalid(`image "${image}" does not exist or is not a file`);
    if (opts.rootFilesystem !== undefined) partitionNumber(opts.rootFilesystem);
    const minFree = opts.minFree === undefined ? DEFAULT_MIN_FREE : /^\s*0\s*$/.test(opts.minFree) ? 0 : parseSize(opts.minFree, '--min-free');
    if (process.getuid?.() !== 0) throw invalid('--image needs root (it mounts a copy of the image through a loop device, which a rootless run in a user namespace cannot set up): run as root, or through sudo as a member of the kiln group');
    // The copy is mounted inside a private namespace: a killed run leaves no mount or loop device.
    if (await shouldIsolate()) throw new ExitWith(await runIsolated(process.argv.slice(1)));
    installSignalHandlers();
    const say = (line: string) => process.stderr.write(`${line}\n`);
    await sweepStale([path.dirname(path.resolve(image))], say);
    const unlock = testOnly ? () => undefined : lockOutput(image);
    try {
      await withScope(async (scope) => {
        const target = await ImageTarget.open(scope, image, { testOnly, say, minFree, ...(opts.rootFilesystem !== undefined ? { rootFilesystem: opts.rootFilesystem } : {}) });
        await check(spec, target, testOnly, args, opts.json === true);
      });
    } finally {
      unlock();
    }
    return;
  }
  const root = opts.root as string;
  requireDir(root, 'root tree');
  // Inside a private namespace, like a build: reconcile enters the tree itself (/proc, /sys, /dev,
  // resolv.conf, policy-rc.d); test-only enters a throwaway overlay of it, so whatever the spec's scripts
  // write (Sahara's plugin scripts create directories and run apt-get update even with test_only=1) never
  // reaches the tree.
  // Not root: through sudo for a member of the kiln group, else rootless in a user namespace (the tree's owners
  // as the user's rootless builds made them: the user's files are root's there).
  if (needsUnprivilegedPath()) throw new ExitWith(await runUnprivileged(process.argv[1] as string, process.argv.slice(2)));
  if (await shouldIsolate()) throw new ExitWith(await runIsolated(process.argv.slice(1)));
  installSignalHandlers();
  const enter = (dir: string) => enterChroot(dir, {});
  if (!testOnly) {
    await check(spec, new TreeTarget(root, { testOnly, enter }), testOnly, args, opts.json === true);
    return;
  }
  await withScope(async (scope) => {
    // A work directory (not a tmp-promise one): it holds mounts, which its removal takes down first.
    const work = await createWorkDir(scope, false);
    const view = path.join(work, 'root');
    await mountOverlay(scope, root, view, path.join(work, 'scratch'));
    await check(spec, new TreeTarget(view, { testOnly: false, enter, description: `tree ${root}` }), testOnly, args, opts.json === true);
  });
}

/** Runs the spec, prints the report, and closes the target: commit only when a reconcile conformed. */
async function check(spec: Spec, target: Target, testOnly: boolean, args: Map<string, string>, json: boolean): Promise<void> {
  for (const n of spec.notes) process.stderr.write(`kiln: warning: ${formatIssue(n)}\n`);
  let ok = false;
  try {
    const report = await runSpec(spec, target, {
      testOnly,
      args,
      ...(json ? {} : { onResult: (r) => process.stdout.write(`${formatResult(r).join('\n')}\n`) }),
    });
    ok = report.ok;
    if (json) process.stdout.write(`${reportJson(report)}\n`);
    else process.stdout.write(`${summarize(report)}\n`);
    if (!report.ok) {
      const bad = report.results.filter((r) => r.status === 'failed').length;
      throw failed(`${bad} of ${report.results.length} validators of ${spec.file} failed on ${target.description}${testOnly || !(target instanceof ImageTarget) ? '' : ' (the image was left as it was)'}`);
    }
  } finally {
    await target.close(ok && !testOnly ? 'commit' : 'discard');
  }
}
