/**
 * diskimage-builder's shell library, which elements source as $_LIB/<file> (img-functions for
 * select_boot_kernel_initrd, the *-defaults files, common-functions and ramdisk-functions, die), staged into
 * TMP_HOOKS_PATH/lib for every build.
 *
 * When diskimage-builder's own elements directory is on the search path, its lib/ beside it is on the host:
 * those files are staged as they are, so its elements get the library they were written against (and the
 * build is keyed by their bytes: shellLibraryDigest). Otherwise kiln's own versions are staged: the defaults,
 * img-functions (select_boot_kernel_initrd, run_in_target) and die; common-functions and ramdisk-functions
 * are diskimage-builder's build driver and ramdisk assembly, which kiln does itself, so sourcing them
 * without diskimage-builder fails with a message saying so. dib-run-parts is always kiln's (img-functions
 * names it as $_LIB/dib-run-parts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDibElementsDir } from '../flavours/discover.js';
import { DIB_RUN_PARTS } from './dib-run-parts.js';

/** The files of diskimage-builder's lib/ that elements source (grep its elements for "$_LIB/"). */
export const LIBRARY_FILES = ['common-defaults', 'common-functions', 'die', 'img-defaults', 'img-functions', 'ramdisk-defaults', 'ramdisk-functions'] as const;

/** diskimage-builder's lib/ directory, when one of the search path's entries is its elements directory. */
export function findUpstreamLibrary(searchPaths: readonly string[]): string | undefined {
  for (const entry of searchPaths) {
    if (!isDibElementsDir(entry)) continue;
    const lib = path.join(path.dirname(path.resolve(entry)), 'lib');
    if (LIBRARY_FILES.every((f) => fs.existsSync(path.join(lib, f)))) return lib;
  }
  return undefined;
}

/** File name → text of what is staged as $_LIB: diskimage-builder's files from `upstream`, or kiln's own. */
export function shellLibrary(upstream: string | undefined): Record<string, string> {
  const files: Record<string, string> = upstream
    ? Object.fromEntries(LIBRARY_FILES.map((f) => [f, fs.readFileSync(path.join(upstream, f), 'utf8')]))
    : { ...NATIVE };
  files['dib-run-parts'] = DIB_RUN_PARTS;
  return files;
}

/** diskimage-builder's _BASE_ELEMENT_DIR (its common-defaults appends it to ELEMENTS_PATH): its elements beside its lib/, else kiln's flavours. */
export function baseElementDir(upstream: string | undefined, builtin: string): string {
  return upstream ? path.join(path.dirname(upstream), 'elements') : builtin;
}

/** A digest of diskimage-builder's library files (a step-cache input of builds that stage them). */
export function shellLibraryDigest(upstream: string): string {
  const h = crypto.createHash('sha256');
  for (const f of LIBRARY_FILES) h.update(`${f}\0`).update(fs.readFileSync(path.join(upstream, f))).update('\0');
  return h.digest('hex').slice(0, 32);
}

const COMMON_DEFAULTS = `# kiln: diskimage-builder's common-defaults (the variables every element may rely on).
if [ -z "\${ARCH:-}" ]; then
    if command -v dpkg >/dev/null 2>&1; then
        ARCH=$(dpkg --print-architecture)
    else
        case $(uname -m) in
            x86_64) ARCH=amd64 ;;
            aarch64) ARCH=arm64 ;;
            armv*) ARCH=armhf ;;
            *) ARCH=$(uname -m) ;;
        esac
    fi
fi
export ARCH
export DIB_CHECKSUM=\${DIB_CHECKSUM:-0}
export DIB_NO_TMPFS=\${DIB_NO_TMPFS:-0}
export DIB_MIN_TMPFS=\${DIB_MIN_TMPFS:-2}
export DIB_OFFLINE=\${DIB_OFFLINE:-''}
for _kiln_dir in /sbin /usr/sbin /usr/local/sbin; do
    case ":$PATH:" in *":$_kiln_dir:"*) ;; *) export PATH=$PATH:$_kiln_dir ;; esac
done
unset _kiln_dir
`;

const IMG_DEFAULTS = `# kiln: diskimage-builder's img-defaults.
source "$_LIB/common-defaults"
export FS_TYPE=\${FS_TYPE:-ext4}
export IMAGE_TYPE=\${IMAGE_TYPE:-qcow2}
export IMAGE_NAME=\${IMAGE_NAME:-image}
`;

const RAMDISK_DEFAULTS = `# kiln: diskimage-builder's ramdisk-defaults.
export DIB_NO_TMPFS=\${DIB_NO_TMPFS:-1}
export DIB_MIN_TMPFS=\${DIB_MIN_TMPFS:-1}
export RAMDISK_ELEMENT=\${RAMDISK_ELEMENT:-ramdisk-base}
source "$_LIB/common-defaults"
MODULE_ROOT=\${DIB_MODULE_ROOT:-""}
LIB_UDEV_ROOT=\${DIB_LIB_UDEV_ROOT:-""}
`;

const DIE = `# kiln: diskimage-builder's die: print the message, exit with the last command's status.
function die {
    local exitcode=$?
    set +o xtrace
    echo "$@"
    exit $exitcode
}
export -f die
`;

const IMG_FUNCTIONS = `# kiln: diskimage-builder's img-functions, as far as elements use it.
# select_boot_kernel_initrd ROOT: sets BOOTDIR (ROOT/boot), KERNEL and RAMDISK (file names there): the newest
# vmlinu* and initrd*, or the newest matching DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN.
function select_boot_kernel_initrd () {
    local kp ip
    BOOTDIR=$1/boot
    kp=$(printenv DIB_BAREMETAL_KERNEL_PATTERN || true)
    ip=$(printenv DIB_BAREMETAL_INITRD_PATTERN || true)
    [ -n "$kp" ] || kp='vmlinu*'
    [ -n "$ip" ] || ip='initrd*'
    KERNEL= RAMDISK=
    if [ -d "$BOOTDIR" ]; then
        KERNEL=$(cd "$BOOTDIR" && ls -1dv $kp 2>/dev/null | tail -n 1 || true)
        RAMDISK=$(cd "$BOOTDIR" && ls -1dv $ip 2>/dev/null | tail -n 1 || true)
    fi
    if [ -z "$KERNEL" ] || [ -z "$RAMDISK" ]; then
        echo "select_boot_kernel_initrd: no kernel ($kp) or initrd ($ip) in $BOOTDIR" >&2
        return 1
    fi
}

# run_in_target CMD...: runs CMD with sh inside the tree (TMP_MOUNT_PATH), as diskimage-builder's does.
function run_in_target () {
    local cmd="$*"
    HOME=/root chroot "$TMP_MOUNT_PATH" env -u TMPDIR -u VIRTUAL_ENV PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" sh -c "$cmd"
}

DIB_RUN_PARTS=\${_LIB:-$(dirname "\${BASH_SOURCE[0]}")}/dib-run-parts
`;

/** What sourcing one of diskimage-builder's driver libraries does when diskimage-builder is not on the path. */
const driverOnly = (name: string, what: string) => `# kiln: diskimage-builder's ${name} (${what}) is not part of kiln.
echo "kiln: \\$_LIB/${name} is diskimage-builder's ${what}; kiln does that itself and has no copy of it." >&2
echo "kiln: to run an element that sources it, put diskimage-builder's elements directory on ELEMENTS_PATH (its lib/ beside it is then staged as \\$_LIB)" >&2
return 1 2>/dev/null || exit 1
`;

const NATIVE: Readonly<Record<string, string>> = {
  'common-defaults': COMMON_DEFAULTS,
  'img-defaults': IMG_DEFAULTS,
  'ramdisk-defaults': RAMDISK_DEFAULTS,
  die: DIE,
  'img-functions': IMG_FUNCTIONS,
  'common-functions': driverOnly('common-functions', 'build driver (build directories, mounts, hook runners)'),
  'ramdisk-functions': driverOnly('ramdisk-functions', 'ramdisk assembly (busybox, libraries, init)'),
};
