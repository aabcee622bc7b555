#!/usr/bin/env bash
# galaxy-importer (what Galaxy and Automation Hub run on an upload) on the built tarball; fails on an import error
# and on any warning or error it prints (they are all about the collection's content). Its tools live in their own
# virtualenv, .venv-importer (galaxy-importer pins its own ansible-core and ansible-lint); its settings, and why
# its ansible-test step is off, are in scripts/galaxy-importer.cfg.
#   scripts/galaxy-import.sh [build/mediaops-wcs-X.Y.Z.tar.gz]     (default: builds the tarball into build/ first)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
version=0.4.44  # galaxy-importer on PyPI
venv=$root/.venv-importer
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))' 2>/dev/null)" != "$version" ]; then
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && PIP_CACHE_DIR="$root/.cache/pip" "$venv/bin/pip" install -q "galaxy-importer==$version"; }; then
    echo "galaxy-import: cannot install galaxy-importer $version into $venv" >&2; exit 1
  fi
fi
tarball=${1:-}
if [ -z "$tarball" ]; then
  ansible-galaxy collection build --force --output-path build/ >/dev/null || exit 1
  tarball=build/mediaops-wcs-$(sed -n 's/^version: *//p' galaxy.yml).tar.gz
fi
# its scratch tree not under a dot-directory (it skips those) and not in the home directory
scratch=$root/build/importer-tmp
rm -rf "$scratch"; mkdir -p "$scratch" reports
log=reports/galaxy-importer.log
GALAXY_IMPORTER_CONFIG=$root/scripts/galaxy-importer.cfg GALAXY_IMPORTER_TMP_ROOT_DIR=$scratch \
  GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$root/.cache/ansible/tmp" PATH="$venv/bin:$PATH" \
  "$venv/bin/python" -m galaxy_importer.main "$tarball" >"$log" 2>&1
rc=$?
rm -rf "$scratch" importer_result.json
problems=$(grep -E '^(WARNING|ERROR)|The import failed' "$log")
if [ $rc -ne 0 ] || [ -n "$problems" ] || ! grep -q 'Importer processing completed successfully' "$log"; then
  echo "galaxy-import: $tarball FAILED (galaxy-importer $version, exit $rc; full log $log):" >&2
  echo "${problems:-$(tail -n 20 "$log")}" | cut -c1-600 >&2
  exit 1
fi
echo "galaxy-import: $tarball imports cleanly (galaxy-importer $version: no error, no warning; log $log)"
