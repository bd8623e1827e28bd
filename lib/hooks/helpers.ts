/**
 * dib-run-parts and get_image_element_array, which diskimage-builder's elements call from their hooks.
 * kiln stages it into TMP_HOOKS_PATH/helpers, on PATH for every hook on the host and in the tree; it never
 * enters the image. (The other commands elements call live in the flavours that provide them in
 * diskimage-builder too: pkg-map/bin, svc-map/bin, debian-minimal/bin/install-packages.)
 */
import { DIB_RUN_PARTS } from './dib-run-parts.js';

const GET_IMAGE_ELEMENT_ARRAY = String.raw`#!/bin/bash
# kiln: the build's flavours as bash associative-array items, [name]=dir, like diskimage-builder's function:
#   eval declare -A image_elements=($(get_image_element_array))
set -eu
while IFS=$'	' read -r name dir; do printf '[%q]=%q ' "$name" "$dir"; done < "$(dirname "$0")/../image-elements"
echo
`;

/**
 * The part of diskimage-builder's shell library ($_LIB/img-functions) that elements source: kiln's own
 * select_boot_kernel_initrd, for Debian trees. Staged as TMP_HOOKS_PATH/lib/img-functions; _LIB points there.
 */
export const IMG_FUNCTIONS = String.raw`# kiln: diskimage-builder's img-functions, as far as elements use it.
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
`;

export const HELPERS: Readonly<Record<string, string>> = {
  get_image_element_array: GET_IMAGE_ELEMENT_ARRAY,
  'dib-run-parts': DIB_RUN_PARTS,
};
