"""The other side of a side-by-side benchmark: a git worktree of an earlier release with its own collection link,
and timed playbook runs against either tree (same config, same Python)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The last commit of 1.0.0: the plan role still computed the plan in Jinja there.
RELEASE_1_0_0 = "ee5296e"


def add_tree(rev, where):
    """A worktree of ``rev`` at ``where``, on its own collections path (``where/.collections``)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev], check=True,
                   capture_output=True)
    link = where / ".collections" / "ansible_collections" / "mediaops"
    link.mkdir(parents=True)
    (link / "wcs").symlink_to(where)
    return where


def remove_tree(where):
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True,
                   check=False)


def playbook(tree, name, inventory, *args):
    """(stdout, seconds) of ``ansible-playbook mediaops.wcs.<name>`` with ``tree``'s collection; exits on failure."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(tree / ".collections"), ANSIBLE_NOCOLOR="1",
               PATH="%s%s%s" % (Path(sys.executable).parent, os.pathsep, os.environ.get("PATH", "")))
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "mediaops.wcs.%s" % name, "-i", str(inventory)] + list(args),
                          env=env, cwd=str(tree), capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit("%s failed in %s:\n%s" % (name, tree, proc.stdout[-3000:] + proc.stderr[-2000:]))
    return proc.stdout, took
