/**
 * `kiln pack` / `image-pack`: check (--test-only) or bring a target to a declarative spec.
 * Targets: `--root DIR` (chroot), `--image FILE` (a copy, written back on success), `--ssh HOST` (a live host).
 * The command's definition; its action loads the implementation (lib/cli/actions/pack.ts) when it runs.
 */
import { Command } from 'commander';
import type { PackOptions } from '../actions/pack.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Options of pack that take a value (to tell their values from the spec operands in `--help SPEC`). */
const VALUE_OPTIONS = new Set(['--image', '--root-filesystem', '--root', '--ssh', '--ssh-key', '--known-hosts', '--min-free', '--arg', '--resource-root']);

/** The spec operands among the words after `pack` (option values and spec arguments left out). */
export function helpOperands(tokens: readonly string[]): string[] {
  const operands: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (VALUE_OPTIONS.has(t)) i += 1;
    else if (!t.startsWith('-')) operands.push(t);
    else if (!t.includes('=') && operands.length > 0) i += 1; // a spec argument given as --NAME VALUE
  }
  return operands;
}

/** The words after the command's name on the command line: what `--help SPEC` reads its spec from. */
function helpTokens(name: string): string[] {
  return process.argv.slice(process.argv.indexOf(name) + 1 || 2);
}

/** What `--help SPEC` needs to load a spec (pack-info.js), once prepareSpecHelp has loaded it. */
let info: typeof import('./pack-info.js') | undefined;

/**
 * Commander asks for help text synchronously, so run() awaits this before parsing: it loads the spec
 * machinery only when the command line names a spec after the command `name`.
 */
export async function prepareSpecHelp(name: string): Promise<void> {
  if (helpOperands(helpTokens(name)).length > 0) info ??= await import('./pack-info.js');
}

function specHelpLoaded(tokens: readonly string[]): string {
  if (helpOperands(tokens).length === 0) return '';
  if (!info) throw new Error('kiln: internal error: the spec help was not loaded before parsing (prepareSpecHelp)');
  return info.specHelp(tokens);
}

export function packCommand(name: string): Command {
  return new Command(name)
    .description('check (--test-only) or bring an image, a root tree or a live host to a declarative spec')
    .argument('[spec]', 'the YAML image spec, or PLUGIN VERSION to find <plugin>/<version>/image.yaml on the spec path')
    .argument('[arguments...]', 'the spec\'s arguments as --NAME VALUE (names as declared: --java-distro openjdk)')
    .allowUnknownOption()
    .option('--list', 'list the specs on the spec path (KILN_SPEC_PATH, then flavours\' specs/) with their arguments; exit 1 if any cannot be loaded')
    .option('--all', 'with --list: show hidden arguments too')
    .option('--image <file>', 'target: an image file (qcow2, raw, vhd, vmdk); kiln works on a copy and replaces the image only when reconcile succeeds')
    .option('--root-filesystem <dev>', 'with --image: the root filesystem (/dev/sda1, /dev/vda2 or a partition number; default: the partition holding /etc/os-release)')
    .option('--root <dir>', 'target: a root tree')
    .option('--ssh <host>', 'target: a live host over SSH ([user@]host[:port])')
    .option('--ssh-key <file>', 'with --ssh: the private key to log in with (default: ssh-agent and ~/.ssh)')
    .option('--known-hosts <file>', 'with --ssh: check the host key against this file (default: ~/.ssh/known_hosts); unknown keys are refused')
    .option('--min-free <size>', 'with --image, reconcile: grow the image until its root filesystem has this much free space (default 512M; 0: never)')
    .option('--test-only', 'only check; change nothing')
    .option('--arg <name=value>', 'a spec argument (repeatable)', collect)
    .option('--resource-root <dir>', 'another directory to find scripts in (repeatable)', collect)
    .option('--json', 'print the report as JSON')
    .option('--debug', 'show stack traces')
    .addHelpText('after', () => specHelpLoaded(helpTokens(name)))
    .action(async (spec: string | undefined, rest: string[], opts: PackOptions) => (await import('../actions/pack.js')).pack(spec === undefined ? rest : [spec, ...rest], opts));
}
