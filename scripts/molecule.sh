#!/usr/bin/env bash
# Runs the Molecule scenarios (default: all of molecule/*/molecule.yml) offline against the real engine.
#   scripts/molecule.sh                 # molecule test --all
#   scripts/molecule.sh default         # one scenario (molecule test -s default)
#   MOLECULE_CMD=converge scripts/molecule.sh default
# MOLECULE_GLOB keeps the scenarios in molecule/ (Molecule 26 otherwise looks under extensions/molecule/ in a
# collection and warns); dependency steps are disabled in every molecule.yml (no Galaxy), and this checkout is
# on the collections path through .collections/ (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source scripts/venv.sh
# shellcheck source=/dev/null
source scripts/test-env.sh   # Ansible's and Molecule's temp and caches in .cache/ of the checkout, not the home
export MOLECULE_GLOB="molecule/*/molecule.yml"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"
export MOLECULE_NO_LOG="${MOLECULE_NO_LOG:-false}"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
cmd=${MOLECULE_CMD:-test}

if [ $# -eq 0 ]; then
  exec molecule "$cmd" --all
fi
rc=0
for scenario in "$@"; do
  molecule "$cmd" -s "$scenario" || rc=$?
done
exit $rc
