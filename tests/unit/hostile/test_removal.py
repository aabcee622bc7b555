"""Hostile removal (issue 20, class 1): wcs_config state=absent, run from an args file as Ansible runs it, on conf
dirs under a temporary tree that holds a canary file and an unmarked directory, takes nothing it did not make; the
firewall's prune (its file part: the module needs nft and an engine) never picks a file without the collection's
header. The canaries are checksummed before and after."""
from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import conf_files as cf
from ansible_collections.mediaops.wcs.plugins.module_utils import firewall as fw
from ansible_collections.mediaops.wcs.plugins.modules import wcs_config

from .harness import assert_clean, clean_call, run_module


def tree_digest(root):
    """sha256 over every path, type and file content under ``root`` (symlinks as their target text)."""
    digest = hashlib.sha256()
    for here, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        digest.update(("D" + os.path.relpath(here, root)).encode("utf-8", "surrogateescape"))
        for name in sorted(files):
            path = os.path.join(here, name)
            digest.update(("F" + name).encode("utf-8", "surrogateescape"))
            if os.path.islink(path):
                digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
            else:
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def precious_tree(base):
    """base/site holding a canary file, an unmarked directory with data (and a conf dir inside, shaped like the
    collection's), and a symlink to it; returns (site, the part that must survive)."""
    site = base / "site"
    keep = site / "keep"
    (keep / "unmarked" / "conf").mkdir(parents=True)
    (keep / "canary.txt").write_text("canary %s\n" % base.name)
    (keep / "unmarked" / "data.db").write_bytes(os.urandom(64))
    for fname in cf.PROPERTY_FILES:
        (keep / "unmarked" / "conf" / fname).write_text("ip=203.0.113.9\n")
    os.symlink(keep / "unmarked", site / "link")
    return site, keep


HOSTILE = [
    "{keep}/unmarked/conf",          # shaped like a conf dir, carries no marker
    "{keep}/unmarked",               # its parent holds data
    "{keep}",                        # the canary's directory
    "{site}/link/conf",              # through a symlink
    "{site}/link",
    "{site}/x/../keep/unmarked/conf",  # '..' is refused, never resolved
    "{keep}/unmarked/conf:/etc",     # ':' would split a bind
    "{keep}/./unmarked/conf",
    "{keep}//unmarked/conf/",
    "/usr/share/conf", "/var/lib/docker/conf", "/", "relative/conf", "", "/opt/wcs/\nconf",
]


@pytest.mark.parametrize("pattern", HOSTILE)
def test_wcs_config_absent_takes_nothing_it_did_not_make(tmp_path, pattern):
    site, keep = precious_tree(tmp_path)
    before = tree_digest(keep)
    conf_dir = pattern.format(site=site, keep=keep)
    for check_mode in (True, False):
        answer = run_module("wcs_config", {"containers": [{"name": "wcs-1", "conf_dir": conf_dir}],
                                           "state": "absent"}, check_mode=check_mode)
        assert_clean(answer)
        assert tree_digest(keep) == before, (conf_dir, answer)
        if not answer.get("failed"):
            assert answer["removed_paths"] == [], answer
            assert answer["changed"] is False


def test_wcs_config_absent_removes_what_it_made_next_to_the_canary(tmp_path):
    site, keep = precious_tree(tmp_path)
    containers = [{"name": "wcs-1", "conf_dir": str(site / "wcs-1" / "conf")},
                  {"name": "wcs-2", "conf_dir": str(keep / "unmarked")}]
    made = run_module("wcs_config", {"containers": containers[:1]})
    assert assert_clean(made) == "ok" and (site / "wcs-1" / "conf" / cf.MARKER).is_file()
    # a directory holding anything else is not marked by a present run (it writes its property files there)
    answer = run_module("wcs_config", {"containers": containers})
    assert assert_clean(answer) == "ok" and str(keep / "unmarked") not in answer["marked_dirs"]
    before = tree_digest(keep)
    answer = run_module("wcs_config", {"containers": containers, "state": "absent"})
    assert assert_clean(answer) == "ok"
    assert not (site / "wcs-1").exists() and tree_digest(keep) == before
    assert str(keep / "unmarked") in [k["path"] for k in answer["kept_paths"]]


def test_an_upgrade_marks_a_directory_holding_exactly_the_collections_files(tmp_path):
    """A deployment made before the marker: the next present run marks it (no restart: files unchanged), then
    absent removes it; the canary next to it stays."""
    site, keep = precious_tree(tmp_path)
    containers = [{"name": "wcs-1", "conf_dir": str(site / "wcs-1" / "conf")}]
    assert assert_clean(run_module("wcs_config", {"containers": containers})) == "ok"
    for marker in (site / "wcs-1" / cf.MARKER, site / "wcs-1" / "conf" / cf.MARKER):
        marker.unlink()  # as a release before the marker left it
    before = tree_digest(keep)
    answer = run_module("wcs_config", {"containers": containers, "state": "absent"})
    assert assert_clean(answer) == "ok" and answer["removed_paths"] == [] and (site / "wcs-1" / "conf").is_dir()
    answer = run_module("wcs_config", {"containers": containers})
    assert answer["marked_dirs"] == [str(site / "wcs-1"), str(site / "wcs-1" / "conf")]
    assert answer["changed"] is True and answer["changed_containers"] == []  # nothing for the container to reread
    answer = run_module("wcs_config", {"containers": containers, "state": "absent"})
    assert assert_clean(answer) == "ok" and not (site / "wcs-1").exists() and tree_digest(keep) == before


def test_wcs_config_present_refuses_a_colon_before_writing(tmp_path):
    conf_dir = str(tmp_path / "wcs-1:ro" / "conf")
    answer = run_module("wcs_config", {"containers": [{"name": "wcs-1", "conf_dir": conf_dir}]})
    assert assert_clean(answer) == "refused" and "conf_dir" in answer["msg"]
    assert os.listdir(tmp_path) == []


SEGMENTS = st.sampled_from(["keep", "unmarked", "conf", "link", "..", ".", "", "wcs-1", "x:y", "canary.txt",
                            "site", "\u2028", " "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.lists(SEGMENTS, min_size=0, max_size=5), min_size=1, max_size=3))
def test_checked_then_planned_then_applied_removal_never_touches_the_canary(tmp_path_factory, paths):
    """The module's own steps (checked_dirs -> plan_removal -> apply_removal) on generated conf dirs under the tree:
    a clean refusal or a removal that leaves the canaries' digest unchanged."""
    base = tmp_path_factory.mktemp("h")
    site, keep = precious_tree(base)
    before = tree_digest(keep)
    containers = [{"name": "wcs-%d" % i, "conf_dir": str(site) + "/" + "/".join(p)} for i, p in enumerate(paths)]

    def absent():
        dirs = wcs_config.checked_dirs(containers)
        steps, _kept = cf.plan_removal(dirs, ["wss.jks"])
        return cf.apply_removal(steps), steps

    outcome, value = clean_call(absent)
    if outcome == "ok":
        assert value[1] == [], value  # nothing under this tree carries the marker
    assert tree_digest(keep) == before


NAMES = st.text(alphabet="abc-._:\n/ ", min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(NAMES, st.sampled_from(["mark-self", "mark-other", "foreign", "mark-late", "empty"]),
                             max_size=6))
def test_prune_picks_only_files_with_the_header_naming_them(tmp_path_factory, files):
    rules = tmp_path_factory.mktemp("rules")
    expected = []
    for name, kind in files.items():
        fname = name.replace("/", "_").replace("\n", "_") + ".nft"
        if fname in (".nft",) or fname.startswith("..") or os.path.exists(rules / fname):
            continue
        stem = fname[:-4]
        text = {"mark-self": fw.render([], stem), "mark-other": fw.render([], stem + "x"),
                "foreign": "table inet mine {}\n", "mark-late": "#\n" + fw.render([], stem), "empty": ""}[kind]
        (rules / fname).write_text(text)
        if kind == "mark-self":
            expected.append((fname, stem))
    outcome, value = clean_call(fw.prune_candidates, str(rules), set())
    assert outcome == "ok"
    candidates, kept = value
    assert sorted(candidates) == sorted(expected)
    assert len(kept) == len([n for n in os.listdir(rules) if n.endswith(".nft")]) - len(expected)
