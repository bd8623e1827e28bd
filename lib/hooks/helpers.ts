/**
 * dib-run-parts and get_image_element_array, which diskimage-builder's elements call from their hooks.
 * kiln stages it into TMP_HOOKS_PATH/helpers, on PATH for every hook on the host and in the tree; it never
 * enters the image. (The other commands elements call live in the flavours that provide them in
 * diskimage-builder too: pkg-map/bin, svc-map/bin, debian-minimal/bin/install-packages.)
 */

const GET_IMAGE_ELEMENT_ARRAY = String.raw`#!/bin/bash
# kiln: the build's flavours as bash associative-array items, [name]=dir, like diskimage-builder's function:
#   eval declare -A image_elements=($(get_image_element_array))
set -eu
while IFS=$'	' read -r name dir; do printf '[%q]=%q ' "$name" "$dir"; done < "$(dirname "$0")/../image-elements"
echo
`;

export const HELPERS: Readonly<Record<string, string>> = {
  get_image_element_array: GET_IMAGE_ELEMENT_ARRAY,
  'dib-run-parts': String.raw`#!/bin/bash
# kiln: diskimage-builder's dib-run-parts: sources DIR/../environment.d, then runs every executable in
# DIR whose name run-parts accepts ([A-Za-z0-9_-]), in C order, stopping at the first failure.
set -eu
[ $# -eq 1 ] || { echo "usage: dib-run-parts DIR" >&2; exit 1; }
dir=$1
[ -d "$dir" ] || { echo "dib-run-parts: $dir is not a directory" >&2; exit 1; }
if [ -d "$dir/../environment.d" ]; then
  for e in $(LC_ALL=C ls "$dir/../environment.d"); do
    [ -f "$dir/../environment.d/$e" ] && . "$dir/../environment.d/$e"
  done
fi
for f in $(LC_ALL=C ls "$dir"); do
  [[ $f =~ ^[A-Za-z0-9_-]+$ ]] || continue
  [ -f "$dir/$f" ] && [ -x "$dir/$f" ] || continue
  echo "dib-run-parts: running $dir/$f"
  rc=0
  "$dir/$f" || rc=$?
  if [ "$rc" != 0 ]; then echo "dib-run-parts: $dir/$f exited $rc" >&2; exit "$rc"; fi
done
`,
};
