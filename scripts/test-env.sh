# shellcheck shell=bash
# Source me (scripts/test.sh, lab.sh and molecule.sh do): what the suite's tools write into the home directory by
# default goes to .cache/ of the checkout (gitignored) instead. The suite and the lab manage only this machine, so
# the modules' remote temp is in the checkout too.
#   ANSIBLE_HOME          galaxy cache, local temp, persistent connections (~/.ansible by default)
#   ANSIBLE_REMOTE_TEMP   the modules' temp on the managed host (~/.ansible/tmp by default; here the host is this one)
#   XDG_CACHE_HOME        pip, matplotlib, virtualenv (tox), Molecule's fallback cache (~/.cache by default)
#   XDG_DATA_HOME         virtualenv's seed wheels (~/.local/share by default)
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ANSIBLE_HOME="$_root/.cache/ansible"
export ANSIBLE_LOCAL_TEMP="$_root/.cache/ansible/tmp"
export ANSIBLE_REMOTE_TEMP="$_root/.cache/ansible/remote-tmp"
export XDG_CACHE_HOME="$_root/.cache"
export XDG_DATA_HOME="$_root/.cache/share"
# Facts only under ansible_facts, never injected as top-level variables (the default from ansible-core 2.24): the
# collection must not depend on the deprecated injection (tests/labkit.collection_deprecations fails on warnings).
export ANSIBLE_INJECT_FACT_VARS=False
unset _root
