/**
 * kiln's dib-run-parts: the command diskimage-builder (and its dib-utils package) ships for elements that run
 * a directory of scripts themselves. It behaves as upstream's lib/dib-run-parts does:
 *   dib-run-parts [--list] DIR
 * - the scripts are DIR's files (or symlinks to files) that are executable and whose name matches
 *   RUN_PARTS_REGEX (default ^[0-9A-Za-z_-]+$), in kiln's one hook order (SHELL_HOOK_ORDER, `sort -n`);
 *   anything else is skipped (named on stderr when DIB_DEBUG_TRACE > 0);
 * - --list prints DIR/NAME of every script, in order, on stdout, and runs nothing;
 * - otherwise, in a subshell, the files of DIR/../environment.d (names of [0-9A-Za-z_.-]) are sourced, under
 *   xtrace, in the order upstream gives them (its `sort -n` over their paths: bytewise by name), then each
 *   script runs; the first failure ends it with that script's exit status;
 * - every message goes to stderr, prefixed with the command's name ("dib-run-parts Running DIR/NAME",
 *   "dib-run-parts NAME completed", a PROFILING table at the end), so stdout is only the scripts' own;
 * - no arguments, or DIR not a directory: a usage message, exit 1.
 * Two differences on purpose: a failure is named on stderr ("dib-run-parts DIR/NAME exited 3"; upstream just
 * stops), and an environment.d with no files is no error (upstream exits 1 without a word).
 * Its variables are prefixed _drp_ because environment.d files are sourced into its shell.
 * (No `${` below: the script is a template literal; defaults come from printenv.)
 */
import { SHELL_HOOK_ORDER } from '../flavours/phases.js';

export const DIB_RUN_PARTS = String.raw`#!/bin/bash
# kiln: diskimage-builder's dib-run-parts. Usage: dib-run-parts [--list] DIR
# Runs DIR's executable files whose names match RUN_PARTS_REGEX (default ^[0-9A-Za-z_-]+$), in sort -n order,
# after sourcing DIR/../environment.d/*; stops at the first failure with its exit status. --list prints the
# scripts it would run and runs nothing. Messages go to stderr.
set -eu -o pipefail
_drp_name=$(basename "$0")
_drp_regex=$(printenv RUN_PARTS_REGEX || true)
[ -n "$_drp_regex" ] || _drp_regex='^[0-9A-Za-z_-]+$'
_drp_trace=$(printenv DIB_DEBUG_TRACE || true)

_drp_say() { echo "$_drp_name $*" >&2; }

_drp_usage() {
  {
    echo "Usage: $_drp_name [OPTION] scripts_directory"
    echo "Option:"
    echo "      --list  print names of all valid files"
    echo
    echo "Examples:"
    echo "      $_drp_name --list /opt/stack/os-config-refresh/configure.d/"
    echo "      $_drp_name /opt/stack/os-config-refresh/configure.d/"
  } >&2
  exit 1
}

[ $# -ge 1 ] || _drp_usage
_drp_list=
if [ "$1" = --list ]; then _drp_list=1; shift; fi
_drp_dir=
[ $# -eq 0 ] || _drp_dir=$1
if [ ! -d "$_drp_dir" ]; then
  _drp_say "Scripts directory [$_drp_dir] must exist and be a directory"
  _drp_usage
fi

_drp_targets=$(find "$_drp_dir" -maxdepth 1 -xtype f -executable -printf '%f\n' | { grep -E "$_drp_regex" || true; } | ${SHELL_HOOK_ORDER})

if [ -n "$_drp_list" ]; then
  for _drp_t in $_drp_targets; do echo "$_drp_dir/$_drp_t"; done
  exit 0
fi

if [[ $_drp_trace =~ ^[0-9]+$ ]] && [ "$_drp_trace" -gt 0 ]; then
  _drp_skipped=$(find "$_drp_dir" -maxdepth 1 -xtype f ! -executable -printf '%f\n' | paste -sd ' ' -)
  [ -z "$_drp_skipped" ] || _drp_say "Ignoring non-executable files: $_drp_skipped"
  _drp_skipped=$(find "$_drp_dir" -maxdepth 1 -xtype f -executable -printf '%f\n' | { grep -v -E "$_drp_regex" || true; } | paste -sd ' ' -)
  [ -z "$_drp_skipped" ] || _drp_say "Ignoring non-conforming filenames: $_drp_skipped"
fi

# A subshell, so that what environment.d sets reaches the scripts and nothing after them.
(
  _drp_current=
  trap '_drp_rc=$?; if [ "$_drp_rc" != 0 ] && [ -n "$_drp_current" ]; then _drp_say "$_drp_current exited $_drp_rc"; fi' EXIT
  _drp_env=$_drp_dir/../environment.d
  if [ -d "$_drp_env" ]; then
    for _drp_e in $(find "$_drp_env" -maxdepth 1 -xtype f | { grep -E '/[0-9A-Za-z_.-]+$' || true; } | ${SHELL_HOOK_ORDER}); do
      _drp_say "Sourcing environment file $_drp_e"
      _drp_current="environment file $_drp_e"
      _drp_xtrace=$(set +o | grep xtrace)
      set -o xtrace
      source "$_drp_e"
      $_drp_xtrace
    done
  fi
  _drp_times=
  for _drp_t in $_drp_targets; do
    _drp_say "Running $_drp_dir/$_drp_t"
    _drp_current=$_drp_dir/$_drp_t
    _drp_t0=$(date +%s%N)
    "$_drp_dir/$_drp_t" || exit $?
    _drp_t1=$(date +%s%N)
    _drp_times="$_drp_times$_drp_t $(( (_drp_t1 - _drp_t0) / 1000000 ))"$'\n'
    _drp_current=
    _drp_say "$_drp_t completed"
  done
  _drp_say "----------------------- PROFILING -----------------------"
  _drp_say ""
  _drp_say "Target: $(basename "$_drp_dir")"
  _drp_say ""
  printf '%s %-40s %9s\n' "$_drp_name" Script Seconds >&2
  printf '%s %-40s %9s\n' "$_drp_name" --------------------------------------- ---------- >&2
  _drp_say ""
  while read -r _drp_t _drp_ms; do
    [ -n "$_drp_t" ] || continue
    printf '%s %-40s %6d.%03d\n' "$_drp_name" "$_drp_t" $((_drp_ms / 1000)) $((_drp_ms % 1000)) >&2
  done <<< "$_drp_times"
  _drp_say ""
  _drp_say "--------------------- END PROFILING ---------------------"
)
`;
