#!/usr/bin/env bash
# Fetches the pinned front-end packages of web/vendor.json from the npm registry (npm pack, no
# node_modules, no build) and copies the files the pages use, with each package's licence, into
# web/static/vendor/<dir>/. The result is committed: nothing is fetched from a CDN at run time.
# Run it again after changing a version; it replaces web/static/vendor/ entirely.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
manifest="$repo/web/vendor.json"
dest="$repo/web/static/vendor"
command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf "$dest"
mkdir -p "$dest"
python3 - "$manifest" >"$tmp/plan" <<'PY'
import json, sys
for name, spec in json.load(open(sys.argv[1]))["packages"].items():
    print(name, spec["version"], spec["dir"], spec["license"], *spec["files"])
PY
while read -r name version dir license files; do
  echo "==> $name@$version"
  (cd "$tmp" && npm pack --silent "$name@$version" >"$tmp/tarball")
  tarball="$tmp/$(tail -n1 "$tmp/tarball")"
  mkdir -p "$tmp/$dir" "$dest/$dir"
  tar -xzf "$tarball" -C "$tmp/$dir"
  for file in $files; do
    install -m 0644 "$tmp/$dir/package/$file" "$dest/$dir/$(basename "$file")"
  done
  if ! ls "$dest/$dir" | grep -qiE '^(licen[cs]e|copying)'; then
    # Some packages (@alpinejs/csp) ship no licence file, only the SPDX id in package.json:
    # write the licence text from that id so the vendored copy carries it.
    case "$license" in
      MIT)
        cat >"$dest/$dir/LICENSE" <<TXT
$name $version is licensed under the MIT License (package.json "license": "MIT";
upstream: https://github.com/alpinejs/alpine/blob/main/LICENSE.md).

Copyright © 2019-2025 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
TXT
        ;;
      *) echo "$name ships no licence file and $license has no template here" >&2; exit 1 ;;
    esac
  fi
  echo "$name $version $license" >"$dest/$dir/VERSION"
done <"$tmp/plan"
echo "==> vendored into ${dest#"$repo"/}"
