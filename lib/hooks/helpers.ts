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

export const HELPERS: Readonly<Record<string, string>> = {
  get_image_element_array: GET_IMAGE_ELEMENT_ARRAY,
  'dib-run-parts': DIB_RUN_PARTS,
};
