#!/usr/bin/env bash
# Refreshes the service report's pictures in docs/screenshots: the first
# pages of a 16-cell and a 256-cell report and of a Chinese one, at 60 dpi,
# from a day of the simulated board (tests/model/make-report-history) with
# one parameter changed on the board. Needs pdftoppm (poppler-utils).
#   tools/report-screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-_build}
OUT=docs/screenshots
CLI="$BUILD/src/packwatch-cli"
SIM="$BUILD/src/packwatch-sim"
MAKE="$BUILD/tests/model/make-report-history"
for f in "$CLI" "$SIM" "$MAKE"; do
  [ -x "$f" ] || { echo "build first: ninja -C $BUILD ($f is missing)" >&2; exit 2; }
done
command -v pdftoppm >/dev/null || { echo "pdftoppm is missing: apt install poppler-utils" >&2; exit 2; }
work=$(mktemp -d)
sim_pid=
cleanup () { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# NAME MODULES LANGUAGE PAGES [history]
# With "history" the board is recorded into the database by `log` and the
# report is written from the database alone, as for a board far away.
report () {
  local name=$1 modules=$2 language=$3 pages=$4 source=${5:-board} port
  local -a board=()
  "$MAKE" "$work/$name.db" --modules "$modules" --mark-cell 5:3456
  coproc SIMPROC { exec "$SIM" --tcp 0 --no-wire-timing --modules "$modules"; }
  sim_pid=$SIMPROC_PID
  read -r port <&"${SIMPROC[0]}"
  "$CLI" write --port "$port" --password 123456 cell_ovp_recovery_mv=3500 >/dev/null
  if [ "$source" = history ]; then
    "$CLI" log --port "$port" --db "$work/$name.db" --interval 0.2 --duration 1 2>/dev/null
    kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=
  else
    board=(--port "$port")
  fi
  env LANGUAGE="$language" LANG=C.UTF-8 LC_ALL=C.UTF-8 "$CLI" report --db "$work/$name.db" \
    "${board[@]}" --technician "Li Wei" --customer "Acme Solar" --site "Roof cabinet 2" \
    --out "$work/$name.pdf"
  [ -n "$sim_pid" ] && { kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=; }
  pdftoppm -png -r 60 -l "$pages" "$work/$name.pdf" "$work/$name-p"
  for png in "$work/$name"-p*.png; do
    page=${png##*-}; page=$((10#${page%.png}))
    cp "$png" "$OUT/$name-p$page.png"
    echo "$OUT/$name-p$page.png"
  done
}

report report-16 1 en 4
report report-256 16 en 3
report report-16-zh_CN 1 zh_CN 1
report report-16-history 1 en 2 history
