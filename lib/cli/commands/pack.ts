/**
 * `kiln pack` / `image-pack`: check (--test-only) or bring a target to a declarative spec.
 * `--root DIR` works; `--image` and `--ssh` are validated and then refused until their targets exist.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { ExitWith, failed, invalid } from '../../errors/index.js';
import { enterChroot } from '../../chroot/index.js';
import { runIsolated, shouldIsolate } from '../../namespace/index.js';
import { loadSpec } from '../../spec/load.js';
import { formatResult, reportJson, summarize } from '../../spec/report.js';
import { runSpec } from '../../spec/run.js';
import { TreeTarget } from '../../spec/targets/tree.js';
import { setDebug } from '../state.js';
import { notYet } from './build.js';

interface PackOptions {
  image?: string;
  root?: string;
  ssh?: string;
  testOnly?: boolean;
  arg?: string[];
  resourceRoot?: string[];
  json?: boolean;
  debug?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

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

async function pack(specFile: string, opts: PackOptions): Promise<void> {
  setDebug(opts.debug === true);
  const targets = [opts.image, opts.root, opts.ssh].filter((t) => t !== undefined);
  if (targets.length !== 1) throw invalid('name exactly one target: --image FILE, --root DIR or --ssh HOST');
  const args = parseArgOptions(opts.arg ?? []);
  if (!fs.existsSync(specFile)) throw invalid(`spec "${specFile}" does not exist`);
  for (const r of opts.resourceRoot ?? []) requireDir(r, '--resource-root');
  const spec = loadSpec(specFile, { resourceRoots: opts.resourceRoot ?? [] });
  if (opts.image !== undefined) {
    if (!fs.existsSync(opts.image) || !fs.statSync(opts.image).isFile()) throw invalid(`image "${opts.image}" does not exist or is not a file`);
    throw notYet('the image target (--image)', 'image-pack: declarative image specs against images, root trees and live hosts');
  }
  if (opts.ssh !== undefined) {
    parseSshHost(opts.ssh);
    throw notYet('the SSH target (--ssh)', 'image-pack: declarative image specs against images, root trees and live hosts');
  }
  const root = opts.root as string;
  requireDir(root, 'root tree');
  const testOnly = opts.testOnly === true;
  // Reconcile enters the tree (/proc, /sys, /dev, resolv.conf, policy-rc.d) inside a private
  // namespace, like a build; test-only never mounts.
  if (!testOnly && (await shouldIsolate())) throw new ExitWith(await runIsolated(process.argv.slice(1)));
  const target = new TreeTarget(root, { testOnly, enter: (dir) => enterChroot(dir, {}) });
  let ok = false;
  try {
    const report = await runSpec(spec, target, {
      testOnly,
      args,
      ...(opts.json ? {} : { onResult: (r) => process.stdout.write(`${formatResult(r).join('\n')}\n`) }),
    });
    ok = report.ok;
    if (opts.json) process.stdout.write(`${reportJson(report)}\n`);
    else process.stdout.write(`${summarize(report)}\n`);
    if (!report.ok) {
      const bad = report.results.filter((r) => r.status === 'failed').length;
      throw failed(`${bad} of ${report.results.length} validators of ${spec.file} failed on ${target.description}`);
    }
  } finally {
    await target.close(ok && !testOnly ? 'commit' : 'discard');
  }
}

export function packCommand(name: string): Command {
  return new Command(name)
    .description('check (--test-only) or bring an image, a root tree or a live host to a declarative spec')
    .argument('<spec>', 'the YAML image spec')
    .option('--image <file>', 'target: an image file (qcow2 or raw)')
    .option('--root <dir>', 'target: a root tree')
    .option('--ssh <host>', 'target: a live host over SSH ([user@]host[:port])')
    .option('--test-only', 'only check; change nothing')
    .option('--arg <name=value>', 'a spec argument (repeatable)', collect)
    .option('--resource-root <dir>', 'another directory to find scripts in (repeatable)', collect)
    .option('--json', 'print the report as JSON')
    .option('--debug', 'show stack traces')
    .action((spec: string, opts: PackOptions) => pack(spec, opts));
}
