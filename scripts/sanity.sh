#!/usr/bin/env bash
# ansible-test sanity must run from inside .../ansible_collections/mediaops/wcs/, and a symlinked path does not
# work: copy the files git knows (tracked and untracked-not-ignored) to a temporary tree and run it there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
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

# ansible-test's sanity tools live in their own virtualenv, so their pins don't fight requirements-dev.txt.
venv=$root/.venv-sanity
core=$(grep -E '^ansible-core==' requirements-dev.txt)
if [ ! -x "$venv/bin/ansible-test" ] ; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$core" -r requirements.txt
fi
# ansible-test keeps its cache in ~/.ansible/test/cache (not configurable): give it a home inside the checkout.
export HOME="$root/.cache/ansible-test-home"
# Per-test virtualenvs are bootstrapped with a get-pip script from a host we cannot reach: use the offline one.
pip_version=$("$venv/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages
class P: version = "3.11"
print(get_venv_packages(P)["pip"])')
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cp "$root/scripts/lib/get_pip_offline.py" "$cache"

cd "$dest"
exec "$venv/bin/ansible-test" sanity --local --requirements --python 3.11 --color no "$@"
