#!/usr/bin/env bash
# Test: `meson install` puts every file where a desktop expects it.
#   check-install.sh BUILD_DIR
set -euo pipefail
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root="$dest$prefix"
id=io.github.packwatch.Packwatch
echo "1..1"
missing=0
for f in bin/packwatch bin/packwatch-cli bin/packwatch-sim \
         share/applications/$id.desktop share/metainfo/$id.metainfo.xml \
         share/icons/hicolor/scalable/apps/$id.svg \
         share/icons/hicolor/symbolic/apps/$id-symbolic.svg \
         share/glib-2.0/schemas/$id.gschema.xml \
         share/locale/zh_CN/LC_MESSAGES/packwatch.mo; do
  if [ ! -e "$root/$f" ]; then
    echo "# missing after install: $prefix/$f"
    missing=1
  fi
done
if [ $missing -eq 0 ]; then echo "ok 1 - installed files in place"; else echo "not ok 1 - installed files in place"; exit 1; fi
