#!/usr/bin/env bash
# Several "Docker hosts" on one machine for the Molecule `multihost` scenario: one network namespace and one dockerd
# per host. The work is done by the shared test-lab helper, tests/labkit.py (layout and reasons there and in
# molecule/multihost/README.md); this is the scenario's command line.
#
#   scripts/multihost-engines.sh up N        create hosts wcsmh-1..N (idempotent: only what is missing)
#   scripts/multihost-engines.sh down N      stop the daemons started here (by recorded pid), remove all of it
#   scripts/multihost-engines.sh status N    one line per host
#   scripts/multihost-engines.sh stop I      stop host I's dockerd only (by pid), keep its data: "engine down"
#   scripts/multihost-engines.sh start I     start host I's dockerd again on the same data
#
# Environment: WAIT_SECONDS (default 60) bounds each wait; MULTIHOST_PYTHON is the Python the interpreter wrapper
# /run/wcsmh-I/python runs (default: python3 on PATH; Molecule passes ansible_playbook_python).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "multihost-engines: needs root (network namespaces, dockerd)" >&2; exit 1; }
py=python3
[ -x "$here/.venv/bin/python" ] && py="$here/.venv/bin/python"
exec "$py" "$here/tests/labkit.py" multihost "$1" "$2"
