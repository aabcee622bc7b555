#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv in .venv with the pinned toolchain, and link this checkout
# into .collections/ so `ansible-playbook mediaops.wcs.<name>` resolves to it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PYTHON=${PYTHON:-python3}
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$root/.cache/pip}"  # not ~/.cache/pip

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing the pinned toolchain (requirements-dev.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$want" >"$stamp"
fi

mkdir -p .collections/ansible_collections/mediaops
ln -sfn "$root" .collections/ansible_collections/mediaops/wcs
