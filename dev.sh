#!/usr/bin/env bash
# Packwatch developer entry point, for a fresh Debian 12 machine.
#   ./dev.sh run   install what is missing, build, start the app on the simulated BMS
#   ./dev.sh test  install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libgtk-4-dev libadwaita-1-dev
  libserialport-dev libxlsxwriter-dev libsqlite3-dev
  xvfb xauth dbus-x11 socat lrzsz python3 python3-openpyxl
  desktop-file-utils appstream libglib2.0-bin
  clang libclang-rt-14-dev valgrind fonts-wqy-microhei
)
BUILD=${PACKWATCH_BUILD_DIR:-_build}

need_root () {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing () {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    need_root apt-get update -q
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

build () {
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --prefix=/usr/local
  fi
  ninja -C "$BUILD"
}

run_tests () {
  local rc=0
  # Widget tests need a display; xvfb-run gives each run its own.
  xvfb-run -a -s "-screen 0 1920x1080x24" \
    meson test -C "$BUILD" --setup=full --print-errorlogs --num-processes 2 "$@" || rc=$?
  /usr/bin/python3 tools/test-summary.py "$BUILD/meson-logs/testlog-full.json"
  return $rc
}

case "${1:-}" in
  run)  shift; install_missing; build; exec "$BUILD/src/packwatch" --demo "$@" ;;
  test) shift; install_missing; build; run_tests "$@" ;;
  *)    echo "usage: $0 run|test" >&2; exit 2 ;;
esac
