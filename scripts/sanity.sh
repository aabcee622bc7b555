#!/usr/bin/env bash
# ansible-test sanity on the oldest and the newest ansible-core of the supported range (meta/runtime.yml), each
# with its tools in its own virtualenv (.venv-sanity-<minor>, so their pins don't fight requirements-dev.txt) on a
# controller Python it supports (scripts/pythons.sh finds them). Every version runs; the exit code is non-zero if
# any failed. No ignore files.
#   scripts/sanity.sh                       both
#   SANITY_CORES=2.21.5:3.13 scripts/sanity.sh --test pylint     one version, one test
# ansible-test must run from inside .../ansible_collections/mediaops/wcs/, and a symlinked path does not work: the
# files git knows (tracked and untracked-not-ignored) are copied to a temporary tree and it runs there.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
# ansible-core version:controller Python, oldest and newest of requires_ansible
cores=${SANITY_CORES:-2.16.19:3.11 2.21.5:3.13}
# shellcheck source=/dev/null
WCS_PYTHONS="$(for c in $cores; do echo "${c#*:}"; done | sort -u | tr '\n' ' ')" source scripts/pythons.sh

# Outside the checkout: inside it, ansible-test would list files with git, which ignores build/.
work=${SANITY_DIR:-${TMPDIR:-/tmp}/mediaops-wcs-sanity}
dest=$work/ansible_collections/mediaops/wcs
rm -rf "$work"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue  # deleted in the work tree
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done

# ansible-test keeps its cache in ~/.ansible/test/cache (not configurable): give it a home inside the checkout.
export HOME="$root/.cache/ansible-test-home"
rc=0
for spec in $cores; do
  core=${spec%%:*} py=${spec#*:}
  var=WCS_PYTHON${py//./}
  python=${!var:-}
  venv=$root/.venv-sanity-${core%.*}
  echo "=== ansible-test sanity: ansible-core $core on Python $py ==="
  if [ -z "$python" ]; then
    echo "sanity: no Python $py for ansible-core $core (scripts/pythons.sh)" >&2; rc=1; continue
  fi
  if [ "$("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)' 2>/dev/null)" != "$core" ]; then
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" && "$venv/bin/pip" install -q "ansible-core==$core" -r requirements.txt; }; then
      echo "sanity: cannot install ansible-core $core into $venv" >&2; rc=1; continue
    fi
  fi
  # Per-test virtualenvs are bootstrapped with a get-pip script from a host we cannot reach: use the offline one.
  pip_version=$("$venv/bin/python" -c "from ansible_test._internal.python_requirements import get_venv_packages
class P: version = '$py'
print(get_venv_packages(P)['pip'])")
  cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
  mkdir -p "$(dirname "$cache")"
  cp "$root/scripts/lib/get_pip_offline.py" "$cache"
  (cd "$dest" && "$venv/bin/ansible-test" sanity --local --requirements --python "$py" --color no "$@") || {
    echo "=== ansible-test sanity FAILED on ansible-core $core ==="; rc=1; }
done
exit $rc
