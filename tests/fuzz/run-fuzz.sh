#!/usr/bin/env bash
# Build the libFuzzer target for the frame parser with clang (ASan + UBSan)
# straight from the sources, then run it. See docs/fuzzing.md.
#
#   tests/fuzz/run-fuzz.sh                   build, fuzz 20 s
#   tests/fuzz/run-fuzz.sh --time 3600       fuzz an hour
#   tests/fuzz/run-fuzz.sh --jobs 2 --time 0 fuzz until stopped, two processes
#   tests/fuzz/run-fuzz.sh --build-only
#   tests/fuzz/run-fuzz.sh -- CRASH-FILE     reproduce one input (any libFuzzer args after --)
#
# Exits 77 (skipped, for meson) when clang or its fuzzer runtime is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_root=${PACKWATCH_BUILD_ROOT:-$root/_build}
out=$build_root/tests/fuzz/libfuzzer
time=20
jobs=1
build_only=0
extra=()

while [ $# -gt 0 ]; do
  case "$1" in
    --time) time=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cc=${CLANG:-clang}
if ! command -v "$cc" >/dev/null; then
  echo "run-fuzz.sh: $cc not found; install clang and libclang-rt-14-dev (dev.sh lists them)" >&2
  exit 77
fi

mkdir -p "$out/include" "$out/corpus"
# The codec may include config.h: use the build's, or a minimal one.
if [ -f "$build_root/config.h" ]; then
  cp "$build_root/config.h" "$out/include/config.h"
else
  printf '#pragma once\n#define GETTEXT_PACKAGE "packwatch"\n#define PACKAGE_VERSION "fuzz"\n' \
    > "$out/include/config.h"
fi

sources=(
  "$root/src/link/bms-field.c"
  "$root/src/link/bms-frame.c"
  "$root/src/link/bms-frame-parser.c"
  "$root/src/link/bms-snapshot.c"
  "$here/fuzz-frame-parser.c"
)
bin=$out/fuzz-frame-parser
stale=0
[ -x "$bin" ] || stale=1
for f in "${sources[@]}" "$root"/src/link/*.h; do
  [ "$f" -nt "$bin" ] && stale=1
done

if [ $stale = 1 ]; then
  echo "# building $bin with $cc"
  # shellcheck disable=SC2046
  if ! "$cc" -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -I"$out/include" -I"$root/src/link" $(pkg-config --cflags gio-2.0) \
      "${sources[@]}" $(pkg-config --libs gio-2.0) -lm -o "$bin.tmp" 2> "$out/build.log"; then
    if grep -q "libclang_rt.fuzzer\|cannot find -l\|unsupported option" "$out/build.log"; then
      cat "$out/build.log" >&2
      echo "run-fuzz.sh: clang's fuzzer runtime is missing: install libclang-rt-14-dev" >&2
      exit 77
    fi
    cat "$out/build.log" >&2
    exit 1
  fi
  mv "$bin.tmp" "$bin"
fi
[ $build_only = 1 ] && exit 0

if [ ${#extra[@]} -gt 0 ]; then
  exec "$bin" "${extra[@]}"
fi

# New inputs go to the build tree's corpus; the seeds stay read-only.
args=(-max_len=8192 -print_final_stats=1 -artifact_prefix="$out/" -max_total_time="$time")
if [ "$jobs" -gt 1 ]; then
  args+=(-jobs="$jobs" -workers="$jobs")
fi
echo "# fuzzing for ${time}s: $bin ${args[*]} $out/corpus $here/corpus-frame"
status=0
"$bin" "${args[@]}" "$out/corpus" "$here/corpus-frame" 2> >(tee "$out/fuzz.log" >&2) || status=$?
wait # for tee
# LeakSanitizer needs ptrace-like access that some containers forbid; that
# is not a finding, so run again without leak detection rather than fail.
if [ $status != 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$out/fuzz.log"; then
  echo "# LeakSanitizer cannot run here (no ptrace?): fuzzing again with -detect_leaks=0"
  "$bin" "${args[@]}" -detect_leaks=0 "$out/corpus" "$here/corpus-frame"
  exit $?
fi
exit $status
