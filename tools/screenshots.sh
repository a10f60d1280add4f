#!/usr/bin/env bash
# Refreshes docs/screenshots from the built app, as a user sees it: every
# page at 1366×768 on the 16-cell demo and the 256-cell master, in English
# and Chinese, and the Monitor in dark mode. Needs xvfb-run; the app's own settings and
# history stay untouched (a throw-away home for each picture).
#   tools/screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-_build}
OUT=docs/screenshots
APP="$BUILD/src/packwatch"
[ -x "$APP" ] || { echo "build the app first: ninja -C $BUILD" >&2; exit 2; }

shot () { # NAME DEMO PAGE [keyfile lines…] -- [VAR=VALUE…]
  local name=$1 demo=$2 page=$3; shift 3
  local home; home=$(mktemp -d)
  mkdir -p "$home/config/glib-2.0/settings"
  {
    echo "[io/github/packwatch/Packwatch]"
    echo "window-width=1366"
    echo "window-height=768"
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do echo "$1"; shift; done
  } > "$home/config/glib-2.0/settings/keyfile"
  [ $# -gt 0 ] && shift
  env HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" \
      XDG_CACHE_HOME="$home/cache" GSETTINGS_BACKEND=keyfile \
      GSETTINGS_SCHEMA_DIR="$BUILD/data" LANG=C.UTF-8 "$@" \
      timeout 120 xvfb-run -a -s "-screen 0 1366x768x24" \
      dbus-run-session -- "$APP" "$demo" --page="$page" --screenshot="$OUT/$name.png" \
      >/dev/null 2>"$home/err" || { cat "$home/err" >&2; rm -rf "$home"; return 1; }
  rm -rf "$home"
  echo "$OUT/$name.png"
}

PAGES="monitor alarm param normal graph update lease dload health"
for page in $PAGES; do
  shot "$page" --demo "$page"
  shot "$page-master" --demo=master "$page"
  shot "$page-zh_CN" --demo "$page" "language='zh_CN'" -- LANGUAGE=zh_CN
  shot "$page-master-zh_CN" --demo=master "$page" "language='zh_CN'" -- LANGUAGE=zh_CN
done
shot monitor-dark --demo monitor -- ADW_DEBUG_COLOR_SCHEME=prefer-dark
