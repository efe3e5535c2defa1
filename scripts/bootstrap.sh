#!/usr/bin/env bash
# Installs what `make run` (mode "run") or `make test` (mode "test") needs on Debian 12, and
# nothing that is already there: a second run only checks and returns.
set -euo pipefail

mode=${1:-run}
case "$mode" in
  run | test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# gettext compiles the zh_Hans catalogues; fonts-wqy-zenhei is the CJK font embedded in every PDF
# (TrueType outlines, which reportlab can embed; GPL-2 with a font-embedding exception).
apt_run=(gdal-bin libsqlite3-mod-spatialite python3-venv python3-dev gettext fonts-wqy-zenhei)
apt_test=(
  postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting redis-server
  chromium poppler-utils poppler-data osm2pgrouting osmium-tool docker-compose fonts-noto-cjk
)
packages=("${apt_run[@]}")
[ "$mode" = test ] && packages+=("${apt_test[@]}")

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The translations: every app's .po compiled to .mo (not committed), again whenever a .po is newer.
for po in */locale/*/LC_MESSAGES/*.po; do
  [ -e "$po" ] || continue
  mo=${po%.po}.mo
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    msgfmt --check-format -o "$mo" "$po"
  fi
done

# The venv must come from Debian's python: its sqlite3 module can load mod_spatialite.
venv=.venv
if [ -f "$venv/pyvenv.cfg" ] && ! grep -qE '^home = /usr/bin$' "$venv/pyvenv.cfg"; then
  echo "==> $venv was not made from /usr/bin/python3; recreating it"
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv from /usr/bin/python3"
  /usr/bin/python3 -m venv "$venv"
  rm -f var/bootstrap/pip-*.sha256
fi

# pip runs again only when pyproject.toml changes; the dev stamp also satisfies "run".
mkdir -p var/bootstrap
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
stamp_ok() { [ -f "var/bootstrap/pip-$1.sha256" ] && [ "$(cat "var/bootstrap/pip-$1.sha256")" = "$digest" ]; }
if [ "$mode" = test ]; then
  extra=dev target='.[dev]'
else
  extra=run target='.'
fi
if stamp_ok dev || stamp_ok "$extra"; then
  exit 0
fi
echo "==> pip install -e '$target'"
"$venv/bin/pip" install --disable-pip-version-check -q -e "$target"
echo "$digest" >"var/bootstrap/pip-$extra.sha256"
