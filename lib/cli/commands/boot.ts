/** `kiln boot`: the command's definition; its action loads the implementation (lib/cli/actions/boot.ts) when it runs. */
import { Command, Option } from 'commander';
import { DEFAULT_TIMEOUT_S, SEED_KINDS } from '../../boot/choices.js';
import type { BootFlags } from '../actions/boot.js';

export function bootCommand(): Command {
  return new Command('boot')
    .description('boot an image (or a kernel + initrd) in QEMU and report the seconds to each milestone')
    .argument('[image]', 'the disk image to boot (qcow2, raw, vhd or vmdk; never modified without --persist)')
    .option('--ssh', 'log in over SSH (as root, or --ssh-user) with the local key and run a command: the proof of the boot (after --expect, if given)')
    .option('--ssh-key <file>', 'the private key for --ssh (default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa); its public half (FILE.pub) goes on the metadata drive')
    .option('--ssh-user <name>', 'the user --ssh logs in as (default root)')
    .option('--ssh-command <cmd>', 'the command --ssh runs (default: true)')
    .option('--metadata <file.json>', "attach a config drive (ISO labelled config-2) with this OpenStack meta_data.json (uuid, hostname, public_keys, …; missing uuid and hostname are made up)")
    .option('--user-data <file>', 'user data on the metadata drive (a #cloud-config document, a script, …)')
    .addOption(new Option('--seed <kind>', 'the metadata drive: an OpenStack config drive (default) or a NoCloud seed (label cidata); attached even without --metadata').choices([...SEED_KINDS]))
    .option('--timeout <seconds>', 'give up after this long', String(DEFAULT_TIMEOUT_S))
    .option('--expect <regex>', 'a console line that means success (default: a login prompt)')
    .option('--efi', 'boot with UEFI firmware (OVMF; arm64 always boots with AAVMF)')
    .option('--arch <arch>', "the guest's architecture, amd64 or arm64 (default: the build manifest beside the image, else the host's): qemu-system-x86_64 q35 or qemu-system-aarch64 virt")
    .option('--allow-backing-file', 'boot an overlay: accept a qcow2 whose backing file is a self-contained image (any other reference is still refused)')
    .option('--kernel <file>', 'boot this kernel directly (with --initrd, --append)')
    .option('--initrd <file>', 'the initramfs for --kernel')
    .option('--append <args>', 'kernel command line for --kernel (console=ttyS0 is added unless a console= is given)')
    .option('--disk <file>', 'attach another disk (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--persist', 'write through to the image and disks (default: throw-away snapshot)')
    .addOption(new Option('--accel <accel>', 'force the accelerator (default: KVM only when a probe shows it works)').choices(['kvm', 'tcg']))
    .option('--memory <mib>', 'guest memory in MiB (default 1024)')
    .option('--cpus <n>', 'virtual CPUs (default 2)')
    .option('--cpu-model <model>', "QEMU's -cpu model (default: host under KVM, the TCG default otherwise)")
    .addOption(new Option('--tcg-thread <mode>', 'TCG only: all virtual CPUs in one host thread (single, the default) or one thread each (multi)').choices(['single', 'multi']))
    .option('--console-log <file>', 'where the timestamped console log goes (default: a file in the temporary directory)')
    .option('--show-console', 'copy the console to stderr as it arrives')
    .option('--json', 'print the report as JSON')
    .option('--debug', 'show stack traces')
    .action(async (image: string | undefined, flags: BootFlags) => (await import('../actions/boot.js')).boot(image, flags));
}
