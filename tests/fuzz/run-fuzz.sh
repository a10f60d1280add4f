#!/usr/bin/env bash
# Build a libFuzzer target with clang (ASan + UBSan) straight from the
# sources, then run it. See docs/fuzzing.md.
#
#   tests/fuzz/run-fuzz.sh [TARGET] [OPTIONS]
#
# TARGET: frame-parser (default), profile or ymodem.
#
#   tests/fuzz/run-fuzz.sh profile                  build, fuzz 20 s
#   tests/fuzz/run-fuzz.sh ymodem --time 3600       fuzz an hour
#   tests/fuzz/run-fuzz.sh --jobs 2 --time 0        fuzz until stopped, two processes
#   tests/fuzz/run-fuzz.sh profile --build-only
#   tests/fuzz/run-fuzz.sh ymodem -- CRASH-FILE     reproduce one input (any libFuzzer args after --)
#
# Exits 77 (skipped, for meson) when clang or its fuzzer runtime is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_root=${PACKWATCH_BUILD_ROOT:-$root/_build}
out=$build_root/tests/fuzz/libfuzzer
target=frame-parser
time=20
jobs=1
build_only=0
extra=()

case "${1:-}" in
  frame-parser|profile|ymodem) target=$1; shift ;;
esac

while [ $# -gt 0 ]; do
  case "$1" in
    --time) time=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run-fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# What each target is built from, where its seeds are, how long an input may be.
link=$root/src/link
case "$target" in
  frame-parser)
    sources=("$link/bms-field.c" "$link/bms-frame.c" "$link/bms-frame-parser.c"
             "$link/bms-snapshot.c")
    includes=(-I"$link")
    pkgs=(gio-2.0)
    seeds=$here/corpus-frame
    max_len=8192
    ;;
  profile)
    sources=("$link/bms-field.c" "$link/bms-frame.c" "$link/bms-snapshot.c"
             "$root/src/model/bms-param-set.c" "$root/src/model/bms-profile.c")
    includes=(-I"$link" -I"$root/src/model")
    pkgs=(gio-2.0)
    seeds=$here/corpus-profile
    max_len=16384
    ;;
  ymodem)
    # bms-ymodem.c's blocking driver needs the transport interface, which
    # brings the serial and TCP transports along.
    sources=("$link/bms-ymodem.c" "$link/bms-firmware.c" "$link/bms-transport.c"
             "$link/bms-serial-transport.c" "$link/bms-termios-transport.c"
             "$link/bms-tcp-transport.c" "$root/src/sim/bms-bootloader.c")
    includes=(-I"$link" -I"$root/src/sim")
    pkgs=(gio-2.0 libserialport)
    seeds=$here/corpus-ymodem
    max_len=1024
    ;;
esac
sources+=("$here/fuzz-$target.c")

cc=${CLANG:-clang}
if ! command -v "$cc" >/dev/null; then
  echo "run-fuzz.sh: $cc not found; install clang and libclang-rt-14-dev (dev.sh lists them)" >&2
  exit 77
fi

mkdir -p "$out/include" "$out/corpus-$target"
# The sources may include config.h: use the build's, or a minimal one.
if [ -f "$build_root/config.h" ]; then
  cmp -s "$build_root/config.h" "$out/include/config.h" \
    || cp "$build_root/config.h" "$out/include/config.h"
else
  printf '#pragma once\n#define GETTEXT_PACKAGE "packwatch"\n#define PACKAGE_VERSION "fuzz"\n' \
    > "$out/include/config.h"
fi

bin=$out/fuzz-$target
stale=0
[ -x "$bin" ] || stale=1
for f in "${sources[@]}" "$here/coverage-ignore.txt" "$root"/src/link/*.h "$root"/src/model/*.h "$root"/src/sim/*.h; do
  [ "$f" -nt "$bin" ] && stale=1
done

if [ $stale = 1 ]; then
  echo "# building $bin with $cc"
  # shellcheck disable=SC2046
  if ! "$cc" -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -fsanitize-coverage-ignorelist="$here/coverage-ignore.txt" \
      -I"$out/include" "${includes[@]}" $(pkg-config --cflags "${pkgs[@]}") \
      "${sources[@]}" $(pkg-config --libs "${pkgs[@]}") -lm -o "$bin.tmp.$$" \
      2> "$out/build-$target.log"; then
    if grep -q "libclang_rt.fuzzer\|cannot find -l\|unsupported option" "$out/build-$target.log"; then
      cat "$out/build-$target.log" >&2
      echo "run-fuzz.sh: clang's fuzzer runtime is missing: install libclang-rt-14-dev" >&2
      exit 77
    fi
    cat "$out/build-$target.log" >&2
    exit 1
  fi
  mv "$bin.tmp.$$" "$bin"
fi
[ $build_only = 1 ] && exit 0

if [ ${#extra[@]} -gt 0 ]; then
  exec "$bin" "${extra[@]}"
fi

# New inputs go to the build tree's corpus; the seeds stay read-only.
args=(-max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/" -max_total_time="$time")
if [ "$jobs" -gt 1 ]; then
  args+=(-jobs="$jobs" -workers="$jobs")
fi
echo "# fuzzing for ${time}s: $bin ${args[*]} $out/corpus-$target $seeds"
status=0
"$bin" "${args[@]}" "$out/corpus-$target" "$seeds" 2> >(tee "$out/fuzz-$target.log" >&2) || status=$?
wait # for tee
# LeakSanitizer needs ptrace-like access that some containers forbid; that
# is not a finding, so run again without leak detection rather than fail.
if [ $status != 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$out/fuzz-$target.log"; then
  echo "# LeakSanitizer cannot run here (no ptrace?): fuzzing again with -detect_leaks=0"
  "$bin" "${args[@]}" -detect_leaks=0 "$out/corpus-$target" "$seeds"
  exit $?
fi
exit $status
