#!/usr/bin/env bash
# Packwatch developer entry point, for a fresh Debian 12 machine.
#   ./dev.sh run   install what the app needs, build only the app, start it on the simulated BMS
#   ./dev.sh test  install what the tests need too, build everything, run every test
set -euo pipefail
cd "$(dirname "$0")"

# What the app needs to build and start (cairo and Pango directly: the
# service report and the graphs are drawn without GTK; a CJK font for the
# Chinese interface and reports; glib-networking: TLS to an MQTT broker,
# GIO's TLS backend) ...
APP_PACKAGES=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-bin libgtk-4-dev libadwaita-1-dev
  libserialport-dev libxlsxwriter-dev libsqlite3-dev libmosquitto-dev
  libcairo2-dev libpango1.0-dev fonts-wqy-microhei glib-networking
)
# ... and what the tests add: a display, serial and YMODEM tools, the
# workbook reader, the data validators, the fuzzers, memcheck, the PDF
# reader (the service report's tests), an MQTT broker, its clients and test
# certificates (`serve`).
TEST_PACKAGES=(
  xvfb xauth dbus-x11 socat lrzsz python3 python3-openpyxl
  desktop-file-utils appstream
  clang libclang-rt-14-dev valgrind poppler-utils mosquitto mosquitto-clients openssl
)
# Only the app and what it loads from the build tree (the settings schema,
# the translations): not the tests, fuzzers and benches.
APP_TARGETS=(src/packwatch data/gschemas.compiled packwatch-gmo)
BUILD=${PACKWATCH_BUILD_DIR:-_build}

need_root () {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing () {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    need_root apt-get update -q
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

# meson setup asks for no test tool: clang (fuzzers) and valgrind are
# optional there, so `run` works without them.
build () {
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --prefix=/usr/local
  fi
  ninja -C "$BUILD" "$@"
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
  run)  shift; install_missing "${APP_PACKAGES[@]}"; build "${APP_TARGETS[@]}"
        exec "$BUILD/src/packwatch" --demo "$@" ;;
  test) shift; install_missing "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}"; build; run_tests "$@" ;;
  *)    echo "usage: $0 run|test" >&2; exit 2 ;;
esac
