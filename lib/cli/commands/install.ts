/** `kiln install`: an operating system's own installer in a VM, then customised and converted (lib/install). */
import { Command } from 'commander';
import type { InstallOpts } from '../actions/install.js';

/** The action loads lib/cli/actions/install.ts when it runs. */
export function installCommand(): Command {
  return new Command('install')
    .description("install an operating system with its own installer in a VM (automation from libosinfo), customise it over SSH, convert it")
    .option('--os <id>', 'libosinfo short id: debian12, debian11, fedora37, …')
    .option('-o, --output <name>', 'output name (NAME.qcow2, …)')
    .option('-t, --types <list>', 'output formats: qcow2, raw, vhd, vmdk', 'qcow2')
    .option('--size <GiB>', "disk size (default: libosinfo's minimum for the OS)")
    .option('--memory <MiB>', "VM memory (default: libosinfo's recommendation, at least 1024)")
    .option('--cpus <n>', 'virtual CPUs', '1')
    .option('--packages <a,b>', 'packages to install (by the installer and again in the second stage)')
    .option('--spec <image.yaml>', 'an image spec to apply in the second stage')
    .option('--ssh-key <file>', 'private key kiln logs in with; FILE.pub is installed for root (default ~/.ssh/id_ed25519 or id_rsa)')
    .option('--kernel <file>', "the installer's kernel (with --initrd; default: from the OS's install tree)")
    .option('--initrd <file>', "the installer's initrd")
    .option('--installed <disk>', 'a disk an installer already wrote: run only the second stage on a copy of it')
    .option('--mirror <url>', "package mirror / install tree (default for Debian: the host's apt sources)")
    .option('--hostname <name>', 'host name of the installed system', 'kiln')
    .option('--locale <locale>', 'locale', 'en_US.UTF-8')
    .option('--keyboard <layout>', 'keyboard layout', 'us')
    .option('--timezone <zone>', 'time zone', 'Etc/UTC')
    .option('--inactivity <seconds>', 'a stall: no disk, network, console or installer-log activity for this long', '300')
    .option('--timeout <seconds>', 'give up on the install after this long', '7200')
    .option('--image-cache <dir>', 'cache directory (installer downloads) [env DIB_IMAGE_CACHE]')
    .option('--checksum', 'write .md5 and .sha256 beside each output')
    .option('--dry-run', 'print the rendered automation file and the VM plan; start nothing')
    .option('--list', 'list the operating systems kiln can install')
    .option('--json', 'machine-readable --list, and build events on stdout')
    .action(async (o: InstallOpts) => (await import('../actions/install.js')).install(o));
}
