"""conf_files: the collection's marker on the directories it makes, and removal of only what carries it (issue 20).
Everything on a temporary tree."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import conf_files as cf
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


def deployed(root, name="wcs-1", marked=True, extra=()):
    """A container's directories as wcs_config leaves them (marked, or as a release before the marker did)."""
    conf = root / name / "conf"
    conf.mkdir(parents=True)
    for fname in cf.PROPERTY_FILES + tuple(extra):
        (conf / fname).write_text("x=1\n")
    if marked:
        (conf / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONF, name))
        (root / name / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONTAINER, name))
    return str(conf)


def apply(containers, extra=()):
    steps, kept = cf.plan_removal(containers, extra)
    return steps, kept + cf.apply_removal(steps)


def test_marker_names_owner_kind_and_container_and_is_read_back(tmp_path):
    (tmp_path / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONF, "wcs-1"))
    assert json.loads((tmp_path / cf.MARKER).read_text()) == {
        "owner": "mediaops.wcs", "kind": "conf", "container": "wcs-1"}
    assert cf.read_marker(str(tmp_path))["container"] == "wcs-1"


@pytest.mark.parametrize("content", ['{"owner": "someone"}', "not json", "[1]", "{" * 5000, '"mediaops.wcs"', ""])
def test_a_marker_file_that_is_not_the_collections_is_no_marker(tmp_path, content):
    (tmp_path / cf.MARKER).write_text(content)
    assert cf.read_marker(str(tmp_path)) is None


def test_a_symlinked_marker_is_no_marker(tmp_path):
    real = tmp_path / "elsewhere"
    real.write_text(cf.marker_text(cf.KIND_CONF, "wcs-1"))
    (tmp_path / "d").mkdir()
    os.symlink(real, tmp_path / "d" / cf.MARKER)
    assert cf.read_marker(str(tmp_path / "d")) is None


def test_removal_takes_the_managed_files_then_the_marked_directories(tmp_path):
    conf = deployed(tmp_path, extra=("wss.jks",))
    steps, kept = apply([("wcs-1", conf)], ["wss.jks"])
    assert kept == []
    assert [a for a, _p, _n in steps] == ["unlink"] * 4 + ["rmdir", "unlink", "rmdir"]
    assert os.listdir(tmp_path) == []  # the conf root itself is never the collection's to remove


def test_an_unmarked_directory_is_never_removed_and_says_why(tmp_path):
    conf = deployed(tmp_path, marked=False)
    before = sorted(os.listdir(conf))
    steps, kept = apply([("wcs-1", conf)])
    assert steps == [] and sorted(os.listdir(conf)) == before
    assert [k["path"] for k in kept] == [conf, os.path.dirname(conf)]
    assert "no .mediaops-wcs marker" in kept[0]["reason"] and "state=present" in kept[0]["reason"]


def test_other_files_keep_the_directory_and_its_marker(tmp_path):
    conf = deployed(tmp_path)
    (tmp_path / "wcs-1" / "conf" / "notes.txt").write_text("mine")
    (tmp_path / "wcs-1" / "conf" / "sub").mkdir()
    steps, kept = apply([("wcs-1", conf)])
    assert sorted(os.listdir(conf)) == [cf.MARKER, "notes.txt", "sub"]
    assert "notes.txt, sub" in kept[0]["reason"]
    assert kept[1]["path"] == str(tmp_path / "wcs-1") and "still holds conf" in kept[1]["reason"]
    (tmp_path / "wcs-1" / "conf" / "notes.txt").unlink()
    (tmp_path / "wcs-1" / "conf" / "sub").rmdir()
    assert apply([("wcs-1", conf)])[1] == []  # the marker stayed: a later run finishes the job
    assert os.listdir(tmp_path) == []


def test_a_managed_name_that_is_a_directory_is_not_taken(tmp_path):
    conf = deployed(tmp_path)
    os.unlink(os.path.join(conf, cf.PROPERTY_FILES[0]))
    os.mkdir(os.path.join(conf, cf.PROPERTY_FILES[0]))
    apply([("wcs-1", conf)])
    assert os.path.isdir(os.path.join(conf, cf.PROPERTY_FILES[0]))


def test_a_marker_for_another_container_or_kind_keeps_the_directory(tmp_path):
    conf = deployed(tmp_path)
    _steps, kept = apply([("wcs-2", conf)])
    assert os.path.isdir(conf) and "'wcs-1'" in kept[0]["reason"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONF, "x"))
    _steps, kept = apply([("wcs-3", str(tmp_path / "other" / "conf"))])
    assert (tmp_path / "other").is_dir() and "is a conf directory" in kept[0]["reason"]


def test_symlinks_are_never_followed_or_removed_as_directories(tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "data").write_text("keep")
    (target / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONF, "wcs-1"))
    (tmp_path / "wcs-1").mkdir()
    os.symlink(target, tmp_path / "wcs-1" / "conf")
    _steps, kept = apply([("wcs-1", str(tmp_path / "wcs-1" / "conf"))])
    assert (target / "data").read_text() == "keep" and os.path.islink(tmp_path / "wcs-1" / "conf")
    assert "symbolic link" in kept[0]["reason"]


def test_a_shared_parent_goes_only_with_its_last_conf_directory(tmp_path):
    c1, c2 = deployed(tmp_path, "wcs-1"), str(tmp_path / "wcs-1" / "conf2")
    os.mkdir(c2)
    (tmp_path / "wcs-1" / "conf2" / cf.MARKER).write_text(cf.marker_text(cf.KIND_CONF, "wcs-2"))
    _steps, kept = apply([("wcs-1", c1)])
    assert (tmp_path / "wcs-1").is_dir() and "conf2" in kept[-1]["reason"]
    assert apply([("wcs-1", c1), ("wcs-2", c2)])[1] == []
    assert os.listdir(tmp_path) == []


def test_something_appearing_after_the_plan_is_never_taken(tmp_path):
    conf = deployed(tmp_path)
    steps, _kept = cf.plan_removal([("wcs-1", conf)])
    (tmp_path / "wcs-1" / "conf" / "late.txt").write_text("appeared meanwhile")
    kept = cf.apply_removal(steps)
    assert (tmp_path / "wcs-1" / "conf" / "late.txt").read_text() == "appeared meanwhile"
    assert [k["path"] for k in kept] == [conf, str(tmp_path / "wcs-1")]


def test_marks_for_new_directories_and_for_exactly_managed_old_ones(tmp_path):
    new = str(tmp_path / "wcs-new" / "conf")
    old = deployed(tmp_path, "wcs-old", marked=False, extra=("wss.jks",))
    mixed = deployed(tmp_path, "wcs-mixed", marked=False)
    (tmp_path / "wcs-mixed" / "conf" / "mine.txt").write_text("x")
    (tmp_path / "wcs-mixed" / "backup").mkdir()
    done = deployed(tmp_path, "wcs-done")
    marks = cf.plan_marks([("wcs-new", new), ("wcs-old", old), ("wcs-mixed", mixed), ("wcs-done", done)],
                          ["wss.jks"])
    assert marks == {new: ("conf", "wcs-new"), str(tmp_path / "wcs-new"): ("container", "wcs-new"),
                     old: ("conf", "wcs-old"), str(tmp_path / "wcs-old"): ("container", "wcs-old")}
    # without the keystore's name the old conf directory holds something unknown: not marked
    assert old not in cf.plan_marks([("wcs-old", old)])
    # a .mediaops-wcs that is not the collection's marker is someone's file: never overwritten by a marker
    (tmp_path / "wcs-old" / "conf" / cf.MARKER).write_text("my notes\n")
    assert old not in cf.plan_marks([("wcs-old", old)], ["wss.jks"])


def test_untouchable_directories(tmp_path):
    assert cf.untouchable("/") and cf.untouchable("/usr") and cf.untouchable("/etc")
    assert "mount point" in cf.untouchable("/proc") or "system directory" in cf.untouchable("/proc")
    os.symlink(tmp_path, tmp_path / "link")
    assert "symbolic link" in cf.untouchable(str(tmp_path / "link"))
    assert cf.untouchable(str(tmp_path)) is None


@pytest.mark.parametrize("name", ["a/b", "..", ".", "", cf.MARKER, "x\n", None, 3])
def test_managed_file_names_are_plain_names(name):
    with pytest.raises(PlanError):
        cf.check_file_names([name], "managed_files")
    assert cf.check_file_names(["wss.jks"], "managed_files") == ["wss.jks"]
