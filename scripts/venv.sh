# shellcheck shell=bash
# Source me: puts the project's .venv and collection path in this shell.
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_root/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$_root/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$_root/.collections"
export PYTHONPATH="$_root/.collections${PYTHONPATH:+:$PYTHONPATH}"
# Ansible's controller-side state (galaxy cache, local temp) in the checkout, not ~/.ansible
export ANSIBLE_HOME="$_root/.cache/ansible"
unset _root
